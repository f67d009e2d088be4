"""Which takes are training data (Session.training_takes), takes cut short, and speech seconds."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import soundfile as sf

from engine.audio.recorder import TakeResult
from engine.session import Session, left_out_lines, list_sessions
from engine.studio import Studio

RATE = 16000
PROMPTS = ["One sentence.", "Two sentences.", "Three.", "Four.", "Five."]


@pytest.fixture
def studio(tmp_path) -> Studio:
    return Studio(tmp_path / "studio")


def _new(studio: Studio) -> Session:
    return Session.create(
        studio, "en", PROMPTS, device=None, samplerate=RATE, script_name="t", session_id="s"
    )


def _speech_like(lead_s: float, speech_s: float, trail_s: float, seed: int = 0) -> np.ndarray:
    """Faint noise, a burst of loud modulated noise (the "speech"), faint noise again."""
    rng = np.random.default_rng(seed)
    n = int((lead_s + speech_s + trail_s) * RATE)
    x = rng.normal(0.0, 0.0005, n).astype(np.float32)
    a, b = int(lead_s * RATE), int((lead_s + speech_s) * RATE)
    t = np.arange(b - a) / RATE
    x[a:b] += (0.2 * rng.normal(0.0, 1.0, b - a) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    return np.clip(x, -1, 1)


def _take(session: Session, index: int, x: np.ndarray, *, interrupted: str | None = None) -> None:
    path = session.take_path(index)
    sf.write(path, x, RATE, subtype="PCM_16")
    session.record_result(
        index, TakeResult(path, len(x) / RATE, len(x), RATE, 0, 0, -6.0), interrupted=interrupted
    )


def _reasons(session: Session) -> dict[str, str]:
    return {take.id: why for take, why in session.training_takes()[1]}


def test_speech_seconds_are_stored_and_count_toward_the_goal(studio):
    session = _new(studio)
    _take(session, 0, _speech_like(1.5, 2.0, 1.5))  # 5 s take, 2 s of speech
    take = session.takes[0]
    assert take.seconds == pytest.approx(5.0)
    assert 2.0 <= take.speech_seconds <= 2.6  # the speech plus the 0.2 s the clean copy keeps each side
    stored = json.loads((session.dir / "session.json").read_text())["takes"][0]
    assert stored["speech_seconds"] == take.speech_seconds  # measured once, when recorded
    session.set_status(0, "accepted")
    assert session.accepted_seconds == pytest.approx(take.speech_seconds)  # not the 5 s length
    assert session.training_seconds == pytest.approx(take.speech_seconds)
    assert list_sessions(studio)[0].accepted_seconds == pytest.approx(take.speech_seconds)


def test_old_sessions_get_speech_seconds_when_loaded(studio):
    session = _new(studio)
    _take(session, 0, _speech_like(1.0, 1.0, 1.0))
    data = json.loads((session.dir / "session.json").read_text())
    del data["takes"][0]["speech_seconds"]  # written before the field existed (or by an import)
    (session.dir / "session.json").write_text(json.dumps(data))
    loaded = Session.load(studio, "s")
    assert 1.0 <= loaded.takes[0].speech_seconds <= 1.6
    assert "speech_seconds" in json.loads((session.dir / "session.json").read_text())["takes"][0]


def test_the_one_rule_for_training_takes(studio):
    session = _new(studio)
    for index in range(4):
        _take(session, index, _speech_like(0.5, 2.0, 0.5, seed=index))
    session.set_status(0, "accepted")
    session.set_status(1, "accepted")
    session.takes[1].quality = {"verdict": "fail", "checks": [
        {"key": "clipping", "label": "Clipping", "figure": "2.0 %", "verdict": "fail"},
        {"key": "peak", "label": "Peak", "figure": "0.0 dBFS", "verdict": "warn"},
    ]}  # fmt: skip
    session.set_status(2, "rejected")
    session.set_status(4, "skipped")
    included, excluded = session.training_takes()
    assert [t.id for t in included] == ["0001"]
    reasons = {take.id: why for take, why in excluded}
    assert reasons == {
        "0002": "failed the quality check (Clipping: 2.0 %)",  # accepted, yet it does not vanish silently
        "0003": "rejected",
        "0004": "not reviewed: accept it to train on it",
        "0005": "skipped",
    }
    assert (session.dir / "metadata.csv").read_text() == "0001|One sentence.\n"
    session.set_text(0, "")
    assert _reasons(session)["0001"].startswith("no transcript")
    session.take_path(3).unlink()
    assert _reasons(session)["0004"] == "audio file missing"


def test_left_out_lines_name_every_take():
    from engine.session import Take

    takes = [Take(f"{n:04d}", "t", "pending") for n in range(3, 9)]
    excluded = [(takes[0], "not reviewed"), *((t, "not recorded yet") for t in takes[1:4])]
    excluded += [(takes[4], "skipped"), (takes[5], "not recorded yet")]
    assert left_out_lines(excluded) == [
        "0003: not reviewed",
        "0004–0006, 0008: not recorded yet",
        "0007: skipped",
    ]


@pytest.mark.parametrize("how", ["quit", "device"])
def test_a_take_cut_short_stays_out_until_the_person_acts(studio, how):
    session = _new(studio)
    _take(session, 0, _speech_like(0.5, 1.0, 0.0), interrupted=how)
    take = session.takes[0]
    assert take.cut_short and take.interrupted == how
    assert json.loads((session.dir / "session.json").read_text())["takes"][0]["interrupted"] == how
    assert _reasons(session)["0001"].startswith("cut short (")
    assert session.resume_index() == 0 and session.cut_short_indices() == [0]
    session.set_status(0, "accepted")  # accepting it explicitly is the person's word that it is fine
    assert not session.takes[0].cut_short and session.takes[0].interrupted is None
    assert [t.id for t in session.training_takes()[0]] == ["0001"]


def test_editing_the_transcript_or_recording_again_clears_cut_short(studio):
    session = _new(studio)
    _take(session, 0, _speech_like(0.5, 1.0, 0.0), interrupted="quit")
    _take(session, 1, _speech_like(0.5, 1.0, 0.0), interrupted="quit")
    session.set_text(0, "One")  # trimmed to what was said before the take was cut short
    assert not session.takes[0].cut_short and _reasons(session)["0001"].startswith("not reviewed")
    _take(session, 1, _speech_like(0.5, 2.0, 0.5))  # recorded again, to the end
    assert session.takes[1].interrupted is None and not session.cut_short_indices()
    with pytest.raises(ValueError):
        _take(session, 2, _speech_like(0.5, 1.0, 0.5), interrupted="bored")


def _write_partial(path, data: np.ndarray) -> None:
    """A WAV as a crash leaves it: samples on disk, RIFF/data sizes never filled in."""
    sf.write(path, data, RATE, subtype="PCM_16", format="WAV")
    raw = bytearray(path.read_bytes())
    data_at = raw.index(b"data")
    raw[4:8] = struct.pack("<I", 0)
    raw[data_at + 4 : data_at + 8] = struct.pack("<I", 0)
    path.write_bytes(bytes(raw))


def test_a_take_recovered_after_a_crash_is_marked_and_resumed_first(studio):
    session = _new(studio)
    _take(session, 0, _speech_like(0.5, 2.0, 0.5))
    session.set_status(0, "accepted")
    _write_partial(session.dir / "takes" / "0002.partial.wav", _speech_like(0.5, 1.5, 0.0))
    loaded = Session.load(studio, "s")
    take = loaded.takes[1]
    assert take.status == "recorded" and take.interrupted == "crash" and take.cut_short
    assert take.interrupted_text == "recovered after a crash"
    assert take.speech_seconds is not None and take.speech_seconds <= take.seconds
    assert loaded.resume_index() == 1  # the person is put on it, not on the next pending prompt (0003)
    assert loaded.next_pending() == 2
    assert _reasons(loaded)["0002"].startswith("cut short (recovered after a crash)")
    assert Session.load(studio, "s").takes[1].interrupted == "crash"  # saved: the next open says it too
