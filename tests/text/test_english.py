"""English normalisation and G2P rules, one behaviour per test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.text.english import en_phonemes, g2p_en, normalize_en
from engine.text.english import numbers as num
from engine.text.english.g2p import spell, word_phones
from engine.text.english.letter_to_sound import letters_to_phones
from engine.text.english.lexicon import REMOVED, lexicon
from engine.text.symbols import symbol_to_id


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety-nine"),
        (101, "one hundred one"),
        (1000, "one thousand"),
        (1_000_001, "one million one"),
        (2_305_040, "two million three hundred five thousand forty"),
        (-8, "minus eight"),
    ],
)
def test_cardinal(n, words):
    assert num.cardinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"),
     (11, "eleventh"), (12, "twelfth"), (20, "twentieth"), (23, "twenty-third"), (100, "one hundredth"),
     (1001, "one thousand first")],
)  # fmt: skip
def test_ordinal(n, words):
    assert num.ordinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(1999, "nineteen ninety-nine"), (2000, "two thousand"), (2007, "two thousand seven"),
     (2010, "twenty ten"), (1800, "eighteen hundred"), (1101, "eleven oh one"),
     (999, "nine hundred ninety-nine"), (3000, "three thousand")],
)  # fmt: skip
def test_year(n, words):
    assert num.year(n) == words


def test_very_long_digit_runs_are_read_digit_by_digit():
    assert num.cardinal("1" * 60) == " ".join(["one"] * 60)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("$0", "zero dollars"),
        ("$1.234", "one point two three four dollars"),
        ("It's 0:10.", "It's twelve ten A M."),
        ("5 m", "five m"),
        ("5m", "five meters"),
        ("1. Buy milk", "first, Buy milk"),
        ("1. Buy milk\n2. Get eggs", "first, Buy milk second, Get eggs"),
        ("Python 3.11.2", "Python three point eleven point two"),
        ("Ｈｅｌｌｏ１２３", "Hello one hundred twenty-three"),
        ("zero\u200bwidth", "zerowidth"),
        ("a\x07b", "a b"),
        ("1990–1995", "nineteen ninety to nineteen ninety-five"),
        ("“quoted”", "quoted"),
        ("(aside) text", ", aside, text"),
        ("2 × 3 ÷ 4", "two times three divided by four"),
        ("COVID19", "COVID nineteen"),
        ("see bob@mail.org", "see bob at mail dot org"),
        ("go to example.com!", "go to example dot com!"),
        ("really?!...", "really?"),
        ("温度 20 度", "twenty"),
    ],
)
def test_normalize_cases(text, normalized):
    assert normalize_en(text) == normalized


def test_normalized_text_keeps_only_the_english_alphabet():
    text = "Ünïcödé ©®™ ½ ✓ 🙂 «ok» [x] {y} <z> | \\ ^ _ ` ~"
    out = normalize_en(text)
    assert set(out) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' .,?!-")


def test_unknown_short_words_are_spelled_letter_by_letter():
    assert "zyx" not in lexicon()
    assert list(word_phones("zyx")) == ["Z", "IY1", "W", "AY1", "EH1", "K", "S"]
    # the letter a is EY1 when spelled, as the reference fixes it
    assert list(word_phones("qa")) == ["K", "Y", "UW1", "EY1"]


def test_all_capitals_are_spelled_unless_a_long_dictionary_word():
    assert list(word_phones("NASA")) == list(lexicon()["nasa"])
    assert list(word_phones("GPTQ")) == spell("GPTQ")
    assert list(word_phones("CAT")) == spell("CAT")


def test_removed_entries_are_not_read_as_words():
    lex = lexicon()
    for word in REMOVED:
        assert word not in lex
    assert list(word_phones("AI")) == ["EY1", "AY1"]
    assert list(word_phones("ios")) == spell("ios")


@pytest.mark.parametrize(
    ("word", "ending"),
    [("florp's", ["P", "S"]), ("zorblax's", ["K", "S", "AH0", "Z"]), ("blorbo's", ["OW0", "Z"])],
)
def test_possessive_suffix_follows_the_last_sound(word, ending):
    base = list(word_phones(word[:-2]))
    got = list(word_phones(word))
    assert got[: len(base)] == base
    assert got[-len(ending) :] == ending


def test_hyphenated_unknown_words_are_read_part_by_part():
    assert list(word_phones("blorbo-free")) == list(word_phones("blorbo")) + list(lexicon()["free"])


def test_camel_case_splits_into_words():
    assert list(word_phones("DeepSpeed")) == list(lexicon()["deep"]) + list(lexicon()["speed"])


def test_run_together_words_split_into_dictionary_words():
    lex = lexicon()
    assert "doghouseparty" not in lex
    assert list(word_phones("doghouseparty")) == list(lex["doghouse"]) + list(lex["party"])


def test_unknown_head_with_a_dictionary_tail():
    lex = lexicon()
    assert list(word_phones("zorblaxhomework"))[-len(lex["homework"]) :] == list(lex["homework"])


def test_letter_to_sound_rules():
    assert letters_to_phones("florp") == ["F", "L", "AO1", "R", "P"]
    assert letters_to_phones("bike") == ["B", "AY1", "K"]
    assert letters_to_phones("knight") == ["N", "AY1", "T"]
    assert letters_to_phones("station") == ["S", "T", "AE1", "SH", "AH0", "N"]


def test_letter_to_sound_output_is_always_in_the_table():
    table = symbol_to_id()
    import random

    rng = random.Random(7)
    for _ in range(2000):
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 14)))
        assert all(p in table for p in letters_to_phones(word)), word
        assert all(p in table for p in word_phones(word)), word


def test_words_without_vowel_sounds_are_spelled():
    assert "brrrr" not in lexicon()
    assert list(word_phones("brrrr")) == spell("brrrr")


def test_very_long_unknown_words_are_spelled():
    assert list(word_phones("q" * 200)) == spell("q" * 200)


def test_capital_a_article_versus_letter():
    assert g2p_en("A dog.")[0] == "AH0"
    assert g2p_en("Plan A.")[-2] == "EY1"
    assert g2p_en("grade A")[-1] == "EY1"


def test_read_homograph_follows_the_word_before():
    assert g2p_en("I have read it")[4:7] == ["R", "EH1", "D"]
    assert g2p_en("I will read it")[4:7] == ["R", "IY1", "D"]


@pytest.mark.parametrize(
    ("sentence", "word", "expected"),
    [
        ("Please record the song", "record", "R IH0 K AO1 R D"),
        ("I broke the record", "record", "R EH1 K ER0 D"),
        ("They will lead the team", "lead", "L IY1 D"),
        ("The lead pipe", "lead", "L EH1 D"),
        ("The wind is strong", "wind", "W IH1 N D"),
        ("Wind the clock", "wind", "W AY1 N D"),
        ("A tear fell", "tear", "T IH1 R"),
        ("Tear the paper", "tear", "T EH1 R"),
        ("We close at nine", "close", "K L OW1 Z"),
        ("Close the door", "close", "K L OW1 Z"),
        ("They are close friends", "close", "K L OW1 S"),
        ("I object to it", "object", "AH0 B JH EH1 K T"),
        ("Pick an object", "object", "AA1 B JH EH0 K T"),
        ("The use of force", "use", "Y UW1 S"),
        ("You use it", "use", "Y UW1 Z"),
        ("Present the award", "present", "P R IY0 Z EH1 N T"),
        ("A birthday present", "present", "P R EH1 Z AH0 N T"),
    ],
)
def test_homographs_follow_their_neighbours(sentence, word, expected):
    from engine.text.english.g2p import word_phones

    words = sentence.split()
    index = [w.lower() for w in words].index(word)
    phones = g2p_en(sentence)
    previous = words[index - 1] if index else ""
    following = words[index + 1] if index + 1 < len(words) else ""
    assert list(word_phones(words[index], previous, following)) == expected.split()
    assert " ".join(phones).find(expected) >= 0


def test_short_results_get_a_leading_comma():
    assert en_phonemes("Hi") == ("Hi", [",", "HH", "AY1"])
    assert en_phonemes("") == ("", [])
    assert en_phonemes("!!!") == ("!", [",", "!"])


def test_punctuation_phones_are_the_table_marks():
    phones = g2p_en("Yes, no. Why? Go! Well - ok")
    assert [p for p in phones if not p[0].isalpha()] == [",", ".", "?", "!", "-"]


def test_importing_english_does_not_import_nltk_or_g2p_en():
    code = (
        "import sys; import engine.text.english as e; e.en_phonemes('hello there'); "
        "bad=[m for m in ('nltk','g2p_en','inflect','wordsegment','torch') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The 1990s were fun.", "The nineteen nineties were fun."),
        ("Back in the 80s and the '70s.", "Back in the eighties and the seventies."),
        ("Wait 60s.", "Wait sixty seconds."),
        ("Call 555-123-4567.", "Call five five five, one two three, four five six seven."),
        ("Call (555) 123-4567 now.", "Call five five five, one two three, four five six seven now."),
        (
            "It costs $799, not $1,299.50.",
            "It costs seven hundred ninety-nine dollars, not one thousand two "
            "hundred ninety-nine dollars and fifty cents.",
        ),
        ("We're open 24/7.", "We're open twenty-four seven."),
    ],
)
def test_decades_phone_numbers_and_money_before_a_comma(text, expected):
    assert normalize_en(text) == expected
