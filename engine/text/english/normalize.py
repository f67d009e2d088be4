"""English text normalisation: numbers, ordinals, years, money, times, units, abbreviations, symbols.

The output holds only ASCII letters, apostrophes, spaces and the punctuation marks the v2 table knows
for English (``. , ? ! -``), so the G2P step never meets a character it cannot place.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable

from engine.text.english import numbers
from engine.text.invisible import strip_invisible

PUNCTUATION = ".,?!-"

# full-width and typographic marks folded to what the English G2P understands
_CHAR_MAP = {
    "，": ", ",  # full-width marks carry their own space: "302，WiFi" reads "302, WiFi"
    "、": ", ",
    "。": ". ",
    "．": ".",
    "！": "! ",
    "？": "? ",
    "；": "; ",
    "：": ":",
    "℃": "°C",
    "℉": "°F",
    "…": ".",
    "‥": ".",
    "—": ",",
    "―": ",",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "（": "(",
    "）": ")",
    "～": "~",
    "￥": "¥",
    "＄": "$",
    "％": "%",
}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)

_MONTHS = ("January February March April May June July August September October November December").split()

# abbreviations that end in a period; the replacement drops the period
_ABBREVIATIONS = {
    "mr": "mister",
    "mrs": "missus",
    "ms": "miz",
    "dr": "doctor",
    "prof": "professor",
    "jr": "junior",
    "sr": "senior",
    "mt": "mount",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "inc": "incorporated",
    "ltd": "limited",
    "corp": "corporation",
    "dept": "department",
    "gen": "general",
    "capt": "captain",
    "lt": "lieutenant",
    "sgt": "sergeant",
    "ave": "avenue",
    "rd": "road",
    "blvd": "boulevard",
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "sept": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\.", re.I)
_SAINT_RE = re.compile(r"\bSt\.(?=\s+[A-Z])")
_STREET_RE = re.compile(r"\bSt\.")
_NUMBER_ABBR_RE = re.compile(r"\b(No|no|Nos|nos)\.\s*(?=\d)")
_VS_RE = re.compile(r"\bvs\b", re.I)
_LATIN_RE = (
    (re.compile(r"\be\.\s?g\.", re.I), "for example"),
    (re.compile(r"\bi\.\s?e\.", re.I), "that is"),
)
_INITIALISM_RE = re.compile(r"\b((?:[A-Za-z]\.){2,})")

_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)\b")
_URL_RE = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s\"'<>()]+", re.I)
_DOMAIN_RE = re.compile(
    r"(?<![A-Za-z0-9.\-])[A-Za-z0-9][A-Za-z0-9\-]*(?:\.[A-Za-z0-9\-]+)*"
    r"\.(?:com|org|net|edu|gov|io|ai|dev|app|info|co|uk|cn|de)\b"
)

_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASH_DATE_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_MONTH_DAY_RE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b(?![:\d])")

_TIME_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?:\s*([AaPp])\.?\s?[Mm]\b(\.)?)?")
_AMPM_RE = re.compile(r"\b(\d{1,2})\s*([AaPp])\.?\s?[Mm]\b(\.)?")
_PHONE_RE = re.compile(r"(?<![\d\-])\(?(\d{3})\)?[\s.\-](\d{3})[.\-](\d{4})(?![\d\-])")  # 555-123-4567
_DECADE_RE = re.compile(r"\b(1[0-9]\d0|20\d0)'?s\b|(?:(?<=\bthe )|(?<='))(\d0)s\b")  # 1990s, the 80s, '80s

_AMOUNT = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"  # a comma after it is punctuation
_SCALE = r"(?:\s*(thousand|million|billion|trillion|[kK]|[mM]|bn|BN)\b)?"
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
}
_MONEY_PREFIX_RE = re.compile(r"([$£€¥])\s?" + _AMOUNT + _SCALE)
_MONEY_SUFFIX_RE = re.compile(r"(?<![\d,.])" + _AMOUNT + r"\s?([$£€¥])")
_SCALE_WORDS = {"k": "thousand", "m": "million", "bn": "billion"}

# unit -> (singular, plural, needs to touch the number)
_UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour", False),
    "mph": ("mile per hour", "miles per hour", False),
    "km": ("kilometer", "kilometers", False),
    "cm": ("centimeter", "centimeters", False),
    "mm": ("millimeter", "millimeters", False),
    "m": ("meter", "meters", True),
    "kg": ("kilogram", "kilograms", False),
    "mg": ("milligram", "milligrams", False),
    "g": ("gram", "grams", True),
    "lb": ("pound", "pounds", False),
    "lbs": ("pound", "pounds", False),
    "oz": ("ounce", "ounces", False),
    "ft": ("foot", "feet", False),
    "in": ("inch", "inches", True),
    "ml": ("milliliter", "milliliters", False),
    "L": ("liter", "liters", True),
    "l": ("liter", "liters", True),
    "h": ("hour", "hours", True),
    "hr": ("hour", "hours", False),
    "hrs": ("hour", "hours", False),
    "min": ("minute", "minutes", True),
    "s": ("second", "seconds", True),
    "sec": ("second", "seconds", False),
    "ms": ("millisecond", "milliseconds", False),
    "°C": ("degree celsius", "degrees celsius", False),
    "°F": ("degree fahrenheit", "degrees fahrenheit", False),
    "°": ("degree", "degrees", True),
    "KB": ("kilobyte", "kilobytes", False),
    "MB": ("megabyte", "megabytes", False),
    "GB": ("gigabyte", "gigabytes", False),
    "TB": ("terabyte", "terabytes", False),
    "Hz": ("hertz", "hertz", False),
    "kHz": ("kilohertz", "kilohertz", False),
    "MHz": ("megahertz", "megahertz", False),
    "GHz": ("gigahertz", "gigahertz", False),
}
_UNIT_RE = re.compile(
    r"(?<![\w.])(-?\d[\d,]*(?:\.\d+)?)(\s?)("
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![A-Za-z0-9])"
)

_MATH_OPERAND = r"((?<![\d.])\d+(?:\.\d+)?|\b[A-Za-z]\b)"
_MATH_RE = re.compile(_MATH_OPERAND + r"\s+([+\-×÷=*])\s+(?=-?\d|\b[A-Za-z]\b)")
_MATH_WORDS = {"+": "plus", "-": "minus", "×": "times", "*": "times", "÷": "divided by", "=": "equals"}

_SYMBOL_WORDS = {
    "&": " and ",
    "@": " at ",
    "+": " plus ",
    "=": " equals ",
    "#": " number ",
    "%": " percent ",
    "°": " degrees ",
    "×": " times ",
    "÷": " divided by ",
    "~": " about ",
}
_SYMBOL_RE = re.compile("[" + re.escape("".join(_SYMBOL_WORDS)) + "]")
_DISALLOWED_RE = re.compile(r"[^A-Za-z' .,?!\-]+")
_ORPHAN_APOSTROPHE_RE = re.compile(r"(?<![A-Za-z])'|'(?![A-Za-z])")
_PUNCT_RUN_RE = re.compile(r"([.,?!\-])(?:\s*[.,?!\-])+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+(?=[.,?!])")


def _fold_characters(text: str) -> str:
    text = strip_invisible(text).translate(_ZERO_WIDTH)
    out: list[str] = []
    for ch in text:
        if ch in _CHAR_MAP:
            out.append(_CHAR_MAP[ch])
        elif "\uff01" <= ch <= "\uff5e":  # full-width ASCII
            out.append(chr(ord(ch) - 0xFEE0))
        elif ch == "\n":
            out.append(ch)  # kept until the list-number rule has run
        elif ch in "\r\t\u3000" or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out).replace("...", ".")


def _speak_email(m: re.Match[str]) -> str:
    local = re.sub(
        r"[._+\-]", lambda s: {".": " dot ", "_": " underscore ", "+": " plus ", "-": " dash "}[s[0]], m[1]
    )
    domain = m[2].replace(".", " dot ").replace("-", " dash ")
    return f" {local} at {domain} "


def _speak_url(m: re.Match[str]) -> str:
    url = m[0]
    trailing = ""
    while url and url[-1] in ".,!?;:":
        trailing = url[-1] + trailing
        url = url[:-1]
    url = re.sub(r"^(?:https?|ftp)://", "", url, flags=re.I)
    url = re.sub(r"^www\.", "w w w.", url, flags=re.I)
    url = url.rstrip("/")
    spoken = re.sub(
        r"[./\-_?=&#%:~+]", lambda s: {".": " dot ", "/": " slash ", "-": " dash "}.get(s[0], " "), url
    )
    return f" {spoken} {trailing}"


def _speak_domain(m: re.Match[str]) -> str:
    return " " + m[0].replace(".", " dot ").replace("-", " dash ") + " "


def _month_day_year(month: int, day: int, year: int | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is not None and day > calendar.monthrange(year, month)[1]:
        return None  # no such day (31/02/2023): not a date
    spoken = f"{_MONTHS[month - 1]} {numbers.ordinal(day)}"
    return f"{spoken}, {numbers.year(year)}" if year is not None else spoken


def _groups_as_numbers(groups: list[str]) -> str:
    """A date that is not one (31/02/2023) read as its numbers, one group after another."""
    return ", ".join(numbers.year(int(g)) if len(g) == 4 else numbers.cardinal(int(g)) for g in groups)


def _expand_iso_date(m: re.Match[str]) -> str:
    return _month_day_year(int(m[2]), int(m[3]), int(m[1])) or _groups_as_numbers([m[1], m[2], m[3]])


def _expand_slash_date(m: re.Match[str]) -> str:
    first, second, year = int(m[1]), int(m[2]), int(m[3])
    if first > 12 >= second:  # day/month/year
        first, second = second, first
    return _month_day_year(first, second, year) or _groups_as_numbers([m[1], m[2], m[3]])


def _expand_time(m: re.Match[str]) -> str:
    hours, minutes = int(m[1]), int(m[2])
    period = m[4].lower() if m[4] else None
    if period is None and (hours == 0 or hours > 12):
        period = "a" if hours < 12 else "p"
    if period is not None:
        hours = hours % 12 or 12
    if minutes == 0:
        spoken = f"{numbers.cardinal(hours)} o'clock"
    elif minutes < 10:
        spoken = f"{numbers.cardinal(hours)} oh {numbers.cardinal(minutes)}"
    else:
        spoken = f"{numbers.cardinal(hours)} {numbers.cardinal(minutes)}"
    if m[3]:
        spoken += f" and {numbers.cardinal(int(m[3]))} seconds"
    if period is not None:
        spoken += f" {period.upper()} M"
    return spoken + _kept_period(m, 5)


def _kept_period(m: re.Match[str], group: int) -> str:
    """The period an abbreviation swallowed, kept when it also ends the sentence."""
    if not m[group]:
        return ""
    rest = m.string[m.end() :].lstrip()
    return "." if not rest or rest[0].isupper() else ""


def _expand_ampm(m: re.Match[str]) -> str:
    return f"{numbers.cardinal(int(m[1]))} {m[2].upper()} M" + _kept_period(m, 3)


def _number_words(amount: str) -> str:
    amount = amount.replace(",", "")
    integer, _, fraction = amount.partition(".")
    return numbers.decimal(integer, fraction) if fraction else numbers.cardinal(integer or "0")


def _money(symbol: str, amount: str, scale: str | None) -> str:
    unit, units, sub, subs = _CURRENCIES[symbol]
    if scale:
        scale = _SCALE_WORDS.get(scale.lower(), scale.lower())
        return f"{_number_words(amount)} {scale} {units}"
    clean = amount.replace(",", "")
    integer, _, fraction = clean.partition(".")
    whole = int(integer or "0")
    if fraction and (len(fraction) > 2 or not sub):
        return f"{_number_words(clean)} {units}"
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if whole or not cents:
        parts.append(f"{numbers.cardinal(whole)} {unit if whole == 1 else units}")
    if cents:
        parts.append(f"{numbers.cardinal(cents)} {sub if cents == 1 else subs}")
    return " and ".join(parts)


def _expand_money_prefix(m: re.Match[str]) -> str:
    return " " + _money(m[1], m[2], m[3]) + " "


def _expand_money_suffix(m: re.Match[str]) -> str:
    return " " + _money(m[2], m[1], None) + " "


def _expand_unit(m: re.Match[str]) -> str:
    singular, plural, touching = _UNITS[m[3]]
    if touching and m[2]:
        return m[0]
    word = singular if m[1] in ("1", "-1") else plural
    return f"{m[1]} {word}"


def _expand_math(m: re.Match[str]) -> str:
    return f"{m[1]} {_MATH_WORDS[m[2]]} "


def _expand_fraction(m: re.Match[str]) -> str:
    top, bottom = int(m[1]), int(m[2])
    if (top, bottom) == (24, 7):
        return "twenty-four seven"  # all day, every day
    if bottom == 0:
        return f"{numbers.cardinal(top)} over zero"
    if bottom == 1:
        return numbers.cardinal(top)
    if bottom == 2:
        return f"{numbers.cardinal(top)} {'half' if top == 1 else 'halves'}"
    if bottom == 4:
        return f"{numbers.cardinal(top)} {'quarter' if top == 1 else 'quarters'}"
    return f"{numbers.cardinal(top)} {numbers.ordinal(bottom)}{'' if top == 1 else 's'}"


def _expand_integer(m: re.Match[str]) -> str:
    digits = m[0]
    if len(digits) > 1 and digits.startswith("0"):
        return numbers.digits_to_words(digits)
    if len(digits) == 4:
        return numbers.year(int(digits))
    return numbers.cardinal(digits)


def _expand_abbreviation(m: re.Match[str]) -> str:
    word = _ABBREVIATIONS[m[1].lower()]
    rest = m.string[m.end() :]
    return word + ("." if not rest.strip() else "")


def _expand_initialism(m: re.Match[str]) -> str:
    letters = m[1].replace(".", "").upper()
    if letters in ("AM", "PM") and re.search(r"\d\s*$", m.string[: m.start()]):
        return m[0]  # a time of day: the number rules read it
    rest = m.string[m.end() :]
    return " ".join(letters) + ("." if not rest.strip() else "")


def _expand_phone(m: re.Match[str]) -> str:
    return ", ".join(numbers.digits_to_words(group) for group in m.groups())


def _plural_number(words: str) -> str:
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _expand_decade(m: re.Match[str]) -> str:
    digits = m[1] or m[2]
    return _plural_number(numbers.year(int(digits)) if len(digits) == 4 else numbers.cardinal(digits))


Step = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# The number rules, applied in this order; arithmetic (repeated for chains) runs between the two lists.
_BEFORE_ARITHMETIC: tuple[Step, ...] = (
    (re.compile(r"(?<=[A-Za-z])(?=\d)"), " "),  # letters touching digits: A4 -> A 4
    (_ISO_DATE_RE, _expand_iso_date),
    (_SLASH_DATE_RE, _expand_slash_date),
    (_MONTH_DAY_RE, lambda m: f"{m[1]} {numbers.ordinal(int(m[2]))}" if 1 <= int(m[2]) <= 31 else m[0]),
    (_TIME_RE, _expand_time),
    (_AMPM_RE, _expand_ampm),
    (_PHONE_RE, _expand_phone),
    (_DECADE_RE, _expand_decade),
    (_MONEY_PREFIX_RE, _expand_money_prefix),
    (_MONEY_SUFFIX_RE, _expand_money_suffix),
    (_UNIT_RE, _expand_unit),
    (re.compile(r"(\d)\s?%"), r"\1 percent"),
)
_AFTER_ARITHMETIC: tuple[Step, ...] = (
    (re.compile(r"(?:(?<=\s)|(?<=^)|(?<=\())-(?=\d)"), "negative "),
    (re.compile(r"(?m)^(\s*)(\d{1,2})\.\s+"), lambda m: f"{m[1]}{numbers.ordinal(int(m[2]))}, "),  # list
    (re.compile(r"(\d)\s?[–~]\s?(?=\d)"), r"\1 to "),  # ranges
    (re.compile(r"\b\d+(?:\.\d+){2,}\b"), lambda m: " point ".join(map(numbers.cardinal, m[0].split(".")))),
    (re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b"), lambda m: _number_words(m[0])),  # 1,234.5
    (re.compile(r"(?<![\d.])(\d*)\.(\d+)(?![\d.]*\d\.)"), lambda m: numbers.decimal(m[1], m[2])),
    (re.compile(r"\b(\d+)/(\d+)\b"), _expand_fraction),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th|ST|ND|RD|TH)\b"), lambda m: numbers.ordinal(m[1])),
    (re.compile(r"(?<=\d)(?=[A-Za-z])"), " "),  # digits touching letters: 4K -> 4 K
    (re.compile(r"\d+"), _expand_integer),
)


def _apply(steps: tuple[Step, ...], text: str) -> str:
    for pattern, replacement in steps:
        text = pattern.sub(replacement, text)
    return text


def expand_numbers(text: str) -> str:
    """Spell out dates, times, money, units, arithmetic, ordinals, fractions, decimals and integers."""
    text = _apply(_BEFORE_ARITHMETIC, text)
    for _ in range(8):  # chained operations: 1 + 2 + 3
        new = _MATH_RE.sub(_expand_math, text)
        if new == text:
            break
        text = new
    return _apply(_AFTER_ARITHMETIC, text)


def expand_abbreviations(text: str) -> str:
    """Spell out common abbreviations, Latin shorthand and dotted initialisms."""
    for pattern, spoken in _LATIN_RE:
        text = pattern.sub(spoken, text)
    text = _NUMBER_ABBR_RE.sub("number ", text)
    text = _SAINT_RE.sub("Saint", text)
    text = _STREET_RE.sub("street", text)
    text = _ABBREV_RE.sub(_expand_abbreviation, text)
    text = _VS_RE.sub("versus", text)
    return _INITIALISM_RE.sub(_expand_initialism, text)


def strip_accents(text: str) -> str:
    """Drop combining marks (café -> cafe)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


