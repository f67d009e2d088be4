"""Download the pretrained files from Hugging Face (only ever on an explicit request), verified by sha256."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import ModelError
from engine.weights.registry import PARTS, REPO_ID, PretrainedFile, part

log = logging.getLogger(__name__)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str | None) -> None:
    """Raise ModelError if ``path`` does not have the ``expected`` sha256 (nothing to check when None)."""
    if not expected:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            f"{path.name} is damaged or not the expected file (sha256 {actual[:12]}…, not {expected[:12]}…).",
            "Delete it and run `timbre models download` again.",
        )


def _server_sha256(path_in_repo: str) -> str | None:
    """The sha256 Hugging Face reports for a stored (LFS) file, or None when it gives none."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        meta = get_hf_file_metadata(hf_hub_url(REPO_ID, path_in_repo))
    except Exception as exc:  # noqa: BLE001 - any failure just means "no server hash"
        log.info("no server hash for %s: %s", path_in_repo, exc)
        return None
    etag = (meta.etag or "").strip('"').lower()
    return etag if len(etag) == 64 and all(c in "0123456789abcdef" for c in etag) else None


def expected_sha256(f: PretrainedFile) -> str | None:
    """What a downloaded file must hash to: the server's LFS sha256, else the registry's."""
    server = _server_sha256(f.path)
    if server and f.sha256 and server != f.sha256:
        log.warning("%s: the server's sha256 %s differs from the registry's %s", f.path, server, f.sha256)
    return server or f.sha256


def _files(keys: Iterable[str] | None) -> list[PretrainedFile]:
    chosen = [part(k) for k in keys] if keys else [p for p in PARTS if not p.optional]
    return [f for entry in chosen for f in entry.files]


def download(
    keys: Iterable[str] | None = None,
    *,
    local_dir: Path | None = None,
    cache_dir: str | None = None,
    progress: bool = True,
    tqdm_class: type | None = None,
) -> list[Path]:
    """Fetch the files of ``keys`` (default: all non-optional parts) and verify them; return their paths.

    Downloads resume where they stopped. With ``local_dir`` the files land in a folder laid out like the
    repo (use it as $TIMBRE_PRETRAINED); otherwise they go into the Hugging Face cache. ``tqdm_class``
    (a tqdm subclass) receives each file's byte progress, e.g. for a progress bar in the app.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    if not progress:
        disable_progress_bars()
    elif not os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS"):  # the person's own setting wins, quietly
        enable_progress_bars()
    paths: list[Path] = []
    for f in _files(keys):
        log.info("fetching %s/%s", REPO_ID, f.path)
        try:
            hit = hf_hub_download(
                REPO_ID, f.path, local_dir=local_dir, cache_dir=cache_dir, tqdm_class=tqdm_class
            )
        except LocalEntryNotFoundError as exc:
            raise ModelError(
                f"Could not download {f.path}: no connection to Hugging Face (or HF_HUB_OFFLINE is set).",
                "Check the network and unset HF_HUB_OFFLINE, then run `timbre models download` again; "
                "finished files are kept and partial ones resume.",
            ) from exc
        except (HfHubHTTPError, OSError) as exc:
            raise ModelError(
                f"Downloading {f.path} failed: {exc}",
                "Run `timbre models download` again; partial files resume.",
            ) from exc
        path = Path(hit)
        verify(path, expected_sha256(f))
        paths.append(path)
    return paths
