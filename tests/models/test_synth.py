"""TINY end to end: an espeak-ng reference clip + text -> 32 kHz audio; bad input -> clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_weights as tw  # noqa: E402

from engine.errors import TextError  # noqa: E402
from engine.models.sovits.config import TINY as SOVITS_TINY  # noqa: E402
from engine.models.sovits.config import V2 as SOVITS_V2  # noqa: E402
from engine.models.sovits.synthesizer import SynthesizerTrn  # noqa: E402
from engine.models.t2s.config import TINY as GPT_TINY  # noqa: E402
from engine.models.t2s.model import Text2Semantic  # noqa: E402
from engine.synth import (  # noqa: E402
    SAMPLE_RATE,
    NothingToSay,
    ReferenceAudioError,
    Synthesizer,
    SynthParams,
    load_models,
)
from engine.voice import UnknownVoice, Voice  # noqa: E402
from engine.weights import configs, convert, locate, official  # noqa: E402
from engine.weights.registry import part  # noqa: E402

REF_TEXT = "The north wind and the sun were disputing which was the stronger"
FAST = SynthParams(seed=7, max_steps=12)


def _espeak(text: str, out: Path, voice: str = "en-us") -> Path:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed (the CI script must install it)")
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text], check=True, timeout=30)
    return out


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A TIMBRE_PRETRAINED folder: TINY GPT/SoVITS in the official formats, tiny HuBERT and BERT."""
    root = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(1234)
    sovits, gpt = SynthesizerTrn(SOVITS_TINY), Text2Semantic(GPT_TINY)
    s2 = root / part("sovits").files[0].path
    s1 = root / part("gpt").files[0].path
    s2.parent.mkdir(parents=True)
    s2.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), configs.sovits_config_to_dict(SOVITS_TINY)))
    s1.write_bytes(tw.official_gpt_bytes(gpt.state_dict(), configs.gpt_config_to_dict(GPT_TINY)))
    tw.write_tiny_hubert(root / "chinese-hubert-base", hidden=SOVITS_TINY.ssl_dim)
    tw.write_tiny_bert(root / "chinese-roberta-wwm-ext-large", hidden=GPT_TINY.bert_dim)
    return root


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    wav = _espeak(REF_TEXT, folder / "ref.wav")
    seconds = sf.info(str(wav)).duration
    assert 3.0 <= seconds <= 10.0, seconds
    return wav


@pytest.fixture
def env(pretrained, monkeypatch, tmp_path):
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(pretrained))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "no-hf-cache"))
    return pretrained


@pytest.fixture(scope="module")
def models(pretrained, reference):
    paths = locate.locate(root=pretrained, cache_dir="/nonexistent")
    return load_models(Voice.zero_shot(reference, REF_TEXT, "en"), paths, "cpu")


def _speech(chunk) -> np.ndarray:
    """A chunk's audio without the pause that precedes it."""
    pause = int(round(0.3 * SAMPLE_RATE)) if chunk.index else 0
    return chunk.audio[pause:]


def test_tiny_end_to_end_gives_1280_samples_per_token(models, reference):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    assert synth.samples_per_token == 1280 == SOVITS_V2.samples_per_token
    ref = synth.reference()
    assert ref.prompt_tokens.shape[1] == (ref.seconds * 16000 + 9600) // 640  # 25 Hz tokens of clip + 0.6 s
    assert ref.phone_ids.shape[1] == ref.bert.shape[2] and not ref.bert.any()  # English: zero BERT features
    chunks = list(synth.stream("Hello world, this is Timbre. How are you today?", FAST))
    assert len(chunks) >= 2
    for chunk in chunks:
        assert chunk.audio.dtype == np.float32 and np.isfinite(chunk.audio).all()
        assert 0 < chunk.tokens <= FAST.max_steps
        assert len(_speech(chunk)) == chunk.tokens * 1280
        assert np.abs(chunk.audio).max() <= 1.0 and np.abs(_speech(chunk)).max() > 0
        if chunk.index:
            assert not chunk.audio[: int(0.3 * SAMPLE_RATE)].any()


