"""Fetching missing pretrained files from the app: which are missing, a fast offline check, byte progress.

:func:`missing_parts` names the parts a voice needs that are not on this machine. :func:`fetch_parts`
checks that Hugging Face can be reached at all (a TCP connect with a short timeout, and HF_HUB_OFFLINE)
before anything is created, then downloads through :func:`engine.weights.download.download` with a tqdm
stand-in that reports :class:`Progress` (bytes, speed, ETA) to a callback. Folders it created and left
empty after a failure are removed.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from engine.errors import ModelError
from engine.weights.registry import part

HF_HOST_ENV = "HF_ENDPOINT"
CONNECT_TIMEOUT_S = 3.0


class Offline(ModelError):
    """Hugging Face cannot be reached, so nothing was downloaded (and nothing was created)."""


@dataclass(frozen=True)
class Progress:
    """Where a download stands."""

    file: str
    done: int  # bytes of this file so far
    total: int | None  # bytes of this file, when known
    files_done: int
    files_total: int
    speed: float  # bytes per second (recent)
    eta_s: float | None

    @property
    def fraction(self) -> float | None:
        """0..1 through the current file, or None when its size is unknown."""
        return min(1.0, self.done / self.total) if self.total else None

    def line(self) -> str:
        """'file 2/4 s2G2333k.pth  41.0/106.0 MB  5.2 MB/s  ETA 12 s'."""
        mb = 1_000_000
        size = f"{self.done / mb:.1f}/{self.total / mb:.1f} MB" if self.total else f"{self.done / mb:.1f} MB"
        eta = f"  ETA {self.eta_s:.0f} s" if self.eta_s is not None else ""
        name = self.file.rsplit("/", 1)[-1]
        return (
            f"file {self.files_done + 1}/{self.files_total} {name}  {size}  {self.speed / mb:.1f} MB/s{eta}"
        )


def needed_parts(voice: Any) -> tuple[str, ...]:
    """Registry keys a voice needs from the pretrained set (its own weights replace GPT/SoVITS)."""
    keys = ["hubert", "bert"]
    if getattr(voice, "gpt_path", None) is None:
        keys.insert(0, "gpt")
    if getattr(voice, "sovits_path", None) is None:
        keys.insert(1 if "gpt" in keys else 0, "sovits")
    return tuple(keys)


def missing_parts(keys: Iterable[str]) -> list[str]:
    """The keys among ``keys`` whose files are not on this machine."""
    from engine.weights.locate import find

    return [k for k in keys if find(k).path is None]


def describe(keys: Iterable[str]) -> str:
    """'GPT (text to semantic), v2 (155 MB); chinese-hubert-base (SSL features)'."""
    out = []
    for k in keys:
        entry = part(k)
        size = f" ({entry.approx_bytes / 1e6:.0f} MB)" if entry.approx_bytes else ""
        out.append(entry.title + size)
    return "; ".join(out)


def _endpoint() -> tuple[str, int]:
    url = urlparse(os.environ.get(HF_HOST_ENV) or "https://huggingface.co")
    return url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)


def check_online(timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise Offline at once when HF_HUB_OFFLINE is set or the hub cannot be reached within ``timeout``."""
    hint = "Check the network (and unset HF_HUB_OFFLINE), then try again; nothing was downloaded."
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise Offline("Cannot download: HF_HUB_OFFLINE is set (offline mode).", hint)
    host, port = _endpoint()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise Offline(f"Cannot reach {host} ({exc.strerror or exc}).", hint) from exc


def _tqdm_reporter(report: Callable[[Progress], None], counter: dict[str, Any]) -> type:
    """A tqdm subclass that prints nothing and reports every update to ``report``."""
    from tqdm.std import tqdm

    class Reporter(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - closed in close()
            kwargs["disable"] = False
            kwargs.pop("name", None)
            desc = str(kwargs.get("desc") or "")
            if desc:
                counter["file"] = desc
            super().__init__(*args, **kwargs)
            self._done = int(kwargs.get("initial") or 0)
            self._t0 = time.monotonic()
            self._start = self._done
            self._emit()

        def update(self, n: float | None = 1) -> bool | None:
            self._done += int(n or 0)
            self._emit()
            return super().update(n)

        def _emit(self) -> None:
            spent = max(time.monotonic() - self._t0, 1e-6)
            speed = (self._done - self._start) / spent
            total = int(self.total) if self.total else None
            eta = (total - self._done) / speed if total and speed > 0 else None
            report(
                Progress(counter["file"], self._done, total, counter["index"], counter["count"], speed, eta)
            )

        def close(self) -> None:
            if not getattr(self, "_closed_once", False):
                self._closed_once = True
                counter["index"] = min(counter["index"] + 1, counter["count"])
            fp = self.fp
            super().close()
            try:
                fp.close()
            except Exception:  # noqa: BLE001
                pass

    return Reporter


def _dirs_under(roots: Iterable[Path]) -> set[Path]:
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            found.add(root)
            found.update(p for p in root.rglob("*") if p.is_dir())
    return found


def _cache_roots(local_dir: Path | None, cache_dir: str | None) -> list[Path]:
    if local_dir is not None:
        return [Path(local_dir)]
    from huggingface_hub import constants

    return [Path(cache_dir or constants.HF_HUB_CACHE)]


def _remove_new_empty(before: set[Path], roots: list[Path]) -> None:
    """Remove folders created since ``before`` that are empty (deepest first), and empty new roots."""
    for folder in sorted(_dirs_under(roots) - before, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass
    for root in roots:
        parent = root
        while parent not in before and parent != parent.parent:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def fetch_parts(
    keys: Iterable[str],
    report: Callable[[Progress], None] | None = None,
    *,
    local_dir: Path | None = None,
    cache_dir: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    downloader: Callable[..., list[Path]] | None = None,
) -> list[Path]:
    """Download the files of ``keys`` with byte progress; Offline at once, creating nothing, when offline."""
    from engine.weights import download as dl

    keys = list(keys)
    check_online(connect_timeout)
    files = [f.path for k in keys for f in part(k).files]
    counter: dict[str, Any] = {"file": files[0] if files else "", "index": 0, "count": len(files)}
    roots = _cache_roots(local_dir, cache_dir)
    existing = {p for r in roots for p in [*r.parents, r] if p.is_dir()}
    before = _dirs_under(roots) | existing
    tqdm_class = _tqdm_reporter(report or (lambda _p: None), counter)
    run = downloader or dl.download
    paths: list[Path] = []
    try:
        for k in keys:
            paths.extend(
                run([k], local_dir=local_dir, cache_dir=cache_dir, progress=True, tqdm_class=tqdm_class)
            )
    except BaseException:
        _remove_new_empty(before, roots)
        raise
    return paths
