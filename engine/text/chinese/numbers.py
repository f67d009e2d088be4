"""Reading Arabic numerals as Chinese numerals (the conventions of the v2 normaliser)."""

from __future__ import annotations

DIGIT_CHARS = "零一二三四五六七八九"
# Section sizes: 万 groups four digits, 亿 eight; inside a group 千 百 十.
_GROUP_UNITS = ((8, "亿"), (4, "万"), (3, "千"), (2, "百"), (1, "十"))


def read_digits(digits: str, yao: bool = False) -> str:
    """Read a digit string one digit at a time (``yao`` reads 1 as 幺, as in phone numbers)."""
    out = "".join(DIGIT_CHARS[int(d)] for d in digits if d.isdigit())
    return out.replace("一", "幺") if yao else out


def _read_group(digits: str, lead_zero: bool) -> list[str]:
    """Pieces of ``digits`` (no leading-zero stripping by the caller) read with place units."""
    core = digits.lstrip("0")
    if not core:
        return []
    if len(core) == 1:
        return (
            ["零", DIGIT_CHARS[int(core)]]
            if lead_zero and len(core) < len(digits)
            else [DIGIT_CHARS[int(core)]]
        )
    power, unit = next((p, u) for p, u in _GROUP_UNITS if p < len(core))
    head, tail = core[:-power], core[-power:]
    pieces = _read_group(head, lead_zero=True) + [unit] + _read_group(tail, lead_zero=True)
    if lead_zero and len(core) < len(digits):
        pieces = ["零"] + pieces
    return pieces


def read_cardinal(digits: str) -> str:
    """Read an unsigned integer string as a cardinal, e.g. ``10010`` → 一万零一十, ``15`` → 十五."""
    digits = digits.lstrip("0")
    if not digits:
        return "零"
    pieces = _read_group(digits, lead_zero=False)
    if len(pieces) >= 2 and pieces[0] == "一" and pieces[1] == "十":
        pieces = pieces[1:]
    return "".join(pieces)


def read_number(text: str) -> str:
    """Read ``123``, ``3.14`` or ``.5`` (trailing decimal zeros dropped: 3.20 → 三点二)."""
    whole, _, frac = text.partition(".")
    out = read_cardinal(whole) if whole else ""
    frac = frac.rstrip("0")
    if frac:
        out = (out or "零") + "点" + read_digits(frac)
    return out or "零"


def read_amount(digits: str) -> str:
    """A cardinal said as an amount: 2 is 两, and so is a leading 2 before 千/万/亿 (两千, 两万)."""
    spoken = read_cardinal(digits)
    if spoken == "二":
        return "两"
    if spoken.startswith("二") and spoken[1:2] in ("千", "万", "亿"):
        return "两" + spoken[1:]
    return spoken