def test_same_seed_same_audio_and_stream_equals_whole(models, reference):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    text = "Good morning. The weather is fine."
    whole = synth.synthesize(text, FAST)
    again = synth.synthesize(text, FAST)
    streamed = np.concatenate([c.audio for c in synth.stream(text, FAST)])
    assert np.array_equal(whole, again)
    assert np.array_equal(whole, streamed)
    other = synth.synthesize(text, SynthParams(seed=8, max_steps=12))
    assert not (len(other) == len(whole) and np.array_equal(other, whole))


def test_reference_work_is_done_once(models, reference, monkeypatch):
    calls = []
    original = models.ssl.reference_features
    monkeypatch.setattr(models.ssl, "reference_features", lambda wav: calls.append(1) or original(wav))
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    synth.synthesize("One.", FAST)
    synth.synthesize("Two more words.", FAST)
    assert calls == [1]


def test_mandarin_text_gets_bert_features(models, reference):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    params = SynthParams(seed=3, max_steps=12, language="zh")
    ids, bert, segments = synth._phones("你好，世界。", "zh")
    assert segments[0].language == "zh" and bert.shape == (GPT_TINY.bert_dim, len(ids)) and bert.any()
    audio = synth.synthesize("你好，世界。今天天气很好。", params)
    assert audio.dtype == np.float32 and len(audio) > 0


def test_settings_change_the_result(models, reference):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    base = synth.synthesize("Hello there.", FAST)
    quiet = synth.synthesize("Hello there.", SynthParams(seed=7, max_steps=12, noise_scale=0.0))
    assert len(quiet) == len(base) and not np.array_equal(quiet, base)
    slow = synth.synthesize("Hello there.", SynthParams(seed=7, max_steps=12, speed=0.5))
    assert len(slow) > len(base)
    with pytest.raises(ValueError):
        SynthParams(top_p=0)


@pytest.fixture(scope="module")
def bad_refs(reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    x, rate = sf.read(str(reference), dtype="float32")
    long = np.concatenate([x, np.zeros(rate // 2, np.float32), x, np.zeros(rate // 2, np.float32), x])
    files = {
        "short": (x[: 2 * rate], rate),
        "long": (long, rate),
        "silent": (np.zeros(5 * rate, np.float32), rate),
        "stereo": (np.stack([x, x], 1), rate),
    }
    out = {}
    for name, (data, sr) in files.items():
        out[name] = folder / f"{name}.wav"
        sf.write(str(out[name]), data, sr)
    out["8k"] = folder / "8k.wav"
    subprocess.run(["sox", str(reference), "-r", "8000", str(out["8k"])], check=True, timeout=30)
    return out


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("short", r"3–10 s"), ("silent", "silent"), ("stereo", "mono"), ("8k", "8000 Hz")],
)
def test_bad_references_are_clear_errors(models, bad_refs, name, pattern):
    synth = Synthesizer(Voice.zero_shot(bad_refs[name], REF_TEXT, "en"), models=models)
    with pytest.raises(ReferenceAudioError, match=pattern) as info:
        synth.synthesize("Hello.", FAST)
    assert info.value.hint


def test_long_references_are_trimmed_at_a_pause(models, bad_refs):
    assert sf.info(str(bad_refs["long"])).duration > 10
    synth = Synthesizer(Voice.zero_shot(bad_refs["long"], REF_TEXT, "en"), models=models)
    ref = synth.reference()
    assert ref.trimmed and 3.0 <= ref.seconds <= 10.0
    assert len(synth.synthesize("Hello.", FAST)) > 0


@pytest.mark.parametrize("text", ["", "   \n ", "!!! ??? …", "😀🎉"])
def test_text_with_nothing_to_say_is_a_clear_error(models, reference, text):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    with pytest.raises(TextError) as info:
        synth.synthesize(text, FAST)
    assert isinstance(info.value, NothingToSay) or "text" in info.value.message.lower()


def test_unknown_voice_and_missing_pretrained_files(studio_home, tmp_path, monkeypatch, reference):
    with pytest.raises(UnknownVoice, match="nobody"):
        Voice.load("nobody", studio_home)
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "no-hf-cache"))
    with pytest.raises(locate.PretrainedMissingError) as info:
        Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"))
    assert "timbre models download" in info.value.hint


