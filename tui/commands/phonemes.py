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


def read_text(given: str | None) -> str:
    """The text argument, or standard input for None or '-', as checked text (valid UTF-8, no escapes)."""
    from engine.text.input_text import check_utf8, read_text_stream

    if given is None or given == "-":
        stream = getattr(sys.stdin, "buffer", None)
        return read_text_stream(stream) if stream is not None else check_utf8(sys.stdin.read())
    return check_utf8(given)


def run(args: argparse.Namespace) -> int:
    """Print each piece's segments with normalised text, phones and ids."""
    from engine.errors import TextError
    from engine.text.coverage import coverage_of_phones
    from engine.text.frontend import MAX_CHARS, frontend
    from engine.text.input_text import prepare_text
    from engine.text.mixed import script_of
    from engine.text.speakable import is_speakable, nothing_to_say
    from engine.text.split import split_text

    # terminal escape sequences go before anything is normalised or printed
    text = prepare_text(read_text(args.text), limit=MAX_CHARS)
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
        raise nothing_to_say(text, args.language)
    by_language: dict[str, list[list[str]]] = {"zh": [], "en": []}
    spoken = 0
    for number, piece in enumerate(pieces, 1):
        print(f"[{number}] {piece}")
        segments = frontend(piece, args.language)
        if not segments:
            print("    (nothing to pronounce)")
        for segment in segments:
            spoken += is_speakable([segment])
            by_language[segment.language].append(segment.phones)
            print(f"  {segment.language}: {segment.normalized_text}")
            print(f"    phones: {' '.join(segment.phones)}")
            print(f"    ids:    {' '.join(map(str, segment.ids))}")
            if segment.word2ph is not None:
                print(f"    word2ph: {' '.join(map(str, segment.word2ph))}")
    if not spoken:  # the same rule `say` refuses by (engine.text.speakable)
        raise nothing_to_say(text, args.language)
    if args.coverage:
        for language, phone_lists in by_language.items():
            if phone_lists:
                print(coverage_of_phones(phone_lists, language).summary())
    return 0
