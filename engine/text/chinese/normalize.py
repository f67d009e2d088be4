"""Mandarin text normalisation: numbers, dates, times, money, units, phones → hanzi; punctuation → v2 set.

Follows the order of the v2 reference normaliser (spec §5.2): traditional → simplified, full-width
letters/digits → half-width, then dates, times, ranges with units, temperatures, units, arithmetic,
powers, fractions, percentages, mobile / landline / 400 numbers, number ranges, negatives, decimals,
numbers before measure words (cardinal reading), other numbers of three or more digits (read digit
by digit, 1 as 幺), remaining numbers (cardinal), then symbol words and the punctuation mapping.

Deliberate differences from the reference, each an improvement that leaves ordinary text unchanged:
- thousands separators (1,000,000) are removed before reading; currency signs before a number are read
  (¥/￥ 元, $ 美元, € 欧元, £ 英镑) instead of the sign turning into a full stop or, for ￥, a pause
  (the pause signs ￥ and ^ are read as commas here; see ``punctuation.PAUSE_SIGNS`` for the rule);
- unit abbreviations (kg, cm, m, s, ...) are only expanded right after a number, never inside words;
- a line break ends a sentence (it becomes "."), a full-width colon between digits is a time colon,
  and a colon between numbers that is not a time is a score or ratio (3:2 → 三比二);
- a hyphen between numbers is a range (1-5 → 一到五) unless the expression has "=", so phone numbers
  and ranges are never read as subtraction; three or more hyphenated groups (978-7-111-54742-6) are
  a code read digit by digit; a leftover hyphen is dropped;
- 2 before a common measure word reads 两 (2个 → 两个) rather than 二;
- a bare 7-8 digit number followed by a measure word is an amount (1000000元), not a phone number;
  a range right before a unit is read as one (10~20℃ → 十到二十度);
- (issue 15) a Latin unit after a number is read in Chinese (``engine.text.zh_units``: 350W 三百五十瓦,
  100Mbps 一百兆比特每秒); 两 for amounts (两千, 两万, 2kg 两千克) but 二 in ordinals (第2名 第二名);
  versions group by group (2.3.1 二点三点一); three- or four-digit room/house/bus numbers digit by
  digit (302号 三零二号); ranges with 到/至 and round numbers (1000000 一百万) as amounts; phone numbers
  in their written groups (spaces, hyphens, +country code, (area code)); a numeric date whose day does
  not exist (2023-02-31, 31/02/2023) is read as its numbers;
- web and e-mail addresses are dropped, and over-long sentences are cut into pieces of at most 400
  characters (outside numbers where possible) so that every step stays linear in the text length.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from functools import cache

from engine.text.chinese.numbers import read_amount, read_cardinal, read_digits, read_number
from engine.text.chinese.punctuation import collapse_repeats, pause_signs_to_commas, replace_punctuation
from engine.text.invisible import strip_invisible
from engine.text.zh_units import UNIT_ALT, UNIT_WORDS

_NUM = r"\d+(?:\.\d+)?"
# Patterns that begin with a number start only at the beginning of one, which keeps every search linear.
_START = r"(?<![\d.])"

# ---------------------------------------------------------------------------------------------------
# character-level clean-up


@cache
def _t2s():
    import opencc  # a compiled library; imported lazily

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s, phrase-aware)."""
    return _t2s().convert(text) if text else text


_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)}
_FULLWIDTH.update({chr(0xFF21 + i): chr(0x41 + i) for i in range(26)})
_FULLWIDTH.update({chr(0xFF41 + i): chr(0x61 + i) for i in range(26)})
_FULLWIDTH.update(
    {"\u3000": " ", "％": "%", "＋": "+", "－": "-", "＝": "=", "／": "/", "＄": "$", "￥": "¥", "＆": "&"}
)
_FULLWIDTH_TABLE = str.maketrans(_FULLWIDTH)

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|[\r\n\u2028\u2029\x0b\x0c\x85])\s*")


def _strip_controls(text: str) -> str:
    text = _INVISIBLE.sub("", strip_invisible(text))
    text = _LINE_BREAKS.sub("\n", text.strip())
    return "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )


# ---------------------------------------------------------------------------------------------------
# sentence splitting as the reference normaliser does it