def test_a_fine_tuned_voice_folder_speaks_like_its_weights(env, studio_home, models, reference):
    folder = studio_home / "voices" / "ana"
    gpt_file = env / part("gpt").files[0].path
    sovits_file = env / part("sovits").files[0].path
    convert.import_official(gpt_file, sovits_file, folder)
    shutil.copy(reference, folder / "reference.wav")
    voice = Voice("ana", folder / "reference.wav", REF_TEXT, "en", folder / "gpt.safetensors",
                  folder / "sovits.safetensors", folder)  # fmt: skip
    voice.save()
    loaded = Voice.load("ana", studio_home)
    assert loaded.fine_tuned and loaded.to_json() == voice.to_json()
    assert loaded.to_json()["weights"] == {"gpt": "gpt.safetensors", "sovits": "sovits.safetensors"}
    mine = Synthesizer(loaded, device="cpu").synthesize("Hello there.", FAST)
    zero_shot = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models).synthesize(
        "Hello there.", FAST
    )
    assert np.array_equal(mine, zero_shot)
    # and it exports to the official formats the WebUI reads
    from tui.cli import main

    assert main(["--home", str(studio_home), "models", "export", "--voice", "ana"]) == 0
    assert official.read_sovits(folder / "export" / "ana.pth").version == "v2"
    assert official.read_gpt(folder / "export" / "ana.ckpt").config == configs.gpt_config_to_dict(GPT_TINY)


def test_say_command_writes_a_32k_wav(env, tmp_path, reference, capsys):
    from tui.cli import main

    out = tmp_path / "out.wav"
    argv = ["say", "--ref", str(reference), "--ref-text", REF_TEXT, "--ref-lang", "en", "--seed", "1",
            "--max-steps", "12", "-o", str(out), "Hello there."]  # fmt: skip
    assert main(argv) == 0
    info = sf.info(str(out))
    assert info.samplerate == 32000 and info.channels == 1 and info.frames > 0
    assert "RTF" in capsys.readouterr().err
    assert main(["say", "--voice", "nobody", "hi"]) == 2
    assert main(["say", "--ref", str(reference), "hi"]) == 2
    assert "--ref-text" in capsys.readouterr().err


def test_trim_at_pause_cuts_in_the_latest_quiet_stretch():
    from engine.synth import trim_at_pause

    rate = 16000
    rng = np.random.default_rng(0)
    speech = (rng.standard_normal(14 * rate) * 0.2).astype(np.float32)
    speech[int(4.0 * rate) : int(4.3 * rate)] = 0.0  # an early pause
    speech[int(8.0 * rate) : int(8.4 * rate)] = 0.0  # a later one: the cut goes here
    speech[int(11.0 * rate) : int(11.5 * rate)] = 0.0  # past 10 s: not allowed
    cut = trim_at_pause(speech, rate)
    assert 8.0 <= len(cut) / rate <= 8.4


def test_voice_json_round_trip_keeps_unknown_entries(studio_home):
    from engine.errors import StudioError

    folder = studio_home / "voices" / "bo"
    voice = Voice(
        "bo", folder / "reference.wav", "你好。", "zh", folder=folder, extra={"metrics": {"epochs": 8}}
    )
    voice.save()
    loaded = Voice.load("bo", studio_home)
    assert not loaded.fine_tuned and loaded.gpt_path is None and loaded.language == "zh"
    assert loaded.to_json() == voice.to_json() and loaded.extra == {"metrics": {"epochs": 8}}
    (folder / "voice.json").write_text('{"name": "bo"}')
    with pytest.raises(StudioError, match="reference"):
        Voice.load("bo", studio_home)
    with pytest.raises(StudioError, match="language"):
        Voice.zero_shot("x.wav", "hi", "fr")


