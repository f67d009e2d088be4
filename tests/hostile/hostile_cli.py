"""Helpers of the hostile-input tests: the CLI in a subprocess (strict UTF-8 locale) or in this process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str | bytes, home: Path, stdin: bytes | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """``timbre ARGS`` in a subprocess under a strict UTF-8 locale (bytes arguments passed as they are)."""
    env = dict(os.environ, LC_ALL="C.UTF-8", PYTHONUTF8="1", TIMBRE_HOME=str(home), HF_HUB_OFFLINE="1")
    env.pop("TIMBRE_PRETRAINED", None)
    cmd: list[str | bytes] = [sys.executable, "-m", "tui.cli", *args]
    given = stdin if stdin is not None else b""
    return subprocess.run(cmd, cwd=ROOT, env=env, input=given, capture_output=True, timeout=timeout)


def said(result: subprocess.CompletedProcess) -> str:
    """Everything the command printed, decoded leniently."""
    return (result.stdout + result.stderr).decode("utf-8", "replace")


def assert_clear(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """A non-zero exit with a message (no traceback) that holds every fragment; returns the output."""
    out = said(result)
    assert "Traceback" not in out, out
    assert result.returncode != 0, out
    for fragment in fragments:
        assert fragment in out, out
    return out


class Result:
    """What an in-process ``timbre`` call gave: exit status and everything printed."""

    def __init__(self, returncode: int, out: str) -> None:
        self.returncode, self.out = returncode, out


def cli(capsys, monkeypatch, *args: str, home: Path, stdin: bytes | None = None) -> Result:
    """``timbre ARGS`` in this process (fast); argv as Python decodes it (surrogateescape) and stdin bytes."""
    import io

    from tui.cli import main

    monkeypatch.setenv("TIMBRE_HOME", str(home))

    class Stdin(io.TextIOWrapper):
        pass

    monkeypatch.setattr(sys, "stdin", Stdin(io.BytesIO(stdin or b""), encoding="utf-8", errors="strict"))
    capsys.readouterr()
    rc = main(list(args))
    captured = capsys.readouterr()
    return Result(rc, captured.out + captured.err)


def clear(result: Result, *fragments: str) -> str:
    """An in-process call that failed with a message (no traceback) holding every fragment."""
    assert "Traceback" not in result.out, result.out
    assert result.returncode != 0, result.out
    for fragment in fragments:
        assert fragment in result.out, result.out
    return result.out
