"""Importing recordings: every format and rate, long files, and every kind of bad file, never losing takes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf
from quality_audio import run

from engine.audio.importer import NoSpeechFound, import_files
from engine.audio.io import UnreadableAudio, read_audio
from engine.audio.quality import analyse_file
from engine.audio.slicer import speech_mask
from engine.session import Session
from engine.studio import Studio
from tui.cli import main as cli_main


@pytest.fixture(scope="module")
def speech(voices):
    x, sr = sf.read(str(voices["clean"]), dtype="float32")
    return x, sr


@pytest.fixture(scope="module")
def long_speech(voices, tmp_path_factory):
    """About 40 s of continuous reading with 0.5 s of silence at each end, 44.1 kHz."""
    d = tmp_path_factory.mktemp("long")
    raw = d / "raw.wav"
    text = (
        "The north wind and the sun were disputing which was the stronger, when a traveler came along "
        "wrapped in a warm cloak. They agreed that the one who first succeeded in making the traveler "
        "take his cloak off should be considered stronger than the other. Then the north wind blew as "
        "hard as he could, but the more he blew the more closely did the traveler fold his cloak around "
        "him; and at last the north wind gave up the attempt. Then the sun shined out warmly, and "
        "immediately the traveler took off his cloak."
    )
    run("espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text)
    out = d / "long.wav"
    run("sox", str(raw), "-r", "44100", "-b", "16", str(out), "pad", "0.5", "0.5", "gain", "-3")
    return out


@pytest.fixture
def session(tmp_path):
    return Session.create(
        Studio(tmp_path / "studio"), "en", [], device=None, samplerate=0, script_name="imported"
    )


def fingerprint(session: Session) -> tuple[str, dict]:
    """Hashes of the existing take files plus their session.json entries."""
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((session.dir / "takes").glob("*.wav"))
    }
    entries = json.loads((session.dir / "session.json").read_text())["takes"]
    return json.dumps(files, sort_keys=True), {t["id"]: t for t in entries}


FORMATS = [
    ("WAV", "PCM_16", 8000, 1),
    ("WAV", "PCM_16", 16000, 1),
    ("WAV", "PCM_U8", 22050, 1),
    ("WAV", "PCM_24", 44100, 2),
    ("WAV", "FLOAT", 48000, 1),
    ("WAV", "PCM_32", 96000, 6),
    ("WAV", "PCM_16", 192000, 1),
    ("FLAC", "PCM_16", 48000, 2),
    ("FLAC", "PCM_24", 96000, 1),
    ("OGG", "VORBIS", 48000, 1),
    ("OGG", "VORBIS", 22050, 2),
    ("MP3", "MPEG_LAYER_III", 44100, 1),
    ("MP3", "MPEG_LAYER_III", 16000, 2),
]


@pytest.mark.parametrize(("fmt", "subtype", "rate", "channels"), FORMATS)
def test_every_format_rate_and_layout_imports(speech, session, tmp_path, fmt, subtype, rate, channels):
    from engine.audio.io import resample

    x, sr = speech
    y = resample(x, sr, rate)
    data = np.stack([y * (0.5 if c else 1.0) for c in range(channels)], axis=1) if channels > 1 else y
    src = tmp_path / f"clip.{fmt.lower()}"
    sf.write(str(src), data, rate, format=fmt, subtype=subtype)
    result = import_files(session, [src])
    assert not result.errors, result.errors
    assert len(result.take_ids) == 1
    assert not result.files[0].truncated  # an MP3's estimated length is not "ends early"
    take = session.takes[0]
    assert take.source == "imported" and take.status == "recorded" and take.text == ""
    audio = read_audio(session.take_path(0))
    assert audio.info.channels == 1 and audio.samplerate == min(rate, 48000)
    assert 7.0 < audio.seconds < 8.2  # 8 s clip, edges trimmed to at most 0.2 s of silence
    assert np.isfinite(audio.samples).all()
    assert any("no transcript" in n for n in result.notes)


def test_long_file_is_cut_at_pauses_into_2_to_12_s_takes(long_speech, session):
    result = import_files(session, [long_speech])
    assert not result.errors
    total = sf.info(str(long_speech)).duration
    assert len(result.take_ids) >= 3
    kept = 0.0
    for index in range(len(session.takes)):
        x, sr = sf.read(str(session.take_path(index)), dtype="float32")
        seconds = x.size / sr
        kept += seconds
        assert 2.0 <= seconds <= 12.6, seconds  # 12 s of speech plus up to 0.2 s at each edge
        hop = sr // 100
        levels = 10 * np.log10(np.mean(x[: x.size // hop * hop].reshape(-1, hop) ** 2, axis=1) + 1e-12)
        voiced = speech_mask(levels)
        lead, trail = np.argmax(voiced) * 0.01, np.argmax(voiced[::-1]) * 0.01
        # never inside a word: each take starts and ends in silence, keeping 100-300 ms of it
        assert 0.09 <= lead <= 0.31 and 0.09 <= trail <= 0.31, (index, lead, trail)
        # clean speech cut tightly (few pauses) must not read as noisy
        report = analyse_file(session.take_path(index), learned=False)
        assert report.get("snr").verdict == "ok" and report.get("noise_floor").verdict == "ok", index
    assert kept > 0.85 * total


def test_thirty_minute_file(voices, session, tmp_path):
    long = tmp_path / "long30.wav"
    run("sox", str(voices["clean"]), "-r", "16000", str(long), "repeat", "224", "trim", "0", "1800")
    assert sf.info(str(long)).duration == pytest.approx(1800)
    result = import_files(session, [long])
    assert not result.errors
    assert len(result.take_ids) > 100
    assert result.seconds > 0.9 * 1800
    assert all(t.seconds <= 12.6 for t in session.takes)
    again = Session.load(Studio(session.dir.parent.parent), session.id)
    assert len(again.takes) == len(result.take_ids)


def write_bad_files(tmp_path, speech):
    x, sr = speech
    bad = {}
    bad["silence"] = tmp_path / "silence.wav"
    sf.write(str(bad["silence"]), np.zeros(sr * 5, np.float32), sr)
    bad["empty"] = tmp_path / "empty.wav"
    bad["empty"].write_bytes(b"")
    bad["header_only"] = tmp_path / "header_only.wav"
    sf.write(str(bad["header_only"]), np.zeros(0, np.float32), sr)
    bad["text"] = tmp_path / "notes.wav"
    bad["text"].write_text("these are my notes, not audio\n" * 20)
    bad["garbage"] = tmp_path / "garbage.flac"
    bad["garbage"].write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    bad["missing"] = tmp_path / "missing.wav"
    return bad


@pytest.mark.parametrize("name", ["silence", "empty", "header_only", "text", "garbage", "missing"])
def test_bad_files_give_clear_errors_and_change_nothing(speech, session, tmp_path, name):
    bad = write_bad_files(tmp_path, speech)
    before = fingerprint(session)
    result = import_files(session, [bad[name]])
    assert not result.files and len(result.errors) == 1
    path, exc = result.errors[0]
    assert isinstance(exc, NoSpeechFound if name == "silence" else UnreadableAudio)
    assert path.name in exc.message and exc.hint
    assert fingerprint(session) == before and session.takes == []


def test_truncated_file_keeps_the_readable_part(speech, session, tmp_path):
    x, sr = speech
    full = tmp_path / "full.wav"
    sf.write(str(full), x, sr, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])  # header still says 8 s
    result = import_files(session, [cut])
    assert not result.errors and result.take_ids
    assert 2.0 < result.seconds < 4.5


def test_nan_samples_are_repaired(speech, session, tmp_path):
    x, sr = speech
    y = x.copy()
    y[sr * 2 : sr * 2 + 100] = np.nan
    y[sr * 3] = np.inf
    src = tmp_path / "nan.wav"
    sf.write(str(src), y, sr, subtype="FLOAT")
    result = import_files(session, [src])
    assert result.files[0].bad_samples == 101
    take, _ = sf.read(str(session.take_path(0)), dtype="float32")
    assert np.isfinite(take).all() and take.size > sr * 7


def test_nothing_already_in_the_session_is_lost(speech, long_speech, tmp_path):
    x, sr = speech
    studio = Studio(tmp_path / "studio")
    session = Session.create(
        studio, "en", ["first prompt", "second prompt"], device=None, samplerate=sr, script_name="en"
    )
    sf.write(str(session.take_path(0)), x, sr)
    session.takes[0].status, session.takes[0].seconds = "accepted", x.size / sr
    session.save()
    before_files, before_entries = fingerprint(session)
    paths = list(write_bad_files(tmp_path, speech).values()) + [long_speech]
    result = import_files(session, paths)
    assert len(result.errors) == 6 and len(result.files) == 1
    after_files, after_entries = fingerprint(session)
    assert json.loads(before_files).items() <= json.loads(after_files).items()
    for tid, entry in before_entries.items():
        assert after_entries[tid] == entry
    reloaded = Session.load(studio, session.id)
    assert [t.id for t in reloaded.takes][:2] == ["0001", "0002"]
    assert reloaded.takes[0].status == "accepted" and reloaded.takes[1].status == "pending"
    assert all(t.source == "imported" for t in reloaded.takes[2:]) and len(reloaded.takes) > 3


def test_transcripts_from_ljspeech_metadata_and_plain_lines(voices, session, tmp_path):
    meta = tmp_path / "metadata.csv"
    meta.write_text("clean|The north wind, 1 day.|The north wind, one day.\nclean2|They agreed.|\n")
    result = import_files(session, [voices["clean"], voices["clean2"]], transcripts=meta)
    assert [t.text for t in session.takes] == ["The north wind, one day.", "They agreed."]
    assert not result.notes
    lines = tmp_path / "lines.txt"
    lines.write_text("first line\nsecond line\n")
    import_files(session, [voices["clean"], voices["clean2"]], transcripts=lines)
    assert [t.text for t in session.takes[2:]] == ["first line", "second line"]
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("only one line\n")
    result = import_files(session, [voices["clean"], voices["clean2"]], transcripts=wrong)
    assert [t.text for t in session.takes[4:]] == ["", ""] and "none were applied" in result.notes[0]


def test_cli_import_then_check(voices, tmp_path, capsys):
    home = tmp_path / "home"
    code = cli_main(
        ["--home", str(home), "import", str(voices["clean"]), str(voices["silence"]), "--session", "mine"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "1 take(s) added" in out and "No speech found in silence.wav" in out
    session = Session.load(Studio(home), "mine")
    assert session.takes[0].quality is not None  # the import ran the quality check
    code = cli_main(["--home", str(home), "check", str(voices["noisy10"])])
    out = capsys.readouterr().out
    assert code == 1 and "Signal to noise" in out and "✗" in out
    code = cli_main(["--home", str(home), "check", "mine"])
    out = capsys.readouterr().out
    assert "Session mine" in out and "0001" in out
    # the session folder as a path works from anywhere, without --home
    assert cli_main(["check", str(home / "recordings" / "mine")]) in (0, 1)
    assert "Session mine" in capsys.readouterr().out
    assert cli_main(["--home", str(home), "check", "nosuch"]) == 2
    code = cli_main(["--home", str(home), "import", str(voices["silence"]), "--session", "empty"])
    assert code == 2 and not (home / "recordings" / "empty").exists()


def test_a_failing_disk_mid_file_keeps_the_takes_written(long_speech, session, monkeypatch):
    import engine.audio.importer as importer

    real = importer.write_wav
    calls = []

    def flaky(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(importer, "write_wav", flaky)
    result = import_files(session, [long_speech])
    assert len(result.errors) == 1 and "No space left" in result.errors[0][1].message
    reloaded = Session.load(Studio(session.dir.parent.parent), session.id)
    assert [t.id for t in reloaded.takes] == ["0001", "0002"]
    assert all(reloaded.take_path(i).is_file() for i in range(2))


def test_an_mp3_whose_header_length_is_an_estimate_is_not_called_truncated(voices, session, tmp_path):
    src = tmp_path / "sox.mp3"
    run("sox", str(voices["clean"]), "-r", "44100", str(src))  # lame's header is ~40 ms long
    result = import_files(session, [src])
    assert result.files and not result.files[0].truncated
    assert analyse_file(src, learned=False).get("samples") is None
