"""Small helpers for loading transformers models quietly and offline."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import ModelError

log = logging.getLogger(__name__)

DOWNLOAD_HINT = "Run `timbre models download`."


class PretrainedWrapper:
    """Holds a transformers model in eval mode and tells its feature width and device."""

    def __init__(self, model) -> None:
        self.model = model.eval()

    @property
    def dim(self) -> int:
        """Feature width (the model's ``hidden_size``)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self):
        """The torch device the weights are on."""
        return next(self.model.parameters()).device


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars while the block runs, then restore them."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def load_pretrained(model_class, folder: Path, what: str, ignore: tuple[str, ...] = (), **kwargs):
    """``model_class.from_pretrained`` offline and quiet; any missing tensor is a clear ModelError.

    ``what`` names the expected model (e.g. "chinese-hubert-base") in messages. Unused tensors in the
    file whose names start with ``ignore`` (e.g. a masked-LM head) are expected; any others are logged.
    """
    if not (folder / "config.json").is_file():
        raise ModelError(f"No {what} model in {folder} (config.json is missing).", DOWNLOAD_HINT)
    try:
        with quiet_transformers():
            model, info = model_class.from_pretrained(
                folder, local_files_only=True, output_loading_info=True, **kwargs
            )
    except (OSError, ValueError) as exc:
        raise ModelError(f"Could not load {what} from {folder}: {exc}", DOWNLOAD_HINT) from exc
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        raise ModelError(
            f"The {what} weights in {folder} lack {len(missing)} tensors (first: {missing[0]}).",
            f"The folder holds a different model; download {what} again (`timbre models download`).",
        )
    unused = [k for k in info.get("unexpected_keys") or () if not (ignore and k.startswith(ignore))]
    if unused:
        log.warning("%s: %d unused tensors in %s (first: %s)", what, len(unused), folder, unused[0])
    return model.eval()