_REMOVE_BEFORE = re.compile(r"[—《》【】<>{}()（）#&@“”^_|\\]")
_SENTENCE_END = re.compile(r"([：、，；。？！,;?!][”’]?)")


def _sentences(text: str) -> list[str]:
    text = text.replace(" ", "")
    text = _REMOVE_BEFORE.sub("", text)
    text = _SENTENCE_END.sub("\\1\n", text)
    out: list[str] = []
    for part in text.split("\n"):
        part = part.strip()
        while len(part) > _MAX_SENTENCE:
            cut = _cut_point(part)
            out.append(part[:cut])
            part = part[cut:]
        if part:
            out.append(part)
    return out


_MAX_SENTENCE = 400
_NUMERIC_CHARS = set("0123456789.,:/-~+×÷=%")


def _cut_point(part: str) -> int:
    """Where to cut an over-long sentence: the last place before the limit not inside a number."""
    for i in range(_MAX_SENTENCE, _MAX_SENTENCE // 2, -1):
        if part[i - 1] not in _NUMERIC_CHARS and part[i] not in _NUMERIC_CHARS:
            return i
    return _MAX_SENTENCE


# ---------------------------------------------------------------------------------------------------
# dates and times

_DATE = re.compile(r"(?<!\d)(\d{4}|\d{2})年(?:(0?[1-9]|1[0-2])月)?(?:(0?[1-9]|[12][0-9]|3[01])([日号]))?")
_DATE_NUMERIC = re.compile(r"(?<![\d.\-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d\-])")
_DATE_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")  # d/m/y or m/d/y
_CLOCK = r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?"
_TIME_RANGE = re.compile(r"(?<!\d)" + _CLOCK + r"[~\-至]" + _CLOCK + r"(?!\d)")
_TIME = re.compile(r"(?<!\d)" + _CLOCK + r"(?!\d)")
_RATIO = re.compile(r"(?<![\d:.])(\d+):(\d+)(?![\d:])")  # what is left after times: 3:2 → 三比二


def _date(m: re.Match) -> str:
    out = read_digits(m.group(1)) + "年"
    if m.group(2):
        out += read_cardinal(m.group(2)) + "月"
    if m.group(3):
        out += read_cardinal(m.group(3)) + m.group(4)
    return out


def _real_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _spoken_date(year: str, month: str, day: str) -> str:
    return f"{read_digits(year)}年{read_cardinal(month)}月{read_cardinal(day)}日"


def _date_numeric(m: re.Match) -> str:
    year, month, day = m.group(1), m.group(3), m.group(4)
    if _real_date(int(year), int(month), int(day)):
        return _spoken_date(year, month, day)
    if m.group(2) == "-" and len(month) == 2 and len(day) == 2 and int(month) <= 12 and int(day) <= 31:
        return f"{read_digits(year)}，{read_cardinal(month)}，{read_cardinal(day)}"  # no such day
    return m.group(0)


def _date_slashed(m: re.Match) -> str:
    first, second, year = m.group(1), m.group(2), m.group(3)
    month, day = (second, first) if int(first) > 12 else (first, second)
    if _real_date(int(year), int(month), int(day)):
        return _spoken_date(year, month, day)
    return f"{read_cardinal(first)}，{read_cardinal(second)}，{read_digits(year)}"  # not a date


def _minute_or_second(digits: str) -> str:
    spoken = read_cardinal(digits)
    return "零" + spoken if digits.startswith("0") else spoken


def _clock(hour: str, minute: str, second: str | None) -> str:
    out = read_cardinal(hour) + "点"
    if int(minute):
        out += "半" if int(minute) == 30 else _minute_or_second(minute) + "分"
    if second and int(second):
        out += _minute_or_second(second) + "秒"
    return out


def _time_range(m: re.Match) -> str:
    return _clock(m.group(1), m.group(2), m.group(3)) + "至" + _clock(m.group(4), m.group(5), m.group(6))


def _time(m: re.Match) -> str:
    return _clock(m.group(1), m.group(2), m.group(3))


# ---------------------------------------------------------------------------------------------------
# units, temperatures, money

_UNIT_WORDS = UNIT_WORDS
_UNIT_ALT = UNIT_ALT
_UNIT_AFTER_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(" + _UNIT_ALT + r")(?![A-Za-z])")
_RANGE_WITH_UNIT = re.compile(
    _START
    + r"("
    + _NUM
    + r")(%|°C|℃|度|摄氏度|"
    + _UNIT_ALT
    + r")~("
    + _NUM
    + r")(%|°C|℃|度|摄氏度|"
    + _UNIT_ALT
    + r")"
)
_RANGE_BEFORE_UNIT = re.compile(
    r"(?<![\d.])(" + _NUM + r")[~\-](?=" + _NUM + r"(?:°C|℃|度|摄氏度|" + _UNIT_ALT + r")(?![A-Za-z]))"
)
_TEMPERATURE = re.compile(_START + r"(-?)(" + _NUM + r")(°C|℃|度|摄氏度|°F|℉|华氏度)")
_CURRENCY = {"¥": "元", "$": "美元", "€": "欧元", "£": "英镑", "₩": "韩元", "HK$": "港元", "US$": "美元"}
_MONEY = re.compile(r"(-?)(HK\$|US\$|[¥$€£₩])(" + _NUM + r")")


def _unit_after_number(m: re.Match) -> str:
    number = m.group(1)
    before = m.string[max(0, m.start() - 1) : m.start()]
    spoken = read_number(number) if "." in number or before == "第" else read_amount(number)
    return spoken + _UNIT_WORDS[m.group(2)]


def _temperature(m: re.Match) -> str:
    sign = "零下" if m.group(1) else ""
    unit = m.group(3)
    if unit in ("°F", "℉", "华氏度"):
        return "华氏" + sign + read_number(m.group(2)) + "度"
    return sign + read_number(m.group(2)) + ("摄氏度" if unit == "摄氏度" else "度")


def _money(m: re.Match) -> str:
    sign = "负" if m.group(1) else ""
    return sign + read_number(m.group(3)) + _CURRENCY[m.group(2)]


# ---------------------------------------------------------------------------------------------------
# arithmetic, powers, fractions, percentages

_OPERAND = r"(?:\d+(?:\.\d+)?|\.\d+)[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*"
_OPERATOR_WORDS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等于", "*": "乘"}
_ARITHMETIC = re.compile(_START + r"(-?" + _OPERAND + r")([+×÷=*])(-?" + _OPERAND + r")")
_EQUATION = re.compile(_START + r"-?" + _OPERAND + r"(?:[-+×÷*]-?" + _OPERAND + r"){1,8}=-?" + _OPERAND)
_MINUS = re.compile(_START + r"(" + _OPERAND + r")-(" + _OPERAND + r")")
_POWER = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]+")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ", "0123456789xyn")
_FRACTION = re.compile(_START + r"(-?)(\d+)/(\d+)")
_PERCENT = re.compile(_START + r"(-?)(" + _NUM + r")%")