def test_models_import_makes_a_voice_from_official_files(env, studio_home, reference, tmp_path, capsys):
    from tui.cli import main

    gpt_file = env / part("gpt").files[0].path
    sovits_file = env / part("sovits").files[0].path
    argv = ["--home", str(studio_home), "models", "import", "--voice", "cy", "--gpt", str(gpt_file)]
    argv += ["--sovits", str(sovits_file), "--ref", str(reference), "--ref-text", REF_TEXT, "--lang", "en"]
    assert main(argv) == 0
    voice = Voice.load("cy", studio_home)
    assert voice.fine_tuned and voice.reference_wav.is_file() and voice.language == "en"
    assert main(argv) == 2 and "already exists" in capsys.readouterr().err
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"junk")
    argv[argv.index("cy")] = "dee"
    argv[argv.index(str(sovits_file))] = str(junk)
    assert main(argv) == 2 and "not a PyTorch checkpoint" in capsys.readouterr().err
    assert not (studio_home / "voices" / "dee").exists()


def test_models_import_failing_midway_leaves_no_half_voice(env, studio_home, reference, monkeypatch, capsys):
    import shutil

    from tui.cli import main

    argv = ["--home", str(studio_home), "models", "import", "--voice", "ed", "--gpt",
            str(env / part("gpt").files[0].path), "--sovits", str(env / part("sovits").files[0].path),
            "--ref", str(reference), "--ref-text", REF_TEXT, "--lang", "en"]  # fmt: skip

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    assert main(argv) == 2 and "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in (studio_home / "voices").iterdir()) == []  # no voice, no staging folder


def test_a_bad_reference_fails_before_any_model_loads(bad_refs, monkeypatch):
    import engine.synth as synth_module

    def no_loading(*args, **kwargs):
        raise AssertionError("models were loaded before the reference was checked")

    monkeypatch.setattr(synth_module, "load_models", no_loading)
    with pytest.raises(ReferenceAudioError, match="3–10 s"):
        Synthesizer(Voice.zero_shot(bad_refs["short"], REF_TEXT, "en"))


def test_check_text_needs_no_models_and_names_what_is_wrong():
    from engine.synth import check_text

    assert check_text("Hello there. How are you?", "en") == ["Hello there.", "How are you?"]
    with pytest.raises(NothingToSay, match="no text"):
        check_text("  \n", "en")
    with pytest.raises(NothingToSay, match="can be spoken") as info:
        check_text("😀🎉", "auto")
    assert "emoji" in info.value.hint


def test_low_precision_and_int8_paths_speak(pretrained, reference):
    paths = locate.locate(root=pretrained, cache_dir="/nonexistent")
    voice = Voice.zero_shot(reference, REF_TEXT, "en")
    half = load_models(voice, paths, "cpu", precision="bf16")
    assert half.gpt.bert_proj.weight.dtype == torch.bfloat16 == half.sovits.ssl_proj.weight.dtype
    fast = load_models(voice, paths, "cpu", int8=True)
    assert fast.gpt.int8_decode and not half.gpt.int8_decode
    for models in (half, fast):
        chunks = list(Synthesizer(voice, models=models).stream("Hello there.", FAST))
        audio = chunks[0].audio
        assert audio.dtype == np.float32 and np.isfinite(audio).all() and np.abs(audio).max() > 0
        assert len(audio) == chunks[0].tokens * 1280


