"""Spelling numbers out in English words: cardinals, ordinals, years, decimals and digit strings."""

from __future__ import annotations

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = (
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
    "decillion",
)
# longest integer read as a cardinal; longer digit runs are read digit by digit
MAX_CARDINAL_DIGITS = 3 * len(_SCALES)

_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _below_thousand(n: int) -> str:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest:
        if rest < 20:
            words.append(_ONES[rest])
        else:
            tens, ones = divmod(rest, 10)
            words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    return " ".join(words)


def digits_to_words(digits: str) -> str:
    """Read a string of digits one digit at a time ("2025" -> "two zero two five")."""
    return " ".join(_ONES[int(d)] for d in digits if d.isdigit())


def cardinal(n: int | str) -> str:
    """Cardinal number words without "and" (123 -> "one hundred twenty-three")."""
    text = str(n).lstrip("+")
    negative = text.startswith("-")
    text = text.lstrip("-").lstrip("0") or "0"
    if len(text) > MAX_CARDINAL_DIGITS:
        spoken = digits_to_words(text)
    else:
        value = int(text)
        if value == 0:
            spoken = "zero"
        else:
            groups: list[str] = []
            scale = 0
            while value:
                value, chunk = divmod(value, 1000)
                if chunk:
                    groups.append(_below_thousand(chunk) + (f" {_SCALES[scale]}" if scale else ""))
                scale += 1
            spoken = " ".join(reversed(groups))
    return f"minus {spoken}" if negative else spoken


def ordinal_from_words(words: str) -> str:
    """Turn the last word of cardinal words into its ordinal ("twenty-one" -> "twenty-first")."""
    head, sep, last = words.rpartition(" ")
    prefix, dash, tail = last.rpartition("-")
    if tail in _ORDINAL_IRREGULAR:
        tail = _ORDINAL_IRREGULAR[tail]
    elif tail.endswith("y"):
        tail = tail[:-1] + "ieth"
    else:
        tail += "th"
    return f"{head}{sep}{prefix}{dash}{tail}"


def ordinal(n: int | str) -> str:
    """Ordinal number words (22 -> "twenty-second")."""
    return ordinal_from_words(cardinal(n))


def year(n: int) -> str:
    """A four-digit number read the way years are (1999 -> "nineteen ninety-nine")."""
    if n == 2000 or not 1000 < n < 3000:
        return cardinal(n)
    if 2000 < n < 2010:
        return f"two thousand {_ONES[n % 100]}"
    high, low = divmod(n, 100)
    if low == 0:
        return f"{_below_thousand(high)} hundred"
    low_words = f"oh {_ONES[low]}" if low < 10 else _below_thousand(low)
    return f"{_below_thousand(high)} {low_words}"


def decimal(integer: str, fraction: str) -> str:
    """A decimal number: the integer part as a cardinal, the fraction digit by digit."""
    return f"{cardinal(integer or '0')} point {digits_to_words(fraction)}"
