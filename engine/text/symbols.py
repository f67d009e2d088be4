"""The GPT-SoVITS v2 phoneme table (732 symbols; a symbol's index is its id)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources

from engine.errors import TextError

TABLE_FILE = "symbols-v2.json"


@cache
def _table() -> dict:
    raw = resources.files("engine.text").joinpath("data", TABLE_FILE).read_text(encoding="utf-8")
    return json.loads(raw)


@cache
def symbols() -> tuple[str, ...]:
    """All v2 symbols in id order."""
    return tuple(_table()["symbols"])


def expected_sha256() -> str:
    """The sha256 recorded in the shipped table for its symbol list."""
    return str(_table()["sha256_of_json_list"])


def actual_sha256() -> str:
    """The sha256 of the shipped symbol list, serialised as ``json.dumps(list, ensure_ascii=False)``."""
    payload = json.dumps(list(symbols()), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@cache
def symbol_to_id() -> dict[str, int]:
    """Map from symbol to id."""
    return {s: i for i, s in enumerate(symbols())}


def phones_to_ids(phones: list[str]) -> list[int]:
    """Ids of ``phones``; raises TextError naming the first symbol that is not in the table."""
    table = symbol_to_id()
    ids: list[int] = []
    for position, phone in enumerate(phones):
        try:
            ids.append(table[phone])
        except KeyError:
            raise TextError(
                f"Phoneme {phone!r} (position {position}) is not in the GPT-SoVITS v2 symbol table.",
                "This is a bug in the text frontend; please report the text that caused it.",
            ) from None
    return ids


def ids_to_phones(ids: list[int]) -> list[str]:
    """Symbols for ``ids``; raises TextError for an id outside the table."""
    table = symbols()
    out: list[str] = []
    for i in ids:
        if not 0 <= i < len(table):
            raise TextError(f"Phoneme id {i} is outside the table (0..{len(table) - 1}).")
        out.append(table[i])
    return out