def test_the_default_precision_is_the_gated_fast_path_where_the_cpu_has_bf16(
    pretrained, reference, monkeypatch
):
    from engine.models import runtime

    monkeypatch.delenv(runtime.PRECISION_ENV, raising=False)
    paths = locate.locate(root=pretrained, cache_dir="/nonexistent")
    voice = Voice.zero_shot(reference, REF_TEXT, "en")
    default = load_models(voice, paths, "cpu")
    fast_here = runtime.cpu_has_fast_bf16()
    assert default.gpt.fast_cpu == default.sovits.fast_cpu == fast_here
    assert default.precision.startswith("auto: ")
    exact = load_models(voice, paths, "cpu", precision="fp32")
    assert not exact.gpt.fast_cpu and not exact.sovits.fast_cpu and exact.precision == "fp32"
    asked = load_models(voice, paths, "cpu", precision="fast")  # on any CPU when asked for
    assert asked.gpt.fast_cpu and asked.sovits.fast_cpu and asked.gpt.bert_proj.weight.dtype == torch.float32
    for models in (exact, asked):
        chunk = next(iter(Synthesizer(voice, models=models).stream("Hello there.", FAST)))
        assert np.isfinite(chunk.audio).all() and np.abs(chunk.audio).max() > 0


def test_say_refuses_impossible_settings_with_clear_messages(env, reference, capsys, monkeypatch):
    from tui.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    base = ["say", "--ref", str(reference), "--ref-text", REF_TEXT, "--ref-lang", "en"]
    for extra, words in (
        (["--device", "cuda", "hi"], "no usable GPU"),
        (["--device", "tpu", "hi"], "Unknown device"),
        (["😀🎉"], "can be spoken"),
        ([""], "no text"),
    ):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
    # quick checks come before the models load: a transcript or an output path that cannot work
    import engine.synth as synth_module

    monkeypatch.setattr(synth_module, "load_models", lambda *a, **k: pytest.fail("models were loaded"))
    emoji = ["say", "--ref", str(reference), "--ref-text", "😀", "hi"]
    assert main(emoji) == 2 and "transcript" in capsys.readouterr().err
    assert main(base + ["-o", str(reference.parent), "hi"]) == 2
    assert "Cannot write" in capsys.readouterr().err


# ---------------------------------------------------------------------------- judged passes, streaming


