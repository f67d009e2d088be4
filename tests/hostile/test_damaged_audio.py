"""Issue 13, class "no silent nonsense" for audio: what a crashed recorder leaves, DC offsets, cancelling
channels, and a seeded fuzz of damaged WAV headers (every outcome is audio or an AudioError)."""

from __future__ import annotations

import io
import random
import struct

import numpy as np
import pytest
import soundfile as sf

from engine.audio.importer import import_files
from engine.audio.io import probe, read_audio
from engine.audio.quality import analyse_file, has_speech
from engine.errors import AudioError
from engine.session import Session
from engine.studio import Studio

SEED = 1313


def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytearray:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, subtype=subtype, format="WAV")
    return bytearray(buf.getvalue())


def _zero_sizes(data: bytearray, *, riff_id: bool = False) -> bytearray:
    """The RIFF and data sizes zeroed (a recorder killed before it finalised the header)."""
    out = bytearray(data)
    out[4:8] = b"\0\0\0\0"
    at = out.find(b"data")
    out[at + 4 : at + 8] = b"\0\0\0\0"
    if riff_id:
        out[0:4] = b"\0\0\0\0"
    return out


def _session(tmp_path) -> Session:
    return Session.create(Studio(tmp_path / "studio"), "en", [], device=None, samplerate=0, script_name="x")


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize("riff_id", [False, True])
def test_a_zeroed_header_falls_back_to_our_wav_parser(tmp_path, speech, subtype, riff_id):
    samples, rate = speech
    path = tmp_path / "crashed.wav"
    path.write_bytes(_zero_sizes(_wav(samples, rate, subtype), riff_id=riff_id))
    with pytest.raises(sf.LibsndfileError if riff_id else AssertionError):
        assert sf.info(str(path)).frames == 0  # what libsndfile alone makes of it
        raise AssertionError
    info = probe(path)
    assert info.repaired is not None and info.frames == samples.size
    audio = read_audio(path)
    np.testing.assert_allclose(audio.samples, samples, atol=1e-4)
    assert "repaired" in info.describe()


def test_a_zeroed_header_is_checked_and_imported(tmp_path, speech):
    samples, rate = speech
    path = tmp_path / "crashed.wav"
    path.write_bytes(_zero_sizes(_wav(np.concatenate([samples] * 3), rate)))
    report = analyse_file(path, learned=False)
    assert report.get("speech").verdict != "fail" and report.seconds == pytest.approx(3 * samples.size / rate)
    session = _session(tmp_path)
    result = import_files(session, [path])
    assert not result.errors and result.files and result.seconds > 5.0


@pytest.mark.parametrize("offset", [0.2, -0.35, 0.5])
def test_speech_with_a_dc_offset_is_found_on_import(tmp_path, speech, offset):
    samples, rate = speech
    long = np.concatenate([samples, np.zeros(rate // 2, np.float32), samples]) * 0.4 + offset
    path = tmp_path / "offset.wav"
    sf.write(path, long.astype(np.float32), rate, subtype="FLOAT")
    session = _session(tmp_path)
    result = import_files(session, [path])
    assert not result.errors, [e.message for _, e in result.errors]
    assert result.seconds > 0.8 * (2 * samples.size / rate)
    assert analyse_file(path, learned=False).get("speech").verdict != "fail"


def test_stereo_whose_channels_cancel_uses_the_louder_channel(tmp_path, speech):
    samples, rate = speech
    stereo = np.stack([samples, -0.9 * samples], axis=1)
    path = tmp_path / "cancel.wav"
    sf.write(path, stereo, rate, subtype="PCM_24")
    mono = read_audio(path).samples
    np.testing.assert_allclose(mono, samples, atol=1e-4)  # the louder (left) channel, not the near-silent mix
    assert has_speech(mono, rate)
    normal = tmp_path / "normal.wav"
    sf.write(normal, np.stack([samples, samples], axis=1), rate, subtype="PCM_24")
    np.testing.assert_allclose(read_audio(normal).samples, samples, atol=1e-4)  # an ordinary mixdown


def _mutations(base: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Damaged copies of a WAV: header fields overwritten, bytes flipped, cut short, junk chunks."""
    out: list[bytes] = []
    for _ in range(count):
        data = bytearray(base)
        kind = rng.randrange(6)
        if kind == 0:  # a size or format field set to an extreme
            field = rng.choice([4, 16, 20, 22, 24, 28, 32, 34, 40])
            width = 2 if field in (20, 22, 32, 34) else 4
            value = rng.choice([0, 1, 3, 0xFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)])
            value &= (1 << (8 * width)) - 1
            data[field : field + width] = value.to_bytes(width, "little")
        elif kind == 1:  # random bytes in the header
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(44)] = rng.randrange(256)
        elif kind == 2:  # cut anywhere
            data = data[: rng.randrange(len(data))]
        elif kind == 3:  # a chunk of junk inserted after the format chunk
            junk = b"junk" + struct.pack("<I", rng.randrange(1 << 32)) + bytes(rng.randrange(64))
            data = data[:36] + junk + data[36:]
        elif kind == 4:  # sizes zeroed, then damaged further
            data = _zero_sizes(data)
            data[rng.randrange(12, 44)] = rng.randrange(256)
        else:  # the whole header random
            data[:44] = bytes(rng.randrange(256) for _ in range(44))
        out.append(bytes(data))
    return out


def test_fuzzed_wav_headers_read_or_give_an_audio_error(tmp_path, speech):
    samples, rate = speech
    base = bytes(_wav(samples[: rate // 2], rate))
    outcomes = {"read": 0, "refused": 0}
    for i, data in enumerate(_mutations(base, random.Random(SEED), 200)):
        path = tmp_path / f"fuzz{i:03d}.wav"
        path.write_bytes(data)
        try:
            audio = read_audio(path)
        except AudioError:
            outcomes["refused"] += 1
        else:
            assert audio.samples.dtype == np.float32 and np.isfinite(audio.samples).all()
            assert np.abs(audio.samples).max() <= 1.0
            outcomes["read"] += 1
        path.unlink()
    assert outcomes["read"] > 20 and outcomes["refused"] > 20, outcomes
