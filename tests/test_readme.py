"""The README's commands work as written for a person who just ran `make run`.

`make run` puts the `timbre` command in `.venv/bin/`, not on the PATH, so every example must say
`.venv/bin/timbre …`; each example must parse with the real argument parser; every `make` target the
README names must exist, and the first install must say what it is doing instead of running quietly.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tui.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LAUNCHER = ".venv/bin/timbre"


def code_lines() -> list[str]:
    """Every line inside the README's fenced code blocks."""
    lines: list[str] = []
    inside = False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if inside:
            lines.append(line.strip())
    return lines


def inline_commands() -> list[str]:
    """Inline code spans in the prose that are whole timbre commands (`.venv/bin/timbre import FILE…`)."""
    return [span for span in re.findall(r"`([^`\n]+)`", README) if span.startswith(LAUNCHER + " ")]


def timbre_examples() -> list[str]:
    return [line for line in code_lines() if line.startswith(LAUNCHER)] + inline_commands()


def argv_of(line: str) -> list[str]:
    """The arguments after the launcher, with the trailing # comment removed."""
    words = shlex.split(line, comments=True)
    assert words[0] == LAUNCHER
    return [w.rstrip("…") for w in words[1:]]  # "FILE…" (one or more files) stands for "FILE"


def test_no_example_uses_a_bare_timbre_that_is_not_on_the_path():
    bare = [line for line in code_lines() if re.match(r"^timbre(\s|$)", line)]
    bare += [span for span in re.findall(r"`(timbre [^`\n]+)`", README) if span.split()[1].startswith("-")]
    assert bare == [], "write .venv/bin/timbre (make run does not put timbre on the PATH)"
    assert len(timbre_examples()) >= 8


@pytest.mark.parametrize("line", timbre_examples())
def test_every_cli_example_parses(line):
    parser = build_parser()
    try:
        args = parser.parse_args(argv_of(line))
    except SystemExit as exc:  # argparse exits on an unknown command or option
        pytest.fail(f"README example does not parse ({exc.code}): {line}")
    assert args.command is not None and callable(getattr(args, "func", None)), line


def test_the_launcher_is_where_the_readme_says():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["timbre"] == "tui.cli:main"
    assert re.search(r"^VENV \?= \.venv$", (ROOT / "Makefile").read_text(), re.M)
    installed = Path(sys.executable).parent / "timbre"
    assert installed.is_file(), "pip install -e . makes the console script next to python"
    out = subprocess.run([str(installed), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "sessions" in out.stdout and "devices" in out.stdout


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([a-z][\w-]*):", text, re.M)}


def test_every_make_command_in_the_readme_exists():
    used = set()
    for line in code_lines() + re.findall(r"`(make [^`\n]+)`", README):
        if line.startswith("make "):
            used.update(w for w in shlex.split(line, comments=True)[1:] if "=" not in w)
    assert {"run", "test"} <= used
    assert used <= makefile_targets(), used - makefile_targets()


def test_make_run_says_what_it_installs(tmp_path):
    """The first `make run` shows pip's progress and a line per step (make -n: nothing is run)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    venv = tmp_path / "venv"  # a venv that does not exist yet: the whole first-run recipe is printed
    for target in ("run", "test"):
        out = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target, f"VENV={venv}", "TORCH_SPEC=torch==2.13.0"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        installs = [line for line in out.splitlines() if " -m pip install" in line]
        assert len(installs) == 2, out
        assert not any(re.search(r"\s(--quiet|-q)\b", line) for line in installs), installs
        assert "torch==2.13.0" in installs[0]
        steps = [line for line in out.splitlines() if line.startswith("echo") and "==>" in line]
        assert any("Installing torch" in s for s in steps) and any("[2/2]" in s for s in steps), out
        if target == "run":
            assert any(f"{venv}/bin/timbre" in s for s in steps)  # it says where the command is