def test_a_pass_judged_fine_is_what_gpt_infer_gives(models, reference):
    """The judged path keeps the first pass untouched: tokens and audio as infer + decode give them."""
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    (chunk,) = list(synth.stream("Hello there.", FAST))
    assert chunk.attempts == 1 and chunk.verdict == "ok" and chunk.seed == 7
    ref = synth.reference()
    ids, bert, _ = synth._phones("Hello there.", "en")
    target = torch.tensor([ids])
    tokens = models.gpt.infer(
        torch.cat([ref.phone_ids, target], 1), torch.cat([ref.bert, bert.unsqueeze(0)], 2),
        ref.prompt_tokens, max_steps=12, generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    wav = models.sovits.decode(
        tokens.unsqueeze(0), target, ge=ref.ge, noise_scale=0.5, generator=torch.Generator().manual_seed(8)
    )
    assert chunk.tokens == tokens.shape[1] == 11  # the cap: steps 1..11 (the reference's rule)
    from engine.audio.watermark import embed  # issue 14: the output carries the watermark

    assert np.array_equal(chunk.audio, embed(wav[0, 0].numpy(), 32000))


class ScriptedGPT(Text2Semantic):
    """A TINY GPT whose passes are scripted by seed: ``plans[seed] = (tokens, ends on EOS)``."""

    def __init__(self, plans: dict, default) -> None:
        torch.manual_seed(0)
        super().__init__(GPT_TINY)
        self.eval()
        self.plans, self.default, self.seeds, self.phone_ids = plans, default, [], []

    def decode_steps(self, phone_ids, bert, prompt_tokens, params, *, max_steps=None, generator=None, **_):
        from engine.models.t2s.model import STOP_EOS_SAMPLED, STOP_MAX_STEPS, DecodeStep

        seed = generator.initial_seed()
        self.seeds.append(seed)
        self.phone_ids.append(phone_ids)
        plan = self.plans.get(seed, self.default)
        tokens, eos = plan(prompt_tokens[0].tolist()) if callable(plan) else plan
        cap = max_steps or 1500
        for i, tok in enumerate(tokens[:cap]):
            stop = STOP_MAX_STEPS if i == cap - 1 else None
            yield DecodeStep(i, tok, stop)
            if stop:
                return
        if eos and len(tokens) < cap:
            yield DecodeStep(len(tokens), 1024, STOP_EOS_SAMPLED)


def _speech_tokens(n: int, seed: int) -> list[int]:
    return torch.randint(0, 1024, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.fixture
def scripted(models, reference):
    """(make synth from plans, expected tokens of TEXT) with a scripted GPT in place of the TINY one."""
    text = "The quick brown fox jumps over the lazy dog."

    def make(plans, default):
        gpt = ScriptedGPT(plans, default)
        synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=replace_gpt(models, gpt))
        return synth, gpt

    probe, _ = make({}, ([1], True))
    _, _, segments = probe._phones(text, "en")
    return make, text, probe._expected(segments)


def replace_gpt(models, gpt):
    from dataclasses import replace

    return replace(models, gpt=gpt)


def test_a_looping_pass_is_sampled_again_with_the_next_seed(scripted, caplog):
    from engine.synth import retry_seed

    make, text, expected = scripted
    normal = (_speech_tokens(int(expected), 1), True)
    loop = (_speech_tokens(20, 2) + _speech_tokens(10, 3) * 30, False)  # a 10-token loop to the cap
    synth, gpt = make({5: loop}, normal)
    with caplog.at_level("INFO", logger="engine.synth"):
        (chunk,) = list(synth.stream(text, SynthParams(seed=5)))
    assert chunk.attempts == 2 and chunk.verdict == "ok" and chunk.seed == retry_seed(5, 1)
    assert chunk.tokens == int(expected) and len(chunk.audio) == chunk.tokens * 1280
    assert gpt.seeds == [5, retry_seed(5, 1)]
    assert "loops" in caplog.text and "sampling again" in caplog.text


def test_an_early_stop_is_sampled_again_and_the_best_attempt_is_kept(scripted):
    make, text, expected = scripted
    early = (_speech_tokens(12, 4), True)  # EOS after 12 tokens: words skipped
    synth, gpt = make({}, early)
    (chunk,) = list(synth.stream(text, SynthParams(seed=3, max_attempts=3)))
    assert chunk.attempts == 3 and "too short" in chunk.verdict and chunk.tokens == 12
    assert len(gpt.seeds) == 3
    shorter = (_speech_tokens(11, 5), True)
    synth, gpt = make({3: shorter}, early)  # the first is worse: the second (same badness as third) kept
    (chunk,) = list(synth.stream(text, SynthParams(seed=3, max_attempts=3)))
    assert chunk.tokens == 12 and chunk.seed != 3
    synth, gpt = make({}, early)
    (chunk,) = list(synth.stream(text, SynthParams(seed=3, max_attempts=1)))
    assert chunk.attempts == 1 and gpt.seeds == [3]


def test_normal_passes_are_never_sampled_again(scripted):
    make, text, expected = scripted
    for n, twice in ((0.6, False), (1.5, True)):  # a fast and a slow reading
        synth, gpt = make({}, (_speech_tokens(int(n * expected), 6), True))
        chunks = list(synth.stream(text + (" " + text if twice else ""), SynthParams(seed=1)))
        assert [c.attempts for c in chunks] == [1] * (1 + twice) and gpt.seeds == [1, 3][: 1 + twice]


def test_a_runaway_pass_is_stopped_early(scripted):
    make, text, expected = scripted
    runaway = (_speech_tokens(1500, 7), False)  # no EOS and no exact loop: babble to the cap
    synth, gpt = make({}, runaway)
    (chunk,) = list(synth.stream(text, SynthParams(seed=2, max_attempts=2)))
    assert chunk.attempts == 2 and "stopped early: runaway" in chunk.verdict
    assert chunk.tokens < 3 * expected + 20  # not 1500 tokens (a minute of babble)


def test_reference_leak_on_a_short_target_is_sampled_again(scripted):
    make, _, _ = scripted

    def leak(prompt):
        return prompt[-40:-15] + _speech_tokens(10, 8), True

    synth, gpt = make({4: leak}, (_speech_tokens(14, 9), True))
    (chunk,) = list(synth.stream("Hi", SynthParams(seed=4)))
    assert chunk.attempts == 2 and chunk.verdict == "ok"
    # the short target reached the GPT with its final punctuation (and the leading stop the reference adds)
    from engine.text.frontend import frontend

    ids, _, _ = synth._phones(".Hi.", "en")
    ref_len = synth.reference().phone_ids.shape[1]
    assert gpt.phone_ids[0][0, ref_len:].tolist() == ids
    assert frontend(".Hi.", "en")[0].phones[-1] == "."


def test_streaming_gives_audio_while_the_gpt_still_generates(models, reference, monkeypatch):
    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models)
    params = SynthParams(seed=7, max_steps=70)
    steps_done = []
    original = models.gpt.decode_steps

    def counting(*args, **kwargs):
        for step in original(*args, **kwargs):
            steps_done.append(step.index)
            yield step

    monkeypatch.setattr(models.gpt, "decode_steps", counting)
    chunks = []
    text = "The quick brown fox jumps over the lazy dog. A good day starts with a cup of tea."
    for chunk in synth.stream(text, params, chunk_tokens=16):
        chunks.append((chunk, len(steps_done)))
    first, seen_when_first = chunks[0]
    assert seen_when_first < 30  # the first audio came after a few tokens, not after 70
    assert first.part == 0 and not first.final and first.verdict == ""
    by_sentence = {}
    for chunk, _ in chunks:
        by_sentence.setdefault(chunk.index, []).append(chunk)
    assert sorted(by_sentence) == [0, 1]
    for index, parts in by_sentence.items():
        assert [c.part for c in parts] == list(range(len(parts))) and len(parts) >= 3
        assert [c.final for c in parts] == [False] * (len(parts) - 1) + [True]
        assert parts[-1].verdict == "ok" and parts[-1].attempts == 1
        tokens = sum(c.tokens for c in parts)
        assert tokens == 70  # a stream keeps every sample up to the cap
        speech = sum(len(c.audio) for c in parts) - (int(0.3 * SAMPLE_RATE) if index else 0)
        assert speech == tokens * 1280
    # the non-streamed path is unchanged by the option's existence
    with pytest.raises(ValueError):
        list(synth.stream("Hello.", params, chunk_tokens=2))


