"""Consent on record (issue 14): the statement, consent.wav, never training data, required for voices."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine import consent
from engine.session import Session
from engine.studio import Studio

RATE = 16000


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (the CI script must install it)")
        pytest.skip(f"{tool} is not installed")


def _speak(out: Path, text: str, voice: str = "en-us") -> Path:
    _need("espeak-ng")
    _need("sox")
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True, timeout=30)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-b", "16", str(out)], check=True, timeout=30)
    raw.unlink()
    return out


@pytest.fixture
def session(studio_home, tmp_path):
    """A session of three accepted espeak-ng takes (4-6 s each)."""
    studio = Studio.locate(studio_home).ensure()
    texts = [
        "The quick brown fox jumps over the lazy dog, and then it runs away.",
        "Please call Stella and ask her to bring these things with her from the store.",
        "She sells sea shells by the sea shore on a sunny afternoon in June.",
    ]
    s = Session.create(studio, "en", texts, device=None, samplerate=RATE, script_name="t", session_id="ana")
    for i, text in enumerate(texts):
        _speak(s.take_path(i), text)
        s.takes[i].seconds = sf.info(str(s.take_path(i))).duration
        s.takes[i].status = "recorded"
        s.set_status(i, "accepted")
    return s


@pytest.fixture
def statement(session, tmp_path) -> Path:
    """The consent statement read by the same (espeak-ng en-us) speaker."""
    return _speak(tmp_path / "statement.wav", consent.pending_text(session))


def test_the_statement_names_the_voice_and_date_in_the_session_language():
    en = consent.consent_text("en", "ana", "2026-12-01")
    assert "ana" in en and "2026-12-01" in en and "synthetic voice" in en
    zh = consent.consent_text("zh", "小明", "2026-12-01")
    assert "小明" in zh and "2026-12-01" in zh and "合成声音" in zh
    assert zh != en


def test_start_puts_the_statement_in_session_json_once(session):
    text = consent.start(session)
    assert session.id in text and consent.today() in text
    saved = json.loads((session.dir / "session.json").read_text(encoding="utf-8"))
    assert saved["consent"]["text"] == text and saved["consent"]["file"] is None
    assert consent.start(Session.load(Studio.locate(session.dir.parent.parent), session.id)) == text


def test_without_consent_no_voice_can_be_made(session, studio_home):
    from engine.voice import create_from_session

    with pytest.raises(consent.ConsentMissing) as err:
        create_from_session(Studio.locate(studio_home), "ana", session)
    assert "no consent statement" in err.value.message
    assert f"timbre consent {session.id} --record" in err.value.hint and "--import FILE" in err.value.hint
    assert not (Studio.locate(studio_home).voices / "ana").exists()


def test_consent_take_is_kept_apart_and_never_training_data(session, statement):
    record = consent.import_file(session, statement)
    assert record.path == session.dir / "consent.wav" and record.path.is_file()
    assert record.source == "imported" and record.seconds > 3 and record.verdict != "fail"
    assert record.sha256 == consent.sha256_file(record.path)
    again = Session.load(Studio.locate(session.dir.parent.parent), session.id)
    included, excluded = again.training_takes()
    assert len(included) == 3 and not excluded
    paths = {again.take_path(again.takes.index(t)) for t in included}
    assert record.path not in paths
    metadata = (again.dir / "metadata.csv").read_text(encoding="utf-8")
    assert "consent" not in metadata and consent.pending_text(again) not in metadata
    saved = json.loads((again.dir / "session.json").read_text(encoding="utf-8"))["consent"]
    assert saved["file"] == "consent.wav" and saved["quality"]["checks"] and saved["sha256"] == record.sha256


def test_a_changed_consent_take_is_refused(session, statement):
    consent.import_file(session, statement)
    assert consent.require_consent(session).sha256
    sf.write(consent.consent_path(session), np.zeros(RATE, np.float32), RATE)
    with pytest.raises(consent.ConsentMissing, match="changed after it was recorded"):
        consent.require_consent(session)


def test_voice_json_records_the_consent_take_and_voices_show_displays_it(
    session, statement, studio_home, capsys
):
    from engine.voice import create_from_session
    from tui.cli import main

    record = consent.import_file(session, statement)
    voice = create_from_session(Studio.locate(studio_home), "ana", session)
    (entry,) = voice.extra["consent"]
    assert entry["path"] == str(record.path) and entry["sha256"] == record.sha256
    assert entry["date"] == consent.today() and entry["session"] == session.id
    assert main(["voices", "show", "ana"]) == 0
    out = capsys.readouterr().out
    assert f"consent    {record.path}" in out and record.sha256[:12] in out


def test_speaker_check_same_speaker_and_verdicts(session, statement):
    consent.import_file(session, statement)
    verdict = consent.speaker_check(session)
    assert verdict.similarity is not None and verdict.verdict == "same", verdict
    assert session.consent["similarity"] == pytest.approx(verdict.similarity, abs=1e-3)
    assert consent.judge_similarity(0.9).verdict == "same"
    assert (
        consent.judge_similarity(0.7).verdict == "unsure" and "listen" in consent.judge_similarity(0.7).text
    )
    assert consent.judge_similarity(0.3).verdict == "different"
    assert consent.judge_similarity(None).verdict == "unknown"


def test_speaker_check_flags_another_speaker(session, tmp_path):
    # the statement read by a voice shifted up 7 semitones (formants too): not the speaker of the takes
    same = _speak(tmp_path / "same.wav", consent.pending_text(session))
    other = tmp_path / "other.wav"
    subprocess.run(["sox", str(same), str(other), "pitch", "700"], check=True, timeout=30)
    consent.import_file(session, other)
    verdict = consent.speaker_check(session)
    assert verdict.similarity is not None and verdict.similarity < consent.SAME_SPEAKER
    assert (
        verdict.verdict in ("unsure", "different") and "same speaker" not in verdict.text.split("(")[0][-20:]
    )
    consent.import_file(session, same)
    assert consent.speaker_check(session).similarity > verdict.similarity + 0.15


def test_cli_consent_shows_imports_and_checks(session, statement, capsys):
    from tui.cli import main

    assert main(["consent", session.id]) == 0
    out = capsys.readouterr().out
    assert consent.pending_text(session) in out and "No consent take on record" in out
    assert f"timbre consent {session.id} --record" in out
    assert main(["consent", session.id, "--import", str(statement)]) == 0
    out = capsys.readouterr().out
    assert "imported" in out and "consent.wav" in out and "Speaker check:" in out


def test_training_prepare_requires_consent(session, studio_home, tmp_path):
    from engine.train.data import prepare

    with pytest.raises(consent.ConsentMissing):
        prepare(Studio.locate(studio_home), [session.id], tmp_path / "voice")
