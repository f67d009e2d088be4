"""Safe file-system helpers: atomic writes and names that cannot escape their folder."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.errors import StudioError

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_name(name: str, *, what: str = "name") -> str:
    """Return ``name`` as a single safe path component, or raise StudioError if nothing usable is left."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    cleaned = _UNSAFE.sub("-", cleaned).strip(".-_")
    cleaned = cleaned[:80]
    if not cleaned:
        raise StudioError(
            f"The {what} {name!r} has no usable characters.",
            "Use letters, digits, '-', '_' or '.', for example 'my-voice'.",
        )
    return cleaned


def inside(folder: Path | str, *parts: str | Path) -> Path:
    """``folder/part/…``, refused with a StudioError unless it resolves inside ``folder``.

    The one check for every path built from data (ids and names read from session.json or voice.json,
    names typed by a person): absolute parts, ``..``, and symlinks that lead out are all refused.
    """
    base = Path(folder).resolve()
    path = base.joinpath(*parts)
    try:
        resolved = path.resolve()
    except (ValueError, OSError) as exc:  # a NUL byte, a symlink loop
        raise StudioError(
            f"Refused the path {str(path)!r}: {exc}.",
            "An id or name in a studio file is damaged; fix or remove that entry.",
        ) from exc
    if resolved != base and base not in resolved.parents:
        raise StudioError(
            f"Refused the path {path}: it leads outside {base}.",
            "An id or name in a studio file was changed to point elsewhere; fix or remove that entry.",
        )
    return path


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (best effort; some file systems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or what a plain ``open()`` would give under the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    """Write bytes to ``target`` atomically (temp file in the same folder, fsync, rename)."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path | str, text: str) -> None:
    """Write UTF-8 text to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: Path | str, obj: Any) -> None:
    """Write ``obj`` as pretty UTF-8 JSON to ``target`` atomically."""
    atomic_write_text(target, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def read_json(path: Path | str) -> Any:
    """Read a JSON file, turning a corrupt file into a StudioError that names it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise StudioError(
            f"Could not read {path}: {exc}",
            "The file may be damaged; move it aside and try again.",
        ) from exc
