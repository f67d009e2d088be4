"""Training data preparation on espeak-ng sessions with TINY pretrained files: shapes, filters, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from studio_helpers import EN_TAKES, RATE, speak

from engine.consent import import_file
from engine.session import Session
from engine.studio import Studio
from engine.train import data
from engine.train.data import NotEnoughData, TrainItem, gpt_dataset, prepare, sovits_dataset
from engine.weights import locate
from engine.weights.tiny import make_tiny

FAST_AUDIO = "Yes, indeed."  # spoken; its transcript below is far longer than what is said
FAST_TEXT = (
    "This transcript is much longer than the words spoken in the clip, so the phones per second of this "
    "take are far above twenty five and the GPT filter leaves it out."
)


def make_session(
    studio: Studio, sid: str, language: str, takes: list[tuple[str, Path | None, str]], consent: Path
) -> Session:
    """A session of (transcript, wav or None for pending, status) takes; ``consent`` is read as its
    consent statement (training refuses a session without one, issue 14)."""
    session = Session.create(
        studio,
        language,
        [t[0] or "x" for t in takes],
        device=None,
        samplerate=RATE,
        script_name="t",
        session_id=sid,
    )
    for index, (text, wav, status) in enumerate(takes):
        session.takes[index].text = text
        if wav is not None:
            shutil.copy(wav, session.take_path(index))
            session.takes[index].seconds = sf.info(str(wav)).duration
        session.takes[index].status = status
    session.save()
    import_file(session, consent)
    return session


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    root = make_tiny(tmp_path_factory.mktemp("pretrained"), seed=3)
    return locate.locate(("sovits", "hubert", "bert"), root=root, cache_dir="/nonexistent")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    out = {f"en{i}": speak(d / f"en{i}.wav", text) for i, text in enumerate(EN_TAKES)}
    out["fast"] = speak(d / "fast.wav", FAST_AUDIO)
    out["zh"] = speak(
        d / "zh.wav", "ni3 hao3 shi4 jie4, jin1 tian1 tian1 qi4 hen3 hao3.", voice="cmn-latn-pinyin"
    )
    return out


@pytest.fixture(scope="module")
def studio(tmp_path_factory, clips) -> Studio:
    studio = Studio(tmp_path_factory.mktemp("studio")).ensure()
    takes = [(text, clips[f"en{i}"], "accepted") for i, text in enumerate(EN_TAKES)]
    takes += [
        (FAST_TEXT, clips["fast"], "accepted"),
        ("Rejected take.", clips["en0"], "rejected"),
        ("", clips["en1"], "accepted"),  # no transcript
        ("Never recorded.", None, "pending"),
    ]
    make_session(studio, "s1", "en", takes, clips["en2"])
    make_session(studio, "zh1", "zh", [("你好世界，今天天气很好。", clips["zh"], "accepted")], clips["zh"])
    return studio


@pytest.fixture(scope="module")
def prepared(studio, pretrained, tmp_path_factory):
    voice_dir = tmp_path_factory.mktemp("voice")
    logs: list[tuple[str, str]] = []
    result = prepare(
        studio, ["s1", "zh1"], voice_dir, pretrained=pretrained, log=lambda lv, m: logs.append((lv, m))
    )
    return result, logs, voice_dir


def test_items_have_consistent_shapes(prepared):
    result, _, _ = prepared
    keys = [it.key for it in result.items]
    assert keys == [f"s1/000{i}" for i in range(1, 7)] + ["zh1/0001"]
    assert result.computed == keys
    for it in result.items:
        p, t = it.phone_ids.numel(), it.spec.shape[-1]
        assert it.phone_ids.dtype == torch.int64 and it.phone_ids.dim() == 1 and p > 0
        assert it.bert.dtype == torch.float32 and tuple(it.bert.shape) == (1024, p)
        assert it.spec.dtype == torch.float32 and it.spec.shape[0] == 1025
        assert t == it.wav.numel() // 640
        assert it.ssl.dtype == torch.float32 and tuple(it.ssl.shape) == (64, t)  # TINY HuBERT width
        assert it.semantic.dtype == torch.int64 and it.semantic.dim() == 1
        assert abs(it.semantic.numel() - t // 2) <= 1
        assert int(it.semantic.max()) < 1024 and int(it.semantic.min()) >= 0
        assert it.seconds == pytest.approx(it.wav.numel() / RATE)
        peak = float(it.wav.abs().max())
        assert 0.475 <= peak <= 0.95 + 1e-6  # half-peak normalised: 0.95·0.5 + 0.5·original peak
    en = result.items[0]
    assert en.language == "en" and not en.bert.any()
    zh = result.items[-1]
    assert zh.language == "zh" and zh.bert.abs().sum() > 0
    assert result.seconds == pytest.approx(sum(it.seconds for it in result.items))


def test_every_left_out_take_has_a_reason(prepared):
    result, logs, _ = prepared
    reasons = dict(result.skipped)
    assert reasons["s1/0007"] == "rejected"
    assert reasons["s1/0008"].startswith("no transcript")
    assert reasons["s1/0009"] == "not recorded yet"
    assert set(reasons) == {"s1/0007", "s1/0008", "s1/0009"}
    gpt = dict(result.gpt_skipped)
    assert list(gpt) == ["s1/0006"] and gpt["s1/0006"].endswith("phones/s, faster than 25")
    messages = [m for _, m in logs]
    for key in (*reasons, "s1/0006"):
        assert any(m.startswith(key + ":") for m in messages), key
    assert any(lv == "warning" and "60 s" in m for lv, m in logs)  # ~30 s of speech: a warning, not a refusal
    assert "s1/0006" in [it.key for it in sovits_dataset(result.items)]
    assert "s1/0006" not in [it.key for it in gpt_dataset(result.items)]


def test_reference_is_a_clean_take_of_3_to_10_s(prepared):
    result, _, _ = prepared
    ref = result.reference
    assert 3.0 <= ref.seconds <= 10.0 and ref.wav.is_file()
    item = next(it for it in result.items if it.key == ref.key)
    assert ref.text == item.text and ref.wav.parent.name == "clean"
    assert sf.info(str(ref.wav)).samplerate == RATE


def test_cache_recomputes_only_a_changed_transcript(prepared, studio, pretrained):
    first, _, voice_dir = prepared
    cache = voice_dir / "train" / "cache"
    entries = sorted(cache.glob("*.safetensors"))
    assert len(entries) == len(first.items)
    again = prepare(studio, ["s1", "zh1"], voice_dir, pretrained=pretrained, log=lambda lv, m: None)
    assert again.computed == []
    for a, b in zip(first.items, again.items, strict=True):
        assert (
            torch.equal(a.ssl, b.ssl) and torch.equal(a.semantic, b.semantic) and torch.equal(a.bert, b.bert)
        )
    session = Session.load(studio, "s1")
    session.set_text(1, EN_TAKES[1].replace("stronger", "strongest"))
    changed = prepare(studio, ["s1", "zh1"], voice_dir, pretrained=pretrained, log=lambda lv, m: None)
    assert changed.computed == ["s1/0002"]
    assert changed.items[1].text.endswith("strongest.")
    assert len(list(cache.glob("*.safetensors"))) == len(first.items)  # the stale entry is pruned
    session.set_text(1, EN_TAKES[1])


def _item(seconds: float, phones: int, key: str = "k") -> TrainItem:
    frames = int(seconds * 50)
    return TrainItem(
        key=key,
        text="",
        language="en",
        phone_ids=torch.ones(phones, dtype=torch.long),
        bert=torch.zeros(1024, phones),
        ssl=torch.zeros(4, frames),
        semantic=torch.zeros(frames // 2, dtype=torch.long),
        wav=torch.zeros(int(seconds * RATE)),
        spec=torch.zeros(1025, frames),
        seconds=seconds,
    )


def test_official_filters_and_repetition():
    short, ok, slow, fast = (
        _item(0.5, 5, "short"),
        _item(4.0, 40, "ok"),
        _item(4.0, 8, "slow"),
        _item(2.0, 60, "fast"),
    )
    assert data.sovits_reason(0.4) == "0.4 s, shorter than 0.6 s"
    assert data.sovits_reason(60.0) == "60.0 s, longer than 54 s"
    assert data.gpt_reason(fast) == "30 phones/s, faster than 25"
    assert data.gpt_reason(slow) == "2.0 phones/s, slower than 3"
    assert data.gpt_reason(_item(30.0, 600)) == "600 phones, more than 540"
    sov = sovits_dataset([short, ok, slow, fast])
    assert len(sov) == 3 * 33 and {it.key for it in sov} == {"ok", "slow", "fast"}
    gpt = gpt_dataset([short, ok, slow, fast])
    assert len(gpt) == 2 * 50 and {it.key for it in gpt} == {"short", "ok"}
    assert len(sovits_dataset([ok] * 60)) == 120  # at least twice
    assert len(sovits_dataset([ok] * 150)) == 150  # 100 or more: as is
    assert sovits_dataset([short]) == [] and gpt_dataset([]) == []


def _refused(tmp_path, pretrained, takes, consent: Path) -> NotEnoughData:
    studio = Studio(tmp_path / "studio").ensure()
    make_session(studio, "bad", "en", takes, consent)
    logs: list[tuple[str, str]] = []
    with pytest.raises(NotEnoughData) as info:
        prepare(
            studio, ["bad"], tmp_path / "voice", pretrained=pretrained, log=lambda lv, m: logs.append((lv, m))
        )
    assert info.value.hint
    assert any(m.startswith("bad/0001:") for _, m in logs)
    return info.value


def test_one_short_take_is_refused(tmp_path, pretrained, clips):
    clip = tmp_path / "short.wav"
    x, sr = sf.read(str(clips["en0"]), dtype="float32")
    start = int(0.5 * sr)
    sf.write(str(clip), x[start : start + int(0.3 * sr)], sr, subtype="PCM_16")
    err = _refused(tmp_path, pretrained, [("The", clip, "accepted")], clips["en2"])
    assert "0.0 s of usable speech" in err.message and "bad/0001" in err.message and "20 s" in err.message


def test_silence_only_is_refused(tmp_path, pretrained, clips):
    clip = tmp_path / "silence.wav"
    sf.write(str(clip), np.zeros(5 * RATE, np.float32), RATE, subtype="PCM_16")
    err = _refused(tmp_path, pretrained, [(t, clip, "accepted") for t in EN_TAKES[:3]], clips["en2"])
    assert "bad/0001" in err.message and "0.0 s of usable speech" in err.message


def test_takes_without_transcripts_are_refused(tmp_path, pretrained, clips):
    err = _refused(tmp_path, pretrained, [("", clips[f"en{i}"], "accepted") for i in range(3)], clips["en2"])
    assert "no transcript" in err.message


def test_unknown_session_is_a_clear_error(tmp_path, pretrained):
    from engine.errors import StudioError

    with pytest.raises(StudioError, match="no session"):
        prepare(Studio(tmp_path).ensure(), ["nope"], tmp_path / "voice", pretrained=pretrained)


def test_reference_follows_the_quality_ranking(prepared, monkeypatch):
    from engine.audio import quality
    from engine.session import Take

    result, _, _ = prepared
    pairs = [
        (
            data.ReferenceChoice("s", it.key[-4:], Path(f"/x/{it.key[-4:]}.wav"), it.text, it.seconds),
            Take("1", "", "accepted"),
        )
        for it in result.items
    ]
    fitting = [c for c, _ in pairs if 3.0 <= c.seconds <= 10.0]
    assert len(fitting) >= 2 and all(c.seconds >= 3.0 for c in fitting)
    worst_first = [quality.ReferenceRank(c.wav, 0.0, None, "ok", "") for c in reversed(fitting)]
    monkeypatch.setattr(quality, "rank_reference_takes", lambda paths, reports=None: worst_first)
    assert data.choose_reference(pairs) == fitting[-1]

    def broken(paths, reports=None):
        raise RuntimeError("no model")

    monkeypatch.setattr(quality, "rank_reference_takes", broken)
    best = data.choose_reference(pairs)  # falls back to the stored reports: none here, so closest to 6 s
    assert best == min(fitting, key=lambda c: abs(c.seconds - 6.0))
