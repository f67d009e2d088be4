"""Voices in a studio: create from a session, list, rename, delete, export/import, hostile names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.errors import StudioError
from engine.session import Session
from engine.studio import Studio
from engine.voice import (
    NoReferenceTake,
    UnknownVoice,
    Voice,
    VoiceExists,
    create_from_session,
    delete_voice,
    export_voice,
    list_voices,
    pick_reference,
    rename_voice,
    set_reference,
    voice_info,
)

RATE = 16000


def _tone(seconds: float, level: float = 0.3, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    return (level * np.sin(2 * np.pi * 180 * t) + noise * rng.standard_normal(t.size)).astype(np.float32)


def make_session(home: Path, lengths: list[float], accepted: list[bool] | None = None) -> Session:
    """A session whose take i lasts lengths[i] seconds (accepted unless told otherwise)."""
    studio = Studio.locate(home).ensure()
    prompts = [f"Sentence number {i + 1} of the test." for i in range(len(lengths))]
    session = Session.create(studio, "en", prompts, device="x", samplerate=RATE, script_name="t")
    for i, seconds in enumerate(lengths):
        path = session.take_path(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, _tone(seconds, seed=i), RATE)
        session.takes[i].seconds = seconds
        session.takes[i].status = "recorded"
        if accepted is None or accepted[i]:
            session.set_status(i, "accepted")
    session.save()
    _consent_on_record(session)
    return session


def _consent_on_record(session: Session) -> None:
    """A voice needs the speaker's consent statement on record (issue 14): espeak-ng reads it."""
    import subprocess

    from engine.consent import import_file, pending_text

    wav = session.dir / "consent-source.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), pending_text(session)], check=True, timeout=30)
    import_file(session, wav)


def test_create_from_session_picks_a_3_to_10_s_take_and_copies_it(studio_home):
    session = make_session(studio_home, [1.5, 12.0, 6.0, 4.0])
    studio = Studio.locate(studio_home)
    voice = create_from_session(studio, "Ana", session)
    assert voice.folder == studio.voices / "Ana"
    assert voice.reference_wav == voice.folder / "reference.wav"
    chosen = voice.extra["source"]["take"]
    assert chosen in ("0003", "0004")  # 1.5 s and 12 s takes are out of range
    assert chosen == "0003"  # closer to 6 s when no quality report decides
    index = int(chosen) - 1
    assert voice.reference_text == session.takes[index].text
    assert voice.reference_wav.read_bytes() == session.take_path(index).read_bytes()
    data = json.loads((voice.folder / "voice.json").read_text())
    assert data["kind"] == "zero-shot" and data["reference"]["wav"] == "reference.wav"
    info = voice_info(studio, "Ana")
    assert info.kind == "zero-shot" and info.language == "en" and info.version == "v2"
    assert info.reference_seconds == pytest.approx(6.0, abs=0.01)
    assert info.training_seconds is None and info.problem is None
    assert info.created_text[:2] == "20"
    assert [v.name for v in list_voices(studio)] == ["Ana"]
    assert not [p for p in studio.voices.iterdir() if p.name.startswith(".")]  # no staging left


def test_quality_report_and_take_override(studio_home):
    session = make_session(studio_home, [6.0, 4.0, 5.0])
    session.takes[0].quality = {"verdict": "fail", "checks": []}
    session.takes[1].quality = {"verdict": "ok", "checks": [{"key": "snr", "value": 35.0}]}
    session.takes[2].quality = {"verdict": "ok", "checks": [{"key": "snr", "value": 20.0}]}
    session.save()
    assert pick_reference(session).take_id == "0002"
    assert pick_reference(session, 3).take_id == "0003"
    with pytest.raises(NoReferenceTake, match="Take 0001"):  # failed its quality check: not training data
        pick_reference(session, "0001")
    with pytest.raises(NoReferenceTake, match="Take 7"):
        pick_reference(session, 7)
    studio = Studio.locate(studio_home)
    voice = create_from_session(studio, "pick", session, take="3")
    assert voice.extra["source"]["take"] == "0003"