def _arithmetic(m: re.Match) -> str:
    return m.group(1) + _OPERATOR_WORDS[m.group(2)] + m.group(3)


def _equation(m: re.Match) -> str:
    text = m.group(0)
    while True:
        new = _MINUS.sub(lambda x: x.group(1) + "减" + x.group(2), text)
        new = _ARITHMETIC.sub(_arithmetic, new)
        if new == text:
            return new
        text = new


def _power(m: re.Match) -> str:
    exponent = m.group(0).translate(_SUPERSCRIPTS)
    return "的" + re.sub(r"\d+", lambda d: read_cardinal(d.group(0)), exponent) + "次方"


def _fraction(m: re.Match) -> str:
    sign = "负" if m.group(1) else ""
    return f"{sign}{read_cardinal(m.group(3))}分之{read_cardinal(m.group(2))}"


def _percent(m: re.Match) -> str:
    sign = "负" if m.group(1) else ""
    return f"{sign}百分之{read_number(m.group(2))}"


# ---------------------------------------------------------------------------------------------------
# phone numbers (a bare 7-8 digit number followed by a measure word is an amount, not a phone number)

# Measure words (first characters suffice: only the number before them is rewritten).
_MEASURE_CHARS = (
    "处台架枚趟幅平方堵间床株批项例列篇栋注亩封艘把目套段人所朵匹张座回场尾条个首阙阵网炮顶丘棵只支袭辆"
    "挑担颗壳曲墙群腔客贯扎捆刀令打手罗坡山岭江溪钟队单双对出口头脚板跳枝件贴针线管名位身堂课本页家户层"
    "丝毫厘分钱两斤铢石钧忽千微公寸尺丈里寻常铺程米撮勺合升斗盘碗碟叠桶笼盆盒杯斛锅篮罐瓶壶盏箩箱煲袋钵"
    "年月日季刻时周天秒小旬纪岁世更夜春夏秋冬代伏辈丸泡粒幢堆根道面片块元圆亿万百美十吨角毛克英港欧镑"
    "次遍倍部集章节届种类样步字句号楼级度点成折码轮期场顿餐笔票栏"
)