PIECE_CHARS = 1000  # long texts are normalised in pieces of about this size, cut at spaces
RUN_CHARS = 256  # a run without spaces longer than this is cut blindly


def _pieces(text: str) -> list[str]:
    """``text`` cut at whitespace into pieces of at most about PIECE_CHARS characters."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for token in re.findall(r"\S+|\s+", text):
        runs = (
            [token[i : i + RUN_CHARS] for i in range(0, len(token), RUN_CHARS)]
            if len(token) > RUN_CHARS
            else [token]
        )
        for run in runs:
            if size + len(run) > PIECE_CHARS and current:
                pieces.append("".join(current))
                current, size = [], 0
            current.append(run)
            size += len(run)
    if current:
        pieces.append("".join(current))
    return pieces


def normalize_en(text: str) -> str:
    """Normalise English text to words, apostrophes, spaces and ``. , ? ! -``."""
    if len(text) > PIECE_CHARS:
        return " ".join(filter(None, (_normalize_piece(p) for p in _pieces(text))))
    return _normalize_piece(text)


def _normalize_piece(text: str) -> str:
    text = _fold_characters(text)
    text = _EMAIL_RE.sub(_speak_email, text)
    text = _URL_RE.sub(_speak_url, text)
    text = _DOMAIN_RE.sub(_speak_domain, text)
    text = expand_abbreviations(text)
    text = expand_numbers(text)
    text = strip_accents(text)
    text = _SYMBOL_RE.sub(lambda m: _SYMBOL_WORDS[m[0]], text)
    text = text.replace(";", ",").replace(":", ",").replace("–", "-")
    text = text.replace("/", " ").replace("(", ", ").replace(")", ", ").replace("[", ", ").replace("]", ", ")
    text = _DISALLOWED_RE.sub(" ", text)
    text = _ORPHAN_APOSTROPHE_RE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _SPACE_BEFORE_PUNCT_RE.sub("", text)
    text = _PUNCT_RUN_RE.sub(r"\1", text)
    return text.strip(" ")
