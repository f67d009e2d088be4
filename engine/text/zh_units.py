"""Unit abbreviations read in Chinese after a number in Mandarin text (120km/h → 一百二十千米每小时).

Kept apart from the Mandarin normaliser so that the language split (``engine.text.mixed``) can keep
a unit with its number without importing the Mandarin frontend. Names follow GB 3100 (千克, 千米, 瓦,
赫兹) and the usual readings of data sizes (吉字节) and rates (兆比特每秒).
"""

from __future__ import annotations

import re

UNIT_WORDS: dict[str, str] = {
    "cm2": "平方厘米", "cm²": "平方厘米", "cm3": "立方厘米", "cm³": "立方厘米",
    "m2": "平方米", "m²": "平方米", "m3": "立方米", "m³": "立方米",
    "km2": "平方千米", "km²": "平方千米",
    "km/h": "千米每小时", "m/s": "米每秒", "kph": "千米每小时",
    "kg": "千克", "KG": "千克", "Kg": "千克", "mg": "毫克", "g": "克",
    "km": "千米", "KM": "千米", "Km": "千米", "cm": "厘米", "mm": "毫米", "nm": "纳米", "m": "米",
    "ml": "毫升", "mL": "毫升", "ML": "毫升", "L": "升",
    "db": "分贝", "dB": "分贝", "DB": "分贝",
    "ms": "毫秒", "ds": "毫秒", "s": "秒", "min": "分钟", "h": "小时",
    "kw": "千瓦", "kW": "千瓦", "KW": "千瓦", "W": "瓦", "MW": "兆瓦",
    "kWh": "千瓦时", "kwh": "千瓦时", "Wh": "瓦时",
    "V": "伏", "kV": "千伏", "mV": "毫伏", "mA": "毫安", "mAh": "毫安时",
    "Hz": "赫兹", "kHz": "千赫兹", "KHz": "千赫兹", "MHz": "兆赫兹", "GHz": "吉赫兹",
    "KB": "千字节", "kB": "千字节", "MB": "兆字节", "GB": "吉字节", "TB": "太字节", "PB": "拍字节",
    "KB/s": "千字节每秒", "kB/s": "千字节每秒", "MB/s": "兆字节每秒", "GB/s": "吉字节每秒",
    "kbps": "千比特每秒", "Kbps": "千比特每秒", "Mbps": "兆比特每秒", "Gbps": "吉比特每秒",
    "fps": "帧每秒", "rpm": "转每分钟",
}  # fmt: skip
UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNIT_WORDS, key=len, reverse=True))
_AFTER_NUMBER = re.compile(r"(?<=\d)( ?)(" + UNIT_ALT + r")(?![A-Za-z])")
_QUICK = re.compile(r"\d ?[A-Za-z]")


def _latin_before(text: str, index: int) -> bool:
    """True when the nearest letter before ``index`` is a Latin one (the number is in English)."""
    for ch in reversed(text[max(0, index - 40) : index]):
        if ch.isalpha():
            return ch.isascii() or "\uff21" <= ch <= "\uff5a"
    return False


def unit_spans(text: str) -> set[int]:
    """Positions of unit letters that follow a number in Mandarin text (nothing Latin before it)."""
    if not _QUICK.search(text):
        return set()
    out: set[int] = set()
    for m in _AFTER_NUMBER.finditer(text):
        start = m.start()
        while start and (text[start - 1].isdigit() or text[start - 1] in ".,"):
            start -= 1
        if not _latin_before(text, start):
            out.update(range(m.start(2), m.end(2)))
    return out
