"""MP3s: a valid file is never "ends early" (its header length is often a guess), a cut one is, and
libmpg123's messages never reach the terminal (checked on file descriptor 2 of a subprocess)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from quality_audio import run

from engine.audio.importer import import_files
from engine.audio.io import probe, read_audio
from engine.audio.quality import analyse_file
from engine.session import Session
from engine.studio import Studio

ROOT = Path(__file__).resolve().parents[2]


def id3v23(*frames: tuple[str, bytes]) -> bytes:
    """An ID3v2.3 tag holding the given (frame id, payload) frames."""
    body = b"".join(fid.encode() + struct.pack(">I", len(data)) + b"\0\0" + data for fid, data in frames)
    n = len(body)
    size = bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
    return b"ID3\x03\x00\x00" + size + body


@pytest.fixture(scope="module")
def mp3s(voices, tmp_path_factory):
    """Constant and variable bit-rate MP3s of clean speech, tagged, damaged and cut."""
    d = tmp_path_factory.mktemp("mp3")
    cbr, vbr = d / "cbr.mp3", d / "vbr.mp3"
    run("sox", str(voices["clean"]), "-r", "44100", str(cbr))  # no Xing header: length is a guess
    run("sox", str(voices["clean"]), "-r", "44100", "-C", "-4.2", str(vbr))  # Xing header: exact
    picture = ("APIC", b"\0image/jpeg\0\x03\0" + os.urandom(300_000))  # cover art, as players add
    title = ("TIT2", b"\0My take")
    out = {"cbr": cbr, "vbr": vbr}
    for name, src in (("cbr", cbr), ("vbr", vbr)):
        out[f"{name}_cover"] = d / f"{name}_cover.mp3"
        out[f"{name}_cover"].write_bytes(id3v23(title, picture) + src.read_bytes())
        out[f"{name}_cut"] = d / f"{name}_cut.mp3"
        out[f"{name}_cut"].write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    out["bad_tag"] = d / "bad_tag.mp3"  # a comment frame in an unknown text encoding: mpg123 complains
    out["bad_tag"].write_bytes(id3v23(title, ("COMM", b"\x09bad")) + cbr.read_bytes())
    return out


@pytest.mark.parametrize("name", ["cbr", "vbr", "cbr_cover", "vbr_cover", "bad_tag"])
def test_valid_mp3s_do_not_end_early(mp3s, name):
    audio = read_audio(mp3s[name])
    assert not audio.truncated
    assert 7.8 < audio.seconds < 8.2 and audio.info.seconds == pytest.approx(audio.seconds, abs=0.05)
    assert analyse_file(mp3s[name], learned=False).get("samples") is None  # no "file ends early"


def test_a_cover_picture_made_the_guessed_length_wrong(mp3s):
    """What the old check compared with: libsndfile's guess for the tagged CBR file is ~46 s."""
    guess = probe(mp3s["cbr_cover"])
    assert not guess.exact and guess.seconds > 30
    assert probe(mp3s["vbr_cover"]).exact  # the Xing header counts the frames


def test_a_cut_mp3_with_a_frame_count_ends_early(mp3s):
    audio = read_audio(mp3s["vbr_cut"])
    assert audio.truncated and audio.seconds < 6
    assert "file ends early" in analyse_file(mp3s["vbr_cut"], learned=False).get("samples").figure
    assert not read_audio(mp3s["cbr_cut"]).truncated  # no count to compare with: a valid shorter file


def test_import_of_a_tagged_mp3(mp3s, tmp_path):
    session = Session.create(Studio(tmp_path), "en", [], device=None, samplerate=0, script_name="imported")
    result = import_files(session, [mp3s["cbr_cover"]])
    assert not result.errors and not result.files[0].truncated
    decoded = read_audio(mp3s["cbr_cover"]).seconds
    assert result.files[0].info.seconds == pytest.approx(decoded, abs=0.01)  # not the 46 s guess


def _fd2_of(code: str) -> tuple[str, bytes]:
    """Run Python code in a subprocess from the repository root; its stdout and its raw fd 2."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, env=env, timeout=300, check=False
    )
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")
    return proc.stdout.decode(), proc.stderr


def test_decoder_messages_stay_off_the_terminal(mp3s):
    path = str(mp3s["bad_tag"])
    _, raw = _fd2_of(f"import soundfile as sf; sf.read({path!r})")
    assert b"libmpg123" in raw  # the decoder does print on fd 2: the test below can fail
    out, err = _fd2_of(
        "from engine.audio.io import read_audio; from engine.audio.importer import import_files\n"
        f"a = read_audio({path!r}); print(a.truncated, round(a.seconds, 1))"
    )
    assert err == b"" and out.split()[0] == "False" and 7.8 < float(out.split()[1]) < 8.2
    out, err = _fd2_of(f"from tui.cli import main; raise SystemExit(main(['check', {path!r}, '--json']))")
    assert err == b"", err.decode(errors="replace")  # onnxruntime is quiet too
    report = json.loads(out)[0]
    assert report["dnsmos"] and not any(c["key"] == "samples" for c in report["checks"])
