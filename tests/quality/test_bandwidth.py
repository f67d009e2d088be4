"""Bandwidth tells a real cut-off (energy that stays down above it) from a dip in the voice's own spectrum.

A sentence without s/sh/f sounds drops 20–40 dB near 4 kHz and rises again towards 6–7 kHz; the
old check read that dip as "up to 4.0 kHz, telephone quality" (en "Mama made…", en-us/de "I really
love you all", cmn-latn-pinyin "ni hao…" all failed). Copies really band-limited to a telephone
channel (sox ``lowpass 3400`` and 8 kHz, or 8 kHz alone) must still fail, 16 kHz audio must warn.
"""

from __future__ import annotations

import pytest
from quality_audio import RATE, run, speak

from engine.audio.quality import analyse_file

TEXTS = {
    "sonorant": "Mama made a lovely melon meal, and we all ran on along the rim.",
    "short": "I really love you all",
    "pinyin": "ni hao ma wo hen hao",
    "fricatives": "She sells six thick shellfish, so she says.",
}
VOICES = ["en", "en-us", "en-gb+f3", "de", "cmn-latn-pinyin", "en+m1", "fr"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Every voice reading every text, 32 kHz (espeak-ng itself stops at 11 kHz)."""
    d = tmp_path_factory.mktemp("bandwidth")
    return {
        (voice, key): speak(d, f"{voice.replace('+', '_')}_{key}", text, voice=voice)
        for voice in VOICES
        for key, text in TEXTS.items()
    }


def bandwidth(path):
    return analyse_file(path, learned=False).get("bandwidth")


@pytest.mark.parametrize("voice", VOICES)
def test_clean_speech_of_every_voice_passes(clips, voice):
    for key in TEXTS:
        check = bandwidth(clips[voice, key])
        assert check.verdict == "ok", (voice, key, check.figure)
        assert 10000 <= check.value <= RATE / 2, (voice, key, check.value)


@pytest.mark.parametrize("voice", ["en", "en-us", "de", "cmn-latn-pinyin"])
def test_telephone_band_copies_fail_and_16k_warns(clips, tmp_path, voice):
    for key in ("sonorant", "fricatives"):
        src = clips[voice, key]
        phone = tmp_path / f"{key}_phone.wav"  # low-passed at 3.4 kHz, through 8 kHz and back
        run("sox", str(src), "-r", "8000", str(tmp_path / "p8.wav"), "lowpass", "3400")
        run("sox", str(tmp_path / "p8.wav"), "-r", str(RATE), str(phone))
        narrow = tmp_path / f"{key}_8k.wav"  # 8 kHz and back, nothing else
        run("sox", str(src), "-r", "8000", str(tmp_path / "n8.wav"))
        run("sox", str(tmp_path / "n8.wav"), "-r", str(RATE), str(narrow))
        steep = tmp_path / f"{key}_sinc.wav"  # a steep FIR low-pass at 3.4 kHz, at 32 kHz throughout
        run("sox", str(src), str(steep), "sinc", "-3400")
        for path in (phone, narrow, steep):
            check = bandwidth(path)
            assert check.verdict == "fail" and 3000 <= check.value <= 4100, (voice, path.name, check.figure)
        wide = tmp_path / f"{key}_16k.wav"
        run("sox", str(src), "-r", "16000", str(tmp_path / "w16.wav"))
        run("sox", str(tmp_path / "w16.wav"), "-r", str(RATE), str(wide))
        check = bandwidth(wide)
        assert check.verdict == "warn" and 7000 <= check.value <= 8100, (voice, check.figure)