def test_no_usable_take_is_refused_and_leaves_nothing(studio_home):
    session = make_session(studio_home, [2.0, 11.0, 5.0], accepted=[True, True, False])
    studio = Studio.locate(studio_home)
    with pytest.raises(NoReferenceTake) as err:
        create_from_session(studio, "none", session)
    assert err.value.hint
    assert list(studio.voices.iterdir()) == []


def test_existing_and_hostile_names_are_refused(studio_home):
    session = make_session(studio_home, [5.0])
    studio = Studio.locate(studio_home)
    create_from_session(studio, "me", session)
    with pytest.raises(VoiceExists):
        create_from_session(studio, "me", session)
    for hostile in ("..", "../../etc", "/", "  ", "...", "\x00"):
        try:
            voice = create_from_session(studio, hostile, session)
        except StudioError:
            continue
        # sanitised: it must sit directly inside voices/
        assert voice.folder.parent == studio.voices.resolve()
    outside = [p for p in studio.root.parent.iterdir() if p.name not in ("studio",)]
    assert all(p.name != "etc" for p in outside)
    made = {p.name for p in studio.voices.iterdir()}
    assert all("/" not in n and n not in (".", "..") for n in made)
    with pytest.raises(StudioError):
        rename_voice(studio, "me", "..")
    with pytest.raises(StudioError):
        delete_voice(studio, "..")
    assert (studio.voices / "me" / "voice.json").is_file() and studio.voices.is_dir()


def test_rename_and_delete_touch_only_that_voice(studio_home):
    session = make_session(studio_home, [5.0, 6.0])
    studio = Studio.locate(studio_home)
    create_from_session(studio, "a", session)
    create_from_session(studio, "b", session, take=2)
    with pytest.raises(VoiceExists):
        rename_voice(studio, "a", "b")
    dest = rename_voice(studio, "a", "c")
    assert dest == studio.voices / "c" and not (studio.voices / "a").exists()
    assert Voice.load("c", studio_home).name == "c"
    with pytest.raises(UnknownVoice):
        rename_voice(studio, "a", "d")
    delete_voice(studio, "c")
    assert sorted(p.name for p in studio.voices.iterdir()) == ["b"]
    assert session.take_path(0).is_file()  # the session's takes are untouched
    with pytest.raises(UnknownVoice):
        delete_voice(studio, "c")


def test_set_reference_changes_clip_and_text(studio_home):
    session = make_session(studio_home, [5.0, 7.0])
    studio = Studio.locate(studio_home)
    create_from_session(studio, "v", session, take=1)
    voice = set_reference(studio, "v", session, take=2)
    assert voice.reference_text == session.takes[1].text
    assert (studio.voices / "v" / "reference.wav").read_bytes() == session.take_path(1).read_bytes()
    assert Voice.load("v", studio_home).extra["source"]["take"] == "0002"


def test_damaged_voice_json_is_listed_with_its_problem(studio_home):
    studio = Studio.locate(studio_home).ensure()
    (studio.voices / "broken").mkdir()
    (studio.voices / "broken" / "voice.json").write_text("{}")
    (info,) = list_voices(studio)
    assert info.name == "broken" and info.problem


