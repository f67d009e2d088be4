"""Issue 13, class "no silent nonsense": decoded audio that is NaN or silent, references without speech,
text with nothing speakable in its mode, terminal escape sequences, and an overall text length limit."""

from __future__ import annotations

import random

import numpy as np
import pytest
import soundfile as sf
import torch
from hostile_cli import clear, cli

from engine.audio.quality import analyse_file, has_speech
from engine.errors import ModelError, TextError
from engine.synth import (
    ReferenceAudioError,
    Synthesizer,
    SynthParams,
    check_decoded,
    check_reference,
    check_text,
    load_models,
)
from engine.text.input_text import MAX_TEXT_CHARS, TextTooLong, prepare_text
from engine.text.speakable import NothingToSay
from engine.voice import Voice
from engine.weights import locate

SEED = 1313
RATE = 32000


def _signals(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Steady sounds that are not speech: noise of three colours, square and sine waves, a hum."""
    t = np.arange(5 * RATE) / RATE
    white = rng.standard_normal(t.size)
    return {
        "white noise": 0.5 * white / np.abs(white).max(),
        "quiet white noise": 0.01 * white / np.abs(white).max(),
        "full-scale square": np.sign(np.sin(2 * np.pi * 220 * t)),
        "square 50 Hz": 0.9 * np.sign(np.sin(2 * np.pi * 50 * t)),
        "sine": 0.7 * np.sin(2 * np.pi * 440 * t),
        "hum and noise": 0.3 * np.sin(2 * np.pi * 60 * t) + 0.05 * white / np.abs(white).max(),
    }


def test_references_without_speech_are_refused_as_check_fails_them(tmp_path, speech):
    for name, x in _signals(np.random.default_rng(SEED)).items():
        path = tmp_path / f"{name}.wav"
        sf.write(path, x.astype(np.float32), RATE, subtype="PCM_16")
        assert not has_speech(x.astype(np.float32), RATE), name
        with pytest.raises(ReferenceAudioError, match="no speech|silent"):
            check_reference(path)
        assert analyse_file(path, learned=False).get("speech").figure == "none found", name
    # one detection for both: whatever `check` calls speech, a reference may be (brown noise wanders)
    brown = np.cumsum(np.random.default_rng(SEED).standard_normal(5 * RATE))
    brown = (0.5 * brown / np.abs(brown).max()).astype(np.float32)
    sf.write(tmp_path / "brown.wav", brown, RATE, subtype="PCM_16")
    found = analyse_file(tmp_path / "brown.wav", learned=False).get("speech").figure != "none found"
    assert has_speech(brown, RATE) == found
    good = tmp_path / "speech.wav"
    sf.write(good, speech[0], speech[1], subtype="PCM_16")
    samples, rate, trimmed = check_reference(good)
    assert samples.size == speech[0].size and not trimmed and has_speech(samples, rate)


def test_the_reference_read_is_bounded(tmp_path, speech):
    """A 10-minute clip given as a reference: only what a reference needs is read (then trimmed)."""
    samples, rate = speech
    long = np.tile(samples, int(600 * rate / samples.size) + 1)
    path = tmp_path / "long.wav"
    sf.write(path, long, rate, subtype="PCM_16")
    got, _, trimmed = check_reference(path)
    assert trimmed and got.size <= 10 * rate


def test_non_finite_or_silent_decoded_audio_is_an_error():
    ok = np.sin(np.arange(3200)).astype(np.float32) * 0.3
    assert check_decoded(ok) is ok
    for bad in (np.full(3200, np.nan, np.float32), np.r_[ok, np.inf].astype(np.float32)):
        with pytest.raises(ModelError, match="NaN"):
            check_decoded(bad)
    for silent in (np.zeros(3200, np.float32), np.full(3200, 1e-7, np.float32), np.zeros(0, np.float32)):
        with pytest.raises(ModelError, match="silence"):
            check_decoded(silent)
    assert check_decoded(np.zeros(10, np.float32), expect_speech=False).size == 10  # a quiet stream part


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from engine.weights.tiny import make_tiny

    root = tmp_path_factory.mktemp("pretrained")
    make_tiny(root)
    return locate.locate(root=root, cache_dir="/nonexistent")


@pytest.mark.parametrize("fill", [float("nan"), 0.0])
@pytest.mark.parametrize("chunk_tokens", [None, 4])
def test_synthesis_that_decodes_nan_or_silence_raises(
    tiny_models, speech_wav, monkeypatch, fill, chunk_tokens
):
    voice = Voice.zero_shot(speech_wav, "The quick brown fox jumps over the lazy dog.", "en")
    models = load_models(voice, tiny_models, "cpu")
    real_decode = models.sovits.decode

    def broken(*args, **kwargs):
        return torch.full_like(real_decode(*args, **kwargs), fill)  # what NaN or zeroed weights give

    monkeypatch.setattr(models.sovits, "decode", broken)
    if chunk_tokens is not None:
        from engine.models.sovits import streaming

        real_push = streaming.StreamingDecoder.push
        real_finish = streaming.StreamingDecoder.finish

        def push(self, tokens):
            out = real_push(self, tokens)
            return None if out is None else np.full_like(out, fill)

        def finish(self, tokens):
            return np.full_like(real_finish(self, tokens), fill)

        monkeypatch.setattr(streaming.StreamingDecoder, "push", push)
        monkeypatch.setattr(streaming.StreamingDecoder, "finish", finish)
    synth = Synthesizer(voice, models=models)
    with pytest.raises(ModelError, match="NaN|silence"):
        list(synth.stream("Hello there.", SynthParams(seed=7, max_steps=12), chunk_tokens=chunk_tokens))


UNSPEAKABLE = [
    ("안녕하세요, 반갑습니다.", "en", "Korean hangul"),
    ("안녕하세요.", "zh", "Korean hangul"),
    ("مرحبا بالعالم.", "en", "Arabic script"),
    ("こんにちは。", "zh", "Japanese kana"),
    ("カタカナ", "en", "Japanese kana"),
    ("你好，世界。", "en", "Chinese characters"),
    ("Привет мир", "en", "Cyrillic script"),
    ("!!! ??? …", "en", None),
]


@pytest.mark.parametrize(("text", "language", "script"), UNSPEAKABLE)
def test_phonemes_and_say_agree_on_what_is_speakable(
    text, language, script, tmp_path, speech_wav, capsys, monkeypatch
):
    home = tmp_path / "studio"
    phonemes = ["phonemes", "--language", language]
    with pytest.raises(NothingToSay) as info:
        check_text(text, language)
    if script:
        assert script in info.value.message
    out = clear(cli(capsys, monkeypatch, *phonemes, text, home=home), "can be spoken")
    assert script is None or script in out
    ref = ["--ref", str(speech_wav), "--ref-text", "The quick brown fox.", "--ref-lang", "en"]
    out = clear(cli(capsys, monkeypatch, "say", *ref, "--lang", language, text, home=home), "can be spoken")
    assert script is None or script in out
    assert cli(capsys, monkeypatch, *phonemes, text + " hello", home=home).returncode == 0


def _escapes(rng: random.Random) -> list[str]:
    seqs = ["\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b[1;31;40m", "\x1b]0;title\x07", "\x1b]8;;http://x\x1b\\",
            "\x9b31m", "\x1bP+q\x1b\\", "\x1b7", "\x1b(B", "\x1b[?25l"]  # fmt: skip
    return [rng.choice(seqs) for _ in range(20)]


def test_terminal_escape_sequences_are_stripped_and_never_echoed(tmp_path, capsys, monkeypatch):
    rng = random.Random(SEED)
    seqs = _escapes(rng)
    words = "Hello there my friend how are you today".split()
    text = "".join(f"{w} {seqs[i % len(seqs)]}" for i, w in enumerate(words)) + "."
    cleaned = prepare_text(text)
    assert "\x1b" not in cleaned and "\x9b" not in cleaned and "\x07" not in cleaned
    assert "thirty" not in cleaned and "31" not in cleaned
    result = cli(capsys, monkeypatch, "phonemes", "--language", "en", text, home=tmp_path)
    assert result.returncode == 0
    assert "\x1b" not in result.out and "\x9b" not in result.out and "\x07" not in result.out
    assert "thirty" not in result.out.lower() and "HH AH0 L OW1" in result.out


def test_text_over_the_limit_is_refused_with_a_message(tmp_path, speech_wav, capsys, monkeypatch):
    assert prepare_text("a" * MAX_TEXT_CHARS) == "a" * MAX_TEXT_CHARS
    with pytest.raises(TextTooLong, match="too long"):
        prepare_text("word " * (MAX_TEXT_CHARS // 5 + 1))
    ref = ["--ref", str(speech_wav), "--ref-text", "The quick brown fox."]
    huge = "Hello there. " * 400_000  # 5.2 million characters
    out = clear(cli(capsys, monkeypatch, "say", *ref, huge, home=tmp_path), "too long", f"{MAX_TEXT_CHARS:,}")
    assert "Hello there. Hello" not in out  # never echoed
    out = clear(cli(capsys, monkeypatch, "say", *ref, home=tmp_path, stdin=huge.encode()), "too long")
    assert isinstance(TextTooLong("x"), TextError)