_MOBILE = re.compile(r"(?<!\d)((?:\+?86)?1(?:[38]\d|5[0-35-9]|7[678]|9[89])\d{8})(?!\d)")
_LANDLINE = re.compile(
    r"(?<!\d)((?:0(?:10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})(?!\d)(?![" + _MEASURE_CHARS + "])"
)
_SERVICE = re.compile(r"(?<!\d)(400)-?(\d{3})-?(\d{4})(?!\d)")
# a country code: +86-10-12345678, +86-138-1234-5678 (spaces between groups are hyphens by now)
_COUNTRY_CODE = re.compile(r"(?<![\dA-Za-z])\+(\d{1,3})((?:-\d+)+)(?![\d\-])")
# two groups of 3-4 and 4 digits (8765-4321, 555-1234) that are not a range of amounts or years
_TWO_GROUPS = re.compile(r"(?<![\d.\-+])(\d{3,4})-(\d{4})(?![\d\-.])")
# digit groups separated by single spaces (+86 138 1234 5678, 021 6278 1234)
_SPACED_GROUPS = re.compile(r"(?<![\d.])(\+\d{1,3}|\d{2,4})((?: \d{3,8})+)(?![\d.])")
# an area code in brackets: (021)6234-5678
_AREA_CODE = re.compile(r"[(（](0\d{2,3})[)）]\s?(?=\d)")
# room, house and bus numbers of three or four digits: 302号, 1203室, 508房间, 115路
_DOOR_NUMBER = re.compile(r"(?<![\d.])(\d{3,4})(?=[号室房路栋])")


def _mobile(m: re.Match) -> str:
    number = m.group(1).lstrip("+")
    if len(number) == 13 and number.startswith("86"):
        return read_digits("86", yao=True) + "，" + read_digits(number[2:], yao=True)
    return read_digits(number, yao=True)


def _landline(m: re.Match) -> str:
    if "-" not in m.group(1) and m.group(1).endswith("0000"):
        return read_amount(m.group(1))  # a round amount (1000000), not a phone number
    return "，".join(read_digits(part, yao=True) for part in m.group(1).split("-"))


def _country_code(m: re.Match) -> str:
    groups = [m.group(1)] + m.group(2).split("-")[1:]
    return "，".join(read_digits(group, yao=True) for group in groups)


def _round(digits: str) -> bool:
    return len(digits) >= 3 and digits.endswith("00")


def _two_groups(m: re.Match) -> str:
    first, second = m.group(1), m.group(2)
    following = m.string[m.end() : m.end() + 1]
    years = len(first) == 4 and 1000 <= int(first) < int(second) <= 2100
    if following and (following in _MEASURE_CHARS or following in "%℃度") or years:
        return m.group(0)
    if _round(first) or _round(second):
        return m.group(0)
    return read_digits(first, yao=True) + "，" + read_digits(second, yao=True)


def _door_number(m: re.Match) -> str:
    digits = m.group(1)
    return read_cardinal(digits) if _round(digits) else read_digits(digits, yao=True)


def _service(m: re.Match) -> str:
    return "，".join(read_digits(part, yao=True) for part in m.groups())


# three or more hyphenated digit groups (ISBN, serial and account numbers): digits, group by group
_DIGIT_GROUPS = re.compile(r"(?<![\d.\-])\d+(?:-\d+){2,}(?![\d\-])")


def _digit_groups(m: re.Match) -> str:
    return "，".join(read_digits(part, yao=True) for part in m.group(0).split("-"))


