"""Find the pretrained files: a folder laid out like the HF repo ($TIMBRE_PRETRAINED), or the HF cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.weights.registry import PARTS, REPO_ID, PretrainedPart, part

PRETRAINED_ENV = "TIMBRE_PRETRAINED"
DOWNLOAD_HINT = (
    "Run `timbre models download` (about 2 GB from Hugging Face), or set TIMBRE_PRETRAINED to a folder "
    "laid out like the lj1995/GPT-SoVITS repo."
)

# A transformers folder works with either weight file and either tokenizer file.
_WEIGHT_NAMES = ("model.safetensors", "pytorch_model.bin")
_TOKENIZER_NAMES = ("tokenizer.json", "vocab.txt")


class PretrainedMissingError(ModelError):
    """Some pretrained files are not on this machine."""


@dataclass(frozen=True)
class Found:
    """Where one part was found (``path`` is a file, or a folder for transformers models)."""

    key: str
    path: Path | None
    source: str  # "TIMBRE_PRETRAINED", "huggingface cache" or "missing"


@dataclass(frozen=True)
class PretrainedPaths:
    """Paths of the pretrained parts that were asked for (the others stay None)."""

    gpt: Path | None = None
    sovits: Path | None = None
    hubert: Path | None = None
    bert: Path | None = None
    sovits_d: Path | None = None


def _folder_ok(folder: Path, entry: PretrainedPart) -> bool:
    if not (folder / "config.json").is_file():
        return False
    if not any((folder / n).is_file() for n in _WEIGHT_NAMES):
        return False
    if entry.key == "bert" and not any((folder / n).is_file() for n in _TOKENIZER_NAMES):
        return False
    return True


def _in_local(root: Path, entry: PretrainedPart) -> Path | None:
    if entry.folder:
        folder = root / entry.folder
        return folder if _folder_ok(folder, entry) else None
    path = root / entry.files[0].path
    return path if path.is_file() else None


def _in_hf_cache(entry: PretrainedPart, cache_dir: str | None) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found: list[Path] = []
    for f in entry.files:
        hit = try_to_load_from_cache(REPO_ID, f.path, cache_dir=cache_dir)
        if not isinstance(hit, str):
            return None
        found.append(Path(hit))
    if entry.folder:
        folder = found[0].parent
        return folder if all(p.parent == folder for p in found) and _folder_ok(folder, entry) else None
    return found[0]


def local_root() -> Path | None:
    """The $TIMBRE_PRETRAINED folder, if set."""
    value = os.environ.get(PRETRAINED_ENV)
    return Path(value).expanduser() if value else None


def find(key: str, *, root: Path | None = None, cache_dir: str | None = None) -> Found:
    """Look for one part: first in ``root`` (default $TIMBRE_PRETRAINED), then in the HF cache."""
    entry = part(key)
    root = root if root is not None else local_root()
    if root is not None:
        hit = _in_local(root, entry)
        if hit is not None:
            return Found(key, hit, PRETRAINED_ENV)
    hit = _in_hf_cache(entry, cache_dir)
    if hit is not None:
        return Found(key, hit, "huggingface cache")
    return Found(key, None, "missing")


def status(*, root: Path | None = None, cache_dir: str | None = None) -> list[Found]:
    """Where each registry part is (or that it is missing)."""
    return [find(p.key, root=root, cache_dir=cache_dir) for p in PARTS]


def locate(
    keys: tuple[str, ...] = ("gpt", "sovits", "hubert", "bert"),
    *,
    root: Path | None = None,
    cache_dir: str | None = None,
) -> PretrainedPaths:
    """Paths of the needed parts, or one PretrainedMissingError naming every missing one."""
    found = {k: find(k, root=root, cache_dir=cache_dir) for k in keys}
    missing = [part(k).title for k, f in found.items() if f.path is None]
    if missing:
        raise PretrainedMissingError(
            "Pretrained model files are missing: " + "; ".join(missing) + ".", DOWNLOAD_HINT
        )
    paths = {k.replace("-", "_"): f.path for k, f in found.items()}
    return PretrainedPaths(**paths)
