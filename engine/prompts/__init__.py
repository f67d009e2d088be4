"""Prompt scripts: the built-in sentences per language and a person's own prompt file.

The built-in scripts (``zh.txt``, ``en.txt``, one sentence a line, ``#`` comments) were written for
Timbre. Each has about 25 everyday sentences, well over a minute of speech at a normal pace,
covering every Mandarin initial and final (pinyin) or every English ARPAbet phoneme.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engine.errors import StudioError

SCRIPTS: dict[str, str] = {"zh": "Mandarin Chinese", "en": "English"}

MAX_PROMPT_FILE_BYTES = 1_000_000
MAX_LINE_CHARS = 400
MAX_PROMPTS = 2000


class PromptFileError(StudioError):
    """A prompt file cannot be used."""

    default_hint = (
        "Use a UTF-8 text file with one sentence a line (blank lines and lines starting with # are skipped)."
    )


def parse_prompts(text: str, *, source: str = "prompts") -> list[str]:
    """Split prompt text into sentences: one a line, blanks and ``#`` comments skipped."""
    prompts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff").strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE_CHARS:
            raise PromptFileError(
                f"Line {number} of {source} is {len(line)} characters long (at most {MAX_LINE_CHARS}).",
                "Split long passages into one sentence a line: each line becomes one take of a few seconds.",
            )
        if "|" in line:
            raise PromptFileError(
                f"Line {number} of {source} contains '|', which the metadata file uses as its separator.",
                "Remove the '|' characters from your sentences.",
            )
        prompts.append(" ".join(line.split()))
    if not prompts:
        raise PromptFileError(f"{source} holds no sentences.", "Put one sentence on each line.")
    if len(prompts) > MAX_PROMPTS:
        raise PromptFileError(f"{source} has {len(prompts)} sentences (at most {MAX_PROMPTS}).")
    return prompts


def builtin_script(language: str) -> list[str]:
    """The built-in sentences for ``language`` ("zh" or "en")."""
    if language not in SCRIPTS:
        choices = ", ".join(f"{code} ({name})" for code, name in SCRIPTS.items())
        raise PromptFileError(
            f"There is no built-in script for language {language!r}.", f"Choose one of: {choices}."
        )
    text = resources.files(__package__).joinpath(f"{language}.txt").read_text(encoding="utf-8")
    return parse_prompts(text, source=f"the built-in {SCRIPTS[language]} script")


def load_prompt_file(path: Path) -> list[str]:
    """A person's prompt file: UTF-8 text, one sentence a line; raises PromptFileError with the reason."""
    path = Path(path).expanduser()
    if not path.exists():
        raise PromptFileError(
            f"The prompt file {path} does not exist.", "Check the path (use an absolute path if unsure)."
        )
    if path.is_dir():
        raise PromptFileError(f"{path} is a folder, not a prompt file.")
    try:
        size = path.stat().st_size
        if size > MAX_PROMPT_FILE_BYTES:
            raise PromptFileError(
                f"The prompt file {path} is {size / 1e6:.1f} MB; a prompt file is at most "
                f"{MAX_PROMPT_FILE_BYTES / 1e6:.0f} MB.",
                "A recording session needs a few dozen sentences, not a book.",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise PromptFileError(f"Cannot read the prompt file {path}: {exc.strerror or exc}.") from exc
    if b"\x00" in data:
        raise PromptFileError(f"{path} looks like a binary file, not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PromptFileError(
            f"{path} is not UTF-8 text (bad byte at position {exc.start}).",
            "Save the file as UTF-8 (most editors offer it under 'Save as' / 'Encoding').",
        ) from exc
    return parse_prompts(text, source=str(path))
