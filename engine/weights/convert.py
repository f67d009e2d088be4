"""Conversions between the official formats and Timbre's safetensors files (a voice's ``export/`` folder)."""

from __future__ import annotations

from pathlib import Path

from engine.weights import native, official


def sovits_to_native(f: official.SovitsFile) -> native.NativeWeights:
    """An s2 file's content as Timbre weights (dtype and config kept as they are)."""
    return native.NativeWeights("sovits", dict(f.weight), f.config, f.info, f.version)


def gpt_to_native(f: official.GptFile) -> native.NativeWeights:
    """An s1 file's content as Timbre weights (keys without the ``model.`` prefix)."""
    return native.NativeWeights("gpt", dict(f.weight), f.config, f.info, "v2")


def _header_for(version: str) -> bytes | None:
    # v1/v2 exports are plain torch.save files; newer versions carry the two-byte header.
    if version in ("v1", "v2"):
        return None
    for header, name in official.VERSION_HEADERS.items():
        if name == version:
            return header
    return None


def import_official(gpt_ckpt: Path | str, sovits_pth: Path | str, out_dir: Path | str) -> tuple[Path, Path]:
    """Read an official GPT/SoVITS pair; write ``gpt.safetensors`` and ``sovits.safetensors`` in out_dir."""
    out = Path(out_dir)
    gpt = native.save(out / "gpt.safetensors", gpt_to_native(official.read_gpt(gpt_ckpt)))
    sovits = native.save(out / "sovits.safetensors", sovits_to_native(official.read_sovits(sovits_pth)))
    return gpt, sovits


def export_official(voice_dir: Path | str, out_dir: Path | str, name: str) -> tuple[Path, Path]:
    """Write ``<name>.ckpt`` and ``<name>.pth`` (official fine-tune formats) from a voice's safetensors."""
    from engine.errors import StudioError
    from engine.fsutil import inside

    src, out = Path(voice_dir), Path(out_dir)
    # the name comes from voice.json: both files must land in ``out`` itself (issue 13)
    if not isinstance(name, str) or not name or any(ch in name for ch in "/\\\0"):
        raise StudioError(f"The voice name {name!r} is not a plain file name.", "Rename the voice.")
    gpt_out, sovits_out = inside(out, f"{name}.ckpt"), inside(out, f"{name}.pth")
    if gpt_out.parent != out.resolve() or sovits_out.parent != out.resolve():
        raise StudioError(f"The voice name {name!r} is not a plain file name.", "Rename the voice.")
    gpt = native.load(src / "gpt.safetensors", "gpt")
    sovits = native.load(src / "sovits.safetensors", "sovits")
    gpt_path = official.write_gpt_export(gpt_out, gpt.weight, gpt.config, gpt.info or "GPT-e0")
    sovits_path = official.write_sovits_export(
        sovits_out,
        sovits.weight,
        sovits.config,
        sovits.info or "0epoch_0iteration",
        _header_for(sovits.version),
    )
    return gpt_path, sovits_path
