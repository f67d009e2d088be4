"""Mandarin frontend: syllable mapping, numbers, sandhi rules, alignment, robustness, no network."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from engine.errors import TextError
from engine.text.chinese import g2p_zh, normalize_zh, zh_phonemes
from engine.text.chinese.numbers import read_cardinal, read_digits, read_number
from engine.text.chinese.punctuation import PUNCTUATION_SET
from engine.text.chinese.sandhi import apply_sandhi
from engine.text.chinese.syllables import syllable_phones
from engine.text.symbols import symbol_to_id, symbols

# --------------------------------------------------------------------------------------------------
# pinyin → v2 symbols (spec §5.2: opencpop-strict pairs, zero-initial rules)


@pytest.mark.parametrize(
    ("syllable", "phones"),
    [
        ("a1", ("AA", "a1")), ("ai4", ("AA", "ai4")), ("ang2", ("AA", "ang2")), ("ao4", ("AA", "ao4")),
        ("e4", ("EE", "e4")), ("er2", ("EE", "er2")), ("en1", ("EE", "en1")), ("o1", ("OO", "o1")),
        ("ou3", ("OO", "ou3")), ("yi1", ("y", "i1")), ("ya1", ("y", "a1")), ("yan4", ("y", "En4")),
        ("ye3", ("y", "E3")), ("yin1", ("y", "in1")), ("ying2", ("y", "ing2")), ("you3", ("y", "ou3")),
        ("yong3", ("y", "ong3")), ("yu2", ("y", "v2")), ("yuan3", ("y", "van3")), ("yue4", ("y", "ve4")),
        ("yun2", ("y", "vn2")), ("wu3", ("w", "u3")), ("wa1", ("w", "a1")), ("wei4", ("w", "ei4")),
        ("wen2", ("w", "en2")), ("weng1", ("w", "eng1")), ("wo3", ("w", "o3")), ("zhi1", ("zh", "ir1")),
        ("chi1", ("ch", "ir1")), ("shi4", ("sh", "ir4")), ("ri4", ("r", "ir4")), ("zi3", ("z", "i03")),
        ("ci2", ("c", "i02")), ("si1", ("s", "i01")), ("ji1", ("j", "i1")), ("ju2", ("j", "v2")),
        ("qu4", ("q", "v4")), ("xue2", ("x", "ve2")), ("juan4", ("j", "van4")), ("qun2", ("q", "vn2")),
        ("lv4", ("l", "v4")), ("nv3", ("n", "v3")), ("lve4", ("l", "ve4")), ("liu2", ("l", "iu2")),
        ("dui4", ("d", "ui4")), ("lun2", ("l", "un2")), ("xiong2", ("x", "iong2")),
        ("zhuang4", ("zh", "uang4")), ("le5", ("l", "e5")), ("ma5", ("m", "a5")),
    ],
)  # fmt: skip
def test_syllable_to_symbols(syllable: str, phones: tuple[str, str]) -> None:
    assert syllable_phones(syllable) == phones


def test_unreadable_syllables_fall_back_to_unk_pair() -> None:
    assert syllable_phones("xyz1") == ("UNK", "UNK")
    assert syllable_phones("n2") == ("EE", "en2")  # interjection 嗯 read as en


def test_full_phone_sequences_spelled_out() -> None:
    # Spelled out symbol by symbol: tone-3 sandhi (你 → ni2), zero initials, punctuation.
    assert zh_phonemes("你好，世界！")[1] == ["n", "i2", "h", "ao3", ",", "sh", "ir4", "j", "ie4", "!"]
    assert zh_phonemes("我爱音乐。")[1] == ["w", "o3", "AA", "ai4", "y", "in1", "y", "ve4", "."]
    assert zh_phonemes("一样")[1] == ["y", "i2", "y", "ang4"]
    assert zh_phonemes("二十")[1] == ["EE", "er4", "sh", "ir2"]
    assert zh_phonemes("偶尔，欧洲")[1] == ["OO", "ou2", "EE", "er3", ",", "OO", "ou1", "zh", "ou1"]


# --------------------------------------------------------------------------------------------------
# numbers


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [("0", "零"), ("7", "七"), ("10", "十"), ("15", "十五"), ("20", "二十"), ("101", "一百零一"),
     ("110", "一百一十"), ("1001", "一千零一"), ("10010", "一万零一十"), ("100000", "十万"),
     ("120000", "十二万"), ("100000001", "一亿零一"), ("2024", "二千零二十四")],
)  # fmt: skip
def test_read_cardinal(digits: str, spoken: str) -> None:
    assert read_cardinal(digits) == spoken


def test_read_number_and_digits() -> None:
    assert read_number("3.14") == "三点一四"
    assert read_number("3.20") == "三点二"
    assert read_number(".5") == "零点五"
    assert read_digits("2024") == "二零二四"
    assert read_digits("110", yao=True) == "幺幺零"


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("1998年", "一九九八年"),
        ("2024/02/29", "二零二四年二月二十九日"),
        ("10:00", "十点"),
        ("23:59:01", "二十三点五十九分零一秒"),
        ("-3.5", "负三点五"),
        ("50%的人", "百分之五十的人"),
        ("3/4", "四分之三"),
        ("€20", "二十欧元"),
        ("£5", "五英镑"),
        ("10m", "十米"),
        ("apps", ""),
        ("2个", "两个"),
        ("2月", "二月"),
        ("10~20℃", "十到二十度"),
        ("3-5kg", "三到五千克"),
        ("100+人", "一百多人"),
        ("+8613912345678", "八六,幺三九幺二三四五六七八"),
        ("1000000元", "一百万元"),
        ("1234567", "幺二三四五六七"),
        ("α粒子", "阿尔法粒子"),
        ("①", "一"),
    ],
)
def test_normalize_numbers_and_symbols(text: str, normalized: str) -> None:
    assert normalize_zh(text) == normalized


def test_normalized_text_holds_only_hanzi_and_v2_punctuation() -> None:
    text = "Hi! 這是 test：1,234.5元；「引号」【括号】《书名》——破折号～波浪号 ＡＢＣ１２３ 😀 \t 完。"
    out = normalize_zh(text)
    assert out
    assert all("\u4e00" <= ch <= "\u9fa5" or ch in PUNCTUATION_SET for ch in out)
    assert "这是" in out and "一千二百三十四点五元" in out


# --------------------------------------------------------------------------------------------------
# sandhi rules on given syllables (independent of segmentation)


@pytest.mark.parametrize(
    ("word", "pos", "before", "after"),
    [
        ("不怕", "v", "bu4 pa4", "bu2 pa4"),
        ("不听", "v", "bu4 ting1", "bu4 ting1"),
        ("看不懂", "v", "kan4 bu4 dong3", "kan4 bu5 dong3"),
        ("一段", "m", "yi1 duan4", "yi2 duan4"),
        ("一天", "m", "yi1 tian1", "yi4 tian1"),
        ("一零零", "m", "yi1 ling2 ling2", "yi1 ling2 ling2"),
        ("第一", "m", "di4 yi1", "di4 yi1"),
        ("听一听", "v", "ting1 yi1 ting1", "ting1 yi5 ting1"),
        ("奶奶", "n", "nai3 nai3", "nai3 nai5"),
        ("人人", "n", "ren2 ren2", "ren2 ren2"),
        ("走了", "ul", "zou3 le5", "zou3 le5"),
        ("桌上", "s", "zhuo1 shang4", "zhuo1 shang5"),
        ("回来", "v", "hui2 lai2", "hui2 lai5"),
        ("两个", "m", "liang3 ge4", "liang3 ge5"),
        ("麻烦", "a", "ma2 fan2", "ma2 fan5"),
        ("雨伞", "n", "yu3 san3", "yu2 san3"),
        ("选举法", "n", "xuan3 ju3 fa3", "xuan2 ju2 fa3"),
        ("好喜欢", "v", "hao3 xi3 huan5", "hao2 xi3 huan5"),
        ("岂有此理", "i", "qi3 you3 ci3 li3", "qi2 you3 ci2 li3"),
    ],
)
def test_sandhi_rules(word: str, pos: str, before: str, after: str) -> None:
    assert apply_sandhi(word, pos, before.split()) == after.split()


# --------------------------------------------------------------------------------------------------
# alignment and the symbol table

CORPUS = [
    "今天是2024年3月5日，天气很好。",
    "我们一起去公园散步吧！",
    "他说：“这个价格是¥99.9，太便宜了……”",
    "這個問題很重要，請你再說一遍？",
    "一点儿也不累，玩儿得很开心。",
    "电话：010-62345678，手机13812345678。",
    "嗯……让我想想——好吧！",
    "温度从-5°C升到了12.5℃，增长了30%。",
]


@pytest.mark.parametrize("text", CORPUS)
def test_alignment_and_ids(text: str) -> None:
    normalized, phones, word2ph = zh_phonemes(text)
    assert len(word2ph) == len(normalized)
    assert sum(word2ph) == len(phones)
    table = symbol_to_id()
    assert all(p in table for p in phones)
    assert all(0 <= table[p] < len(symbols()) for p in phones)
    position = 0
    for ch, n in zip(normalized, word2ph, strict=True):
        if ch in PUNCTUATION_SET:
            assert n == 1 and phones[position] == ch
        else:
            assert n == 2 and phones[position + 1][-1] in "12345"
        position += n


def test_g2p_rejects_unnormalised_text() -> None:
    with pytest.raises(TextError):
        g2p_zh("abc你好")
    with pytest.raises(TextError):
        g2p_zh("你好。")  # full-width 。 is not normalised


# --------------------------------------------------------------------------------------------------
# robustness


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t ", "😀🎉👍", "\x00\x01\x07\x1b", "\u200b\u200c\u200d\ufeff", "こんにちは", "안녕하세요",
     "مرحبا بالعالم", "Hello world", "，，，。。。", "-", "………"],
)  # fmt: skip
def test_inputs_without_readable_hanzi_give_clear_results(text: str) -> None:
    normalized, phones, word2ph = zh_phonemes(text)
    assert len(word2ph) == len(normalized)
    assert all(ch in PUNCTUATION_SET for ch in normalized)
    assert all(p in PUNCTUATION_SET for p in phones)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你\u200b好", "你好"),
        ("你\x00好\x07", "你好"),
        ("我们😀走吧", "我们走吧"),
        ("日本語のテキスト", "日本语"),
        ("한국어와 中文", "中文"),
        ("他说：“你好", "他说,你好"),
        ("‘单引号", "单引号"),
        ("请访问https://example.com/path?q=1获取", "请访问获取"),
        ("邮件发到someone@example.org就行", "邮件发到就行"),
    ],
)
def test_noise_is_removed(text: str, expected: str) -> None:
    normalized, phones, word2ph = zh_phonemes(text)
    assert normalized == expected
    assert len(phones) == sum(1 if ch in PUNCTUATION_SET else 2 for ch in expected)


@pytest.mark.timeout(120)
def test_long_text_finishes() -> None:
    sentence = "今天天气很好，我们一起去公园散步吧！他说2024年3月5日下午3:30见。這個軟體很好用……"
    text = (sentence * (100_000 // len(sentence) + 1))[:100_000]
    start = time.perf_counter()
    normalized, phones, word2ph = zh_phonemes(text)
    elapsed = time.perf_counter() - start
    assert len(word2ph) == len(normalized) > 90_000
    assert sum(word2ph) == len(phones)
    print(f"100k chars: {len(phones) / elapsed:.0f} phones/s")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("unit", ["1", "-1", "1+", "你", "你1", "1²", "a@", "2024年"])
def test_pathological_long_inputs_stay_linear(unit: str) -> None:
    text = unit * (50_000 // len(unit))
    normalized, phones, word2ph = zh_phonemes(text)
    assert len(word2ph) == len(normalized)
    assert sum(word2ph) == len(phones)


@pytest.mark.timeout(60)
def test_a_hundred_thousand_digits_go_through_in_bounded_pieces() -> None:
    from engine.text.chinese import ZH_CHUNK_CHARS, zh_chunks

    text = "1" * 100_000
    assert max(len(c) for c in zh_chunks(text)) == ZH_CHUNK_CHARS
    normalized, phones, word2ph = zh_phonemes(text)
    assert normalized == "幺" * 100_000
    assert phones[:2] == ["y", "ao1"] and len(phones) == 200_000 == sum(word2ph)


def test_import_and_use_touch_no_network(tmp_path) -> None:
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from engine.text.chinese import zh_phonemes\n"
        "print(zh_phonemes('你好，世界。')[1])\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "'n', 'i2'" in result.stdout
    assert "Building prefix dict" not in result.stderr and "Loading model" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("比分是3:2。", "比分是三比二."),
        ("比例为1:100", "比例为一比一百"),
        ("十点10:30开始", "十点十点半开始"),
    ],
)
def test_a_colon_that_is_not_a_time_is_a_score(text: str, expected: str) -> None:
    assert normalize_zh(text) == expected


def test_di_after_a_descriptive_word_is_the_particle() -> None:
    phones = zh_phonemes("蜜蜂嗡嗡地飞，他悄悄地走了，土地。")[1]
    pairs = [(a, b) for a, b in zip(phones, phones[1:], strict=False) if a == "d"]
    assert pairs == [("d", "e5"), ("d", "e5"), ("d", "i4")]  # 嗡嗡地 悄悄地 → de; 土地 keeps dì
    assert zh_phonemes("本地人")[1][2:4] == ["d", "i4"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("书号978-7-111-54742-6", "书号九七八,七,幺幺幺,五四七四二,六"),
        ("1-5页", "一到五页"),
        ("气温25°C", "气温二十五度"),
        ("气温77℉", "气温华氏七十七度"),
        ("夜里-5°F", "夜里华氏零下五度"),
    ],
)
def test_codes_and_temperature_scales(text: str, expected: str) -> None:
    assert normalize_zh(text) == expected


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("我得走了", "dei3"),
        ("这得花多少钱", "dei3"),
        ("他说得对", "de5"),
        ("跑得快", "de5"),
        ("心得体会", "de2"),
    ],
)
def test_de_readings(text: str, reading: str) -> None:
    from engine.text.chinese.g2p import sentence_syllables

    syllables = [s for _w, _p, syl in sentence_syllables(text) for s in syl]
    assert syllables[text.index("得")] == reading