def _tiny_official(folder: Path) -> tuple[Path, Path]:
    """A tiny GPT .ckpt and SoVITS .pth in the official formats."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tiny_weights as tw

    from engine.models.sovits.config import TINY as SOVITS_TINY
    from engine.models.sovits.synthesizer import SynthesizerTrn
    from engine.models.t2s.config import TINY as GPT_TINY
    from engine.models.t2s.model import Text2Semantic
    from engine.weights import configs

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    gpt, sovits = folder / "in.ckpt", folder / "in.pth"
    sovits.write_bytes(
        tw.official_sovits_bytes(
            SynthesizerTrn(SOVITS_TINY).state_dict(), configs.sovits_config_to_dict(SOVITS_TINY)
        )
    )
    gpt.write_bytes(
        tw.official_gpt_bytes(Text2Semantic(GPT_TINY).state_dict(), configs.gpt_config_to_dict(GPT_TINY))
    )
    return gpt, sovits


def test_export_import_round_trip_keeps_the_weights(studio_home, tmp_path):
    from engine.weights import native, official
    from engine.weights.convert import import_official

    session = make_session(studio_home, [5.0])
    studio = Studio.locate(studio_home)
    voice = create_from_session(studio, "tuned", session)
    gpt_in, sovits_in = _tiny_official(tmp_path / "official")
    gpt_st, sovits_st = import_official(gpt_in, sovits_in, voice.folder)
    voice.gpt_path, voice.sovits_path = gpt_st, sovits_st
    voice.extra["training"] = {"data_seconds": 61.5}
    voice.save()
    info = voice_info(studio, "tuned")
    assert info.kind == "fine-tuned" and info.training_seconds == 61.5

    written = export_voice(studio, "tuned")
    names = sorted(p.name for p in written)
    assert names == ["tuned.ckpt", "tuned.pth", "tuned.ref.txt", "tuned.ref.wav"]
    assert all(p.parent == voice.folder / "export" for p in written)
    gpt_out = official.read_gpt(voice.folder / "export" / "tuned.ckpt")
    sovits_out = official.read_sovits(voice.folder / "export" / "tuned.pth")
    again = import_official(
        voice.folder / "export" / "tuned.ckpt", voice.folder / "export" / "tuned.pth", tmp_path / "again"
    )
    for original, back in zip((gpt_st, sovits_st), again, strict=True):
        kind = "gpt" if original.name.startswith("gpt") else "sovits"
        a, b = native.load(original, kind).weight, native.load(back, kind).weight
        dropped = set(a) - set(b)  # the official SoVITS export leaves out the posterior encoder
        assert set(b) <= set(a) and all(k.startswith("enc_q.") for k in dropped)
        assert all((a[k].float() == b[k].float()).all() for k in b)
    assert gpt_out.weight and sovits_out.weight


def test_zero_shot_export_gives_the_reference(studio_home, tmp_path):
    session = make_session(studio_home, [5.0])
    studio = Studio.locate(studio_home)
    create_from_session(studio, "zs", session)
    written = export_voice(studio, "zs", tmp_path / "out")
    assert sorted(p.name for p in written) == ["zs.ref.txt", "zs.ref.wav"]
    assert (tmp_path / "out" / "zs.ref.txt").read_text().strip() == session.takes[0].text


def _timbre(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_voices_cli(studio_home):
    session = make_session(studio_home, [5.0, 6.0])
    out = _timbre(studio_home, "voices", "create", "cli-voice", "--from-session", session.id, "--take", "2")
    assert out.returncode == 0, out.stderr
    assert "take 0002" in out.stdout
    again = _timbre(studio_home, "voices", "create", "cli-voice", "--from-session", session.id)
    assert again.returncode == 2 and "already exists" in again.stderr
    listing = _timbre(studio_home, "voices", "list", "--json")
    (entry,) = json.loads(listing.stdout)
    assert entry["name"] == "cli-voice" and entry["kind"] == "zero-shot"
    assert _timbre(studio_home, "voices", "rename", "cli-voice", "renamed").returncode == 0
    shown = _timbre(studio_home, "voices", "show", "renamed")
    assert "zero-shot" in shown.stdout and session.takes[1].text in shown.stdout
    table = _timbre(studio_home, "voices", "list")
    assert "renamed" in table.stdout and "zero-shot v2" in table.stdout
    refused = _timbre(studio_home, "voices", "delete", "renamed")  # no tty, no --yes
    assert refused.returncode == 2 and (studio_home / "voices" / "renamed").is_dir()
    assert _timbre(studio_home, "voices", "delete", "renamed", "--yes").returncode == 0
    assert _timbre(studio_home, "voices", "use-epoch", "--help").returncode == 0  # engine.train.epochs
    assert not (studio_home / "voices" / "renamed").exists()
