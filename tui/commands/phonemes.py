"""``timbre phonemes "text"``: show how the text frontend splits, normalises and phonemises text."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``phonemes`` subcommand."""
    parser = subparsers.add_parser(
        "phonemes",
        help="show the phonemes and ids Timbre would speak for a text",
        description="Split, normalise and phonemise TEXT the way synthesis does, and print the result.",
    )
    parser.add_argument("text", nargs="?", help="the text (reads standard input when omitted or '-')")
    parser.add_argument("--language", choices=("zh", "en", "auto"), default="auto", help="language mode")
    parser.add_argument(
        "--split",
        default="none",
        metavar="METHOD",
        help="sentence split method: none, four, fifty, zh_period, en_period, punctuation (or cut0..cut5)",
    )
    parser.add_argument("--coverage", action="store_true", help="also print phoneme coverage of the text")
    parser.set_defaults(func=run)


def _nothing_to_pronounce() -> Exception:
    from engine.errors import TextError

    return TextError(
        "Nothing in the text can be pronounced.",
        "Use Chinese characters or English words (symbols, emoji and punctuation alone are not read).",
    )


def run(args: argparse.Namespace) -> int:
    """Print each piece's segments with normalised text, phones and ids."""
    from engine.errors import TextError
    from engine.text.coverage import coverage_of_phones
    from engine.text.frontend import frontend
    from engine.text.mixed import script_of
    from engine.text.split import split_text

    text = args.text
    if text is None or text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise TextError("The text is empty.", 'Give some text to read, e.g. timbre phonemes "Hello"')
    if args.language == "en" and any(script_of(ch) == "han" for ch in text):
        print(
            "note: --language en skips Chinese characters; use --language auto or zh to read them.",
            file=sys.stderr,
        )
    split_language = "en" if args.language == "en" else "zh"  # as synthesis splits (engine.synth)
    pieces = split_text(text, args.split, split_language)
    if not pieces:
        raise _nothing_to_pronounce()
    by_language: dict[str, list[list[str]]] = {"zh": [], "en": []}
    spoken = 0
    for number, piece in enumerate(pieces, 1):
        print(f"[{number}] {piece}")
        segments = frontend(piece, args.language)
        if not segments:
            print("    (nothing to pronounce)")
        for segment in segments:
            spoken += 1
            by_language[segment.language].append(segment.phones)
            print(f"  {segment.language}: {segment.normalized_text}")
            print(f"    phones: {' '.join(segment.phones)}")
            print(f"    ids:    {' '.join(map(str, segment.ids))}")
            if segment.word2ph is not None:
                print(f"    word2ph: {' '.join(map(str, segment.word2ph))}")
    if not spoken:
        raise _nothing_to_pronounce()
    if args.coverage:
        for language, phone_lists in by_language.items():
            if phone_lists:
                print(coverage_of_phones(phone_lists, language).summary())
    return 0