def test_say_streams_in_parts_with_chunk_tokens(env, tmp_path, reference, capsys):
    from tui.cli import main

    out = tmp_path / "parts.wav"
    argv = ["say", "--ref", str(reference), "--ref-text", REF_TEXT, "--ref-lang", "en", "--seed", "1",
            "--max-steps", "40", "--chunk-tokens", "8", "-o", str(out),
            "The quick brown fox jumps over the lazy dog."]  # fmt: skip
    assert main(argv) == 0
    assert sf.info(str(out)).frames == 40 * 1280  # every part written, nothing lost at the joins
    assert capsys.readouterr().err.count("[1]") >= 3  # reported part by part


def test_the_reference_transcript_gets_final_punctuation(models, reference):
    from engine.text.frontend import frontend

    seen = []

    def recording(text, language):
        seen.append(text)
        return frontend(text, language)

    synth = Synthesizer(Voice.zero_shot(reference, REF_TEXT, "en"), models=models, frontend=recording)
    ref = synth.reference()
    assert seen == [REF_TEXT + "."]  # as the reference's inference_webui does
    assert ref.speech_phones > 30 and ref.speech_phones < ref.phone_ids.shape[1]  # marks not counted
    seen.clear()
    done = Synthesizer(Voice.zero_shot(reference, REF_TEXT + "!", "en"), models=models, frontend=recording)
    done.reference()
    assert seen == [REF_TEXT + "!"]