# ---------------------------------------------------------------------------------------------------
# plain numbers

_RANGE = re.compile(r"(?<![\d+\-×÷=.])(-?" + _NUM + r")[-~](-?" + _NUM + r")(?![\d+\-×÷=])")
_NEGATIVE = re.compile(r"-(\d+)(?![\d.])")
_DECIMAL = re.compile(r"(?<!\d)(-?)(\d+\.\d+)|(?<!\d)\.(\d+)")
_QUANTIFIED = re.compile(r"(?<!\d)(\d+)([多余几+])?(?=[" + _MEASURE_CHARS + "])")
# 2 before these reads 两 (two of something), not 二.
_LIANG_BEFORE = set(
    "个只本张条位件次遍天年种块元斤把支辆台座间家双对口头杯瓶碗盒箱袋根片颗粒首名岁周层页步倍样句字部场顿"
    "公小分千万亿米克吨毫厘瓦伏兆吉太赫帧转点秒升套份项排场节趟届轮期笔桌间枚辈"
)
_LONG_NUMBER = re.compile(r"\d{3,}")
# a bare number ending in two or more zeros is an amount (1000000 一百万), not a code
_ROUND_NUMBER = re.compile(r"(?<![\d.])[1-9]\d*00(?![\d.])")
# 100到200, 3至5: a range of amounts
_RANGE_WORD = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)([到至])(\d+(?:\.\d+)?)(?![\d.])")
# versions and other dotted numbers (2.3.1, 3.10.2, 192.168.1.1): groups joined by 点
_VERSION = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])")
_SHORT_NUMBER = re.compile(r"\d+")


def _range(m: re.Match) -> str:
    return _signed(m.group(1)) + "到" + _signed(m.group(2))


def _range_word(m: re.Match) -> str:
    return _signed(m.group(1)) + m.group(2) + _signed(m.group(3))


def _version(m: re.Match) -> str:
    groups = m.group(0).split(".")
    return "点".join(read_digits(g, yao=True) if len(g) >= 3 else read_cardinal(g) for g in groups)


def _signed(number: str) -> str:
    if number.startswith("-"):
        return "负" + read_number(number[1:])
    return read_number(number) if "." in number else read_amount(number)


def _decimal(m: re.Match) -> str:
    if m.group(3) is not None:
        return read_number("." + m.group(3))
    return ("负" if m.group(1) else "") + read_number(m.group(2))


def _quantified(m: re.Match) -> str:
    number, approx = m.group(1), m.group(2) or ""
    if approx == "+":
        approx = "多"
    following = m.string[m.end() : m.end() + 1]
    ordinal = m.string[max(0, m.start() - 1) : m.start()] == "第"
    if number.lstrip("0") == "2" and not approx and following in _LIANG_BEFORE and not ordinal:
        return "两"
    if ordinal or number.lstrip("0") == "2":
        return read_cardinal(number) + approx
    return read_amount(number) + approx


_SYMBOL_WORDS = {
    "①": "一", "②": "二", "③": "三", "④": "四", "⑤": "五",
    "⑥": "六", "⑦": "七", "⑧": "八", "⑨": "九", "⑩": "十",
    "α": "阿尔法", "β": "贝塔", "γ": "伽玛", "Γ": "伽玛", "δ": "德尔塔", "Δ": "德尔塔", "ε": "艾普西龙",
    "ζ": "捷塔", "η": "依塔", "θ": "西塔", "Θ": "西塔", "ι": "艾欧塔", "κ": "喀帕", "λ": "拉姆达",
    "Λ": "拉姆达", "μ": "缪", "ν": "拗", "ξ": "克西", "Ξ": "克西", "ο": "欧米克伦", "π": "派", "Π": "派",
    "ρ": "肉", "σ": "西格玛", "ς": "西格玛", "Σ": "西格玛", "τ": "套", "υ": "宇普西龙", "φ": "服艾",
    "Φ": "服艾", "χ": "器", "ψ": "普赛", "Ψ": "普赛", "ω": "欧米伽", "Ω": "欧米伽",
    "/": "每", "+": "加", "×": "乘", "÷": "除", "=": "等", "%": "百分号", "°": "度", "℃": "摄氏度",
}  # fmt: skip
_SYMBOL_RE = re.compile("|".join(re.escape(k) for k in _SYMBOL_WORDS))
_NEEDS_WORK = re.compile(
    "[0-9" + re.escape("".join(_SYMBOL_WORDS)) + r"\-—《》【】<=>{}()（）#&@“”^_|\\⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]"
)
_REMOVE_AFTER = re.compile(r"[-—《》【】<=>{}()（）#&@“”^_|\\]")


