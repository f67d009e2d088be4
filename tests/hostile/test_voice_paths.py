"""Issue 13, class "nothing is written outside the studio": names and paths read from voice.json.

A seeded corpus of hostile entries (paths that climb out, absolute paths, links that lead out,
separators, control characters, wrong types) goes through every way a voice.json is read; each
is refused with the "damaged" StudioError, and no file appears outside the studio's voice folder.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hostile_cli import clear, cli

from engine.errors import ModelError, StudioError
from engine.studio import Studio
from engine.voice import Voice, export_voice, list_voices
from engine.weights.convert import export_official

SEED = 1313
TEXT = "The quick brown fox jumps over the lazy dog."


def _hostile_paths(rng: random.Random, outside: Path) -> list[str]:
    """Relative and absolute paths that lead out of a voice folder (and a few that merely look odd)."""
    fixed = [
        "../reference.wav", "../../x.wav", "../../../../../../etc/passwd", str(outside / "abs.wav"),
        "/dev/null", "a/../../b.wav", "..", "sub/../../../c.wav", "link-out/inner.wav", "link-file.wav",
    ]  # fmt: skip
    while len(fixed) < 30:
        depth = rng.randrange(1, 6)
        parts = [rng.choice(["..", ".", "x", "..", "y"]) for _ in range(depth)]
        candidate = "/".join([*parts, f"f{rng.randrange(99)}.wav"])
        if os.path.normpath(candidate).startswith(".."):
            fixed.append(candidate)
    return fixed


def _hostile_names(rng: random.Random) -> list[object]:
    names: list[object] = ["../../evil", "/tmp/evil", "a/b", "a\\b", "..", ".", "", " ", "x\0y", "\x1b[2Jx"]
    names += ["\n", "n" * 300, 5, 3.5, None, True, [], {}, ["a"], {"x": 1}]
    names += ["/".join(rng.choice(["..", "up", "."]) for _ in range(rng.randrange(2, 6))) for _ in range(10)]
    return names


def _voice_folder(home: Path, data: dict, name: str = "v") -> Path:
    folder = home / "voices" / name
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / "reference.wav", np.zeros(32000 * 4, np.float32), 32000, subtype="PCM_16")
    (folder / "voice.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _good(**changes) -> dict:
    data = {"name": "v", "version": "v2", "language": "en"}
    data.update({"reference": {"wav": "reference.wav", "text": TEXT}}, **changes)
    return data


def _files_outside(root: Path, studio_voice: Path) -> set[Path]:
    return {p for p in root.rglob("*") if studio_voice not in p.parents and p != studio_voice}


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "studio"
    (home / "voices").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "inner.wav").write_bytes(b"RIFF")
    return home


def _links(folder: Path, outside: Path) -> None:
    (folder / "link-out").symlink_to(outside, target_is_directory=True)
    (folder / "link-file.wav").symlink_to(outside / "inner.wav")


def test_reference_and_weight_paths_that_lead_out_are_refused(home, tmp_path):
    outside = tmp_path / "outside"
    rng = random.Random(SEED)
    studio = Studio(home)
    folder = _voice_folder(home, _good())
    _links(folder, outside)
    for path in _hostile_paths(rng, outside):
        for data in (
            _good(reference={"wav": path, "text": TEXT}),
            _good(weights={"gpt": path, "sovits": "sovits.safetensors"}),
            _good(weights={"gpt": "gpt.safetensors", "sovits": path}),
        ):
            (folder / "voice.json").write_text(json.dumps(data), encoding="utf-8")
            with pytest.raises(StudioError, match="outside|damaged"):
                Voice.load("v", home)
            assert list_voices(studio)[0].problem  # the list shows it as a problem, never crashes


def test_names_and_field_types_that_are_not_plain_are_damaged(home):
    rng = random.Random(SEED)
    folder = _voice_folder(home, _good())
    cases: list[dict] = [_good(name=name) for name in _hostile_names(rng)]
    for bad in (5, None, [], {"a": 1}, ["reference.wav"], True):
        cases.append(_good(reference={"wav": bad, "text": TEXT}))
        cases.append(_good(reference={"wav": "reference.wav", "text": bad}))
        cases.append(_good(weights=[bad]))
    cases += [_good(reference=["reference.wav", TEXT]), _good(reference="reference.wav")]
    cases.append(_good(weights="gpt"))
    for data in cases:
        if data.get("name") in ("v",):
            continue
        (folder / "voice.json").write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(StudioError) as info:
            Voice.load("v", home)
        assert "damaged" in info.value.message or "reference clip" in info.value.message, data
    for raw in ("[1, 2]", '"text"', "5", "null", "{"):
        (folder / "voice.json").write_text(raw, encoding="utf-8")
        with pytest.raises(StudioError):
            Voice.load("v", home)


def test_plain_voices_still_load(home):
    folder = _voice_folder(home, _good(name="My Voice", weights={"gpt": "gpt.safetensors", "sovits": ""}))
    voice = Voice.load("v", home)
    assert voice.name == "My Voice" and voice.sovits_path is None
    assert voice.gpt_path == folder / "gpt.safetensors" and voice.reference_wav == folder / "reference.wav"
    assert voice.to_json()["reference"]["wav"] == "reference.wav"


def test_exports_write_only_inside_their_folder(home, tmp_path):
    rng = random.Random(SEED)
    out = tmp_path / "export"
    before = _files_outside(tmp_path, out)
    for name in [n for n in _hostile_names(rng) if isinstance(n, str)]:
        separator = not name or any(ch in name for ch in "/\\\0")  # not exactly one plain file name
        expected = StudioError if separator else ModelError  # a plain name gets on to the (absent) weights
        with pytest.raises(expected):
            export_official(home / "voices" / "v", out, name)
    assert _files_outside(tmp_path, out) == before
    _voice_folder(home, _good(name="../../../evil"), name="w")
    before = _files_outside(tmp_path, out)
    with pytest.raises(StudioError, match="damaged"):
        export_voice(Studio(home), "w", out)
    assert _files_outside(tmp_path, out) == before and not list(out.glob("**/*"))


def test_the_cli_says_damaged_and_writes_nothing(home, tmp_path, capsys, monkeypatch):
    _voice_folder(home, _good(name="../../../../evil", weights={"gpt": "gpt.ckpt", "sovits": "s.pth"}))
    before = _files_outside(tmp_path, home / "voices")
    clear(cli(capsys, monkeypatch, "models", "export", "--voice", "v", home=home), "damaged")
    clear(cli(capsys, monkeypatch, "voices", "export", "v", home=home), "damaged")
    clear(cli(capsys, monkeypatch, "say", "--voice", "v", "Hello there.", home=home), "damaged")
    assert _files_outside(tmp_path, home / "voices") == before
