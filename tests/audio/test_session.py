"""Session files on disk (DESIGN §3): create, record results, statuses, metadata, load, list."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from engine.audio.recorder import TakeResult
from engine.errors import StudioError
from engine.session import Session, list_sessions
from engine.studio import Studio

PROMPTS = ["First sentence.", "Second | sentence.", "第三句话。"]


@pytest.fixture
def studio(studio_home):
    return Studio.locate(studio_home)


def _new(studio: Studio, **kw) -> Session:
    args = dict(device="default", samplerate=48000, script_name="builtin:en", session_id="s1")
    args.update(kw)
    return Session.create(studio, "en", PROMPTS, **args)


def _fake_take(session: Session, index: int, seconds: float, peak: float = -3.0) -> TakeResult:
    path = session.take_path(index)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(seconds * session.samplerate)
    sf.write(path, np.zeros(frames, dtype=np.float32), session.samplerate, subtype="PCM_24")
    return TakeResult(path, seconds, frames, session.samplerate, 1, 2, peak)


def test_create_writes_the_session_layout(studio):
    session = _new(studio)
    folder = studio.recordings / "s1"
    assert session.dir == folder
    assert (folder / "takes").is_dir()
    assert (folder / "metadata.csv").read_text() == ""
    data = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert data["language"] == "en" and data["device"] == "default"
    assert data["samplerate"] == 48000 and data["script"] == "builtin:en"
    assert [t["id"] for t in data["takes"]] == ["0001", "0002", "0003"]
    assert {t["status"] for t in data["takes"]} == {"pending"}
    assert data["takes"][2]["text"] == "第三句话。"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_paths(studio):
    session = _new(studio)
    assert session.take_path(0) == session.dir / "takes" / "0001.wav"
    assert session.clean_path(2) == session.dir / "clean" / "0003.wav"
    assert session.room_tone_path() == session.dir / "room_tone.wav"


def test_record_accept_and_metadata(studio):
    session = _new(studio)
    session.record_result(0, _fake_take(session, 0, 4.0))
    take = session.takes[0]
    assert (take.status, take.seconds, take.overflow_count, take.clip_count, take.peak_dbfs) == (
        "recorded",
        4.0,
        1,
        2,
        -3.0,
    )
    assert session.next_pending() == 1
    session.set_status(0, "accepted")
    session.record_result(1, _fake_take(session, 1, 3.0))
    session.set_status(1, "accepted")
    session.set_status(2, "skipped")
    lines = (session.dir / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["0001|First sentence.", "0002|Second sentence."]  # '|' cannot break the format
    assert session.accepted_seconds == 7.0
    assert session.next_pending() is None
    assert session.is_complete  # every prompt handled


def test_complete_at_sixty_seconds(studio):
    session = _new(studio)
    session.record_result(0, _fake_take(session, 0, 61.0))
    assert not session.is_complete
    session.set_status(0, "accepted")
    assert session.is_complete


def test_cannot_accept_a_take_never_recorded(studio):
    session = _new(studio)
    with pytest.raises(StudioError, match="no recording"):
        session.set_status(0, "accepted")
    with pytest.raises(StudioError, match="Unknown take status"):
        session.set_status(0, "great")  # type: ignore[arg-type]


def test_silent_take_peak_is_stored_as_null(studio):
    session = _new(studio)
    session.record_result(0, _fake_take(session, 0, 1.0, peak=-math.inf))
    raw = (session.dir / "session.json").read_text()
    assert "Infinity" not in raw
    assert json.loads(raw)["takes"][0]["peak_dbfs"] is None


def test_add_take_for_imports(studio):
    session = _new(studio)
    index = session.add_take("Imported\nline", source="imported")
    assert index == 3
    assert session.takes[3].id == "0004" and session.takes[3].source == "imported"
    assert session.takes[3].text == "Imported line"


def test_load_round_trip_and_room_tone(studio):
    session = _new(studio)
    session.record_result(0, _fake_take(session, 0, 2.5))
    session.set_status(0, "accepted")
    sf.write(session.room_tone_path(), np.zeros(48000, dtype=np.float32), 48000)
    session.set_room_tone(TakeResult(session.room_tone_path(), 1.0, 48000, 48000, 0, 0, -math.inf))
    loaded = Session.load(studio, "s1")
    assert loaded.takes == session.takes
    assert (loaded.language, loaded.device, loaded.samplerate, loaded.script_name) == (
        "en",
        "default",
        48000,
        "builtin:en",
    )
    assert loaded.room_tone_seconds == 1.0
    assert json.loads((loaded.dir / "session.json").read_text())["room_tone"] == "room_tone.wav"


def test_load_resets_takes_whose_file_vanished(studio):
    session = _new(studio)
    session.record_result(0, _fake_take(session, 0, 2.0))
    session.take_path(0).unlink()
    loaded = Session.load(studio, "s1")
    assert loaded.takes[0].status == "pending" and loaded.takes[0].seconds == 0.0


def test_load_errors(studio):
    with pytest.raises(StudioError, match="no session"):
        Session.load(studio, "missing")
    session = _new(studio)
    (session.dir / "session.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StudioError, match="session.json"):
        Session.load(studio, "s1")
    (session.dir / "session.json").write_text('{"language": "en"}', encoding="utf-8")
    with pytest.raises(StudioError, match="damaged"):
        Session.load(studio, "s1")


def test_duplicate_and_unsafe_names(studio):
    _new(studio)
    with pytest.raises(StudioError, match="already exists"):
        _new(studio)
    escaped = _new(studio, session_id="../../etc")
    assert escaped.dir.parent == studio.recordings


def test_generated_ids_are_unique(studio):
    a = Session.create(studio, "zh", ["一。"], device=None, samplerate=44100, script_name="x")
    b = Session.create(studio, "zh", ["一。"], device=None, samplerate=44100, script_name="x")
    assert a.id != b.id


def test_list_sessions(studio):
    assert list_sessions(studio) == []
    first = _new(studio)
    first.record_result(0, _fake_take(first, 0, 5.0))
    first.set_status(0, "accepted")
    Session.create(
        studio, "zh", ["一。", "二。"], device=None, samplerate=44100, script_name="x", session_id="s2"
    )
    broken = studio.recordings / "s3"
    broken.mkdir()
    (broken / "session.json").write_text("]", encoding="utf-8")
    summaries = list_sessions(studio)
    assert [s.id for s in summaries] == ["s1", "s2"]
    s1 = summaries[0]
    assert (s1.language, s1.takes, s1.accepted, s1.accepted_seconds, s1.complete) == ("en", 3, 1, 5.0, False)


def _main(*argv: str) -> int:
    from tui.cli import main

    return main(list(argv))


def test_cli_record_unattended(mic, studio, capsys):
    code = _main(
        "--home", str(studio.root), "record", "--session", "cli", "--rate", str(mic.rate),
        "--takes", "2", "--seconds", "0.5", "--room-tone", "0.5", "--accept",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    resume = f"Resume with: timbre --home {studio.root} record --session cli"  # the same studio folder
    assert "take 0001" in out and "take 0002" in out and resume in out
    session = Session.load(studio, "cli")
    assert [t.status for t in session.takes[:3]] == ["accepted", "accepted", "pending"]
    assert session.room_tone_path().exists() and session.room_tone_seconds >= 0.5
    for index in (0, 1):
        info = sf.info(str(session.take_path(index)))
        assert info.samplerate == mic.rate and info.frames / info.samplerate >= 0.5
    lines = (session.dir / "metadata.csv").read_text(encoding="utf-8").splitlines()
    included, excluded = session.training_takes()
    assert [line.split("|")[0] for line in lines] == [t.id for t in included]  # one rule for metadata.csv
    # the null-sink microphone records 0.5 s of silence: accepted, checked, failed, and named as left out
    reasons = {t.id: why for t, why in excluded}
    assert reasons["0001"].startswith("failed the quality check (Duration: 0.5 s")
    assert reasons["0003"] == "not recorded yet"


def test_cli_record_interactive_with_own_prompts(mic, studio, tmp_path, monkeypatch, capsys):
    import io
    import sys

    prompts = tmp_path / "mine.txt"
    prompts.write_text("Alpha.\nBeta.\nGamma.\n", encoding="utf-8")
    # consent statement (issue 14): start, stop, keep; take 1: start, stop, accept; take 2: skip;
    # take 3: start, stop, re-record, stop, quit
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n\n\n\n\n\ns\n\n\nr\n\nq\n"))
    code = _main(
        "--home", str(studio.root), "record", "--session", "mine", "--prompts", str(prompts),
        "--rate", str(mic.rate), "--room-tone", "0",
    )  # fmt: skip
    assert code == 0
    session = Session.load(studio, "mine")
    assert [t.text for t in session.takes] == ["Alpha.", "Beta.", "Gamma."]
    assert [t.status for t in session.takes] == ["accepted", "skipped", "recorded"]
    assert session.script_name == f"file:{prompts}"
    assert not session.room_tone_path().exists()
    assert capsys.readouterr().out.count("Recording... press Enter to stop.") == 3


def test_cli_record_bad_prompt_file(studio, tmp_path, mic, capsys):
    code = _main("--home", str(studio.root), "record", "--prompts", str(tmp_path / "missing.txt"))
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