def normalize_sentence(sentence: str) -> str:
    """Rewrite numbers, dates, times, units and symbols of one sentence as hanzi."""
    if not _NEEDS_WORK.search(sentence):
        return sentence
    s = _DATE.sub(_date, sentence)
    s = _DATE_NUMERIC.sub(_date_numeric, s)
    s = _DATE_SLASHED.sub(_date_slashed, s)
    s = _VERSION.sub(_version, s)
    s = _TIME_RANGE.sub(_time_range, s)
    s = _TIME.sub(_time, s)
    s = _RATIO.sub(lambda m: read_cardinal(m.group(1)) + "比" + read_cardinal(m.group(2)), s)
    s = _RANGE_WITH_UNIT.sub(lambda m: f"{m.group(1)}{m.group(2)}至{m.group(3)}{m.group(4)}", s)
    s = _RANGE_BEFORE_UNIT.sub(lambda m: read_number(m.group(1)) + "到", s)
    s = _TEMPERATURE.sub(_temperature, s)
    s = _UNIT_AFTER_NUMBER.sub(_unit_after_number, s)
    s = _MONEY.sub(_money, s)
    s = _EQUATION.sub(_equation, s)
    s = _ARITHMETIC.sub(_arithmetic, s)
    s = _POWER.sub(_power, s)
    s = _FRACTION.sub(_fraction, s)
    s = _PERCENT.sub(_percent, s)
    s = _COUNTRY_CODE.sub(_country_code, s)
    s = _MOBILE.sub(_mobile, s)
    s = _LANDLINE.sub(_landline, s)
    s = _SERVICE.sub(_service, s)
    s = _DIGIT_GROUPS.sub(_digit_groups, s)
    s = _TWO_GROUPS.sub(_two_groups, s)
    s = _RANGE.sub(_range, s)
    s = _RANGE_WORD.sub(_range_word, s)
    s = _NEGATIVE.sub(lambda m: "负" + read_cardinal(m.group(1)), s)
    s = _DECIMAL.sub(_decimal, s)
    s = _DOOR_NUMBER.sub(_door_number, s)
    s = _QUANTIFIED.sub(_quantified, s)
    s = _ROUND_NUMBER.sub(lambda m: read_amount(m.group(0)), s)
    s = _LONG_NUMBER.sub(lambda m: read_digits(m.group(0), yao=True), s)
    s = _SHORT_NUMBER.sub(lambda m: read_cardinal(m.group(0)), s)
    s = _SYMBOL_RE.sub(lambda m: _SYMBOL_WORDS[m.group(0)], s)
    return _REMOVE_AFTER.sub("", s)


# Web addresses and e-mail addresses have no Mandarin reading; they are dropped (a mixed-language
# caller hands Latin text to the English frontend before it gets here).
_URL_OR_EMAIL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_COLON_IN_TIME = re.compile(r"(?<=\d)：(?=\d)")


def normalize_zh(text: str) -> str:
    """Normalised Mandarin text: only hanzi (U+4E00..U+9FA5) and the punctuation ``! ? … , . -``."""
    if not text:
        return ""
    text = _URL_OR_EMAIL.sub(" ", _strip_controls(pause_signs_to_commas(text)))
    if not text.strip():
        return ""
    text = to_simplified(text).translate(_FULLWIDTH_TABLE)
    text = _THOUSANDS.sub("", text)
    text = _AREA_CODE.sub(r"\1-", text)
    text = _SPACED_GROUPS.sub(lambda m: m.group(1) + m.group(2).replace(" ", "-"), text)
    text = _COLON_IN_TIME.sub(":", text)
    text = text.replace("\n", "。")
    out = "".join(replace_punctuation(normalize_sentence(s)) for s in _sentences(text))
    return collapse_repeats(out)
