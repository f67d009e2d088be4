"""The studio folder, atomic writes, safe names and the v2 symbol table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import StudioError, TextError
from engine.fsutil import atomic_write_json, read_json, safe_name
from engine.studio import Studio
from engine.text import symbols


@pytest.mark.parametrize(
    "raw, expected",
    [("my voice", "my-voice"), ("../../etc/passwd", "etc-passwd"), ("声音 1", "声音-1"), ("a/b\\c", "a-b-c")],
)
def test_safe_name_never_escapes(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected
    assert "/" not in safe_name(raw) and ".." not in safe_name(raw)


@pytest.mark.parametrize("raw", ["", "   ", "../..", "///"])
def test_safe_name_rejects_empty(raw: str) -> None:
    with pytest.raises(StudioError) as info:
        safe_name(raw, what="voice name")
    assert "voice name" in info.value.message and info.value.hint


def test_atomic_json_roundtrip_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x" / "session.json"
    atomic_write_json(target, {"a": 1, "text": "你好"})
    atomic_write_json(target, {"a": 2})
    assert read_json(target) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["session.json"]


def test_read_json_reports_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "session.json"
    bad.write_text("{not json")
    with pytest.raises(StudioError, match="session.json"):
        read_json(bad)


def test_studio_lists_sessions_and_voices(tmp_path: Path) -> None:
    studio = Studio.locate(tmp_path).ensure()
    (studio.session_dir("s1")).mkdir()
    (studio.session_dir("s1") / "session.json").write_text("{}")
    (studio.session_dir("junk")).mkdir()
    studio.voice_dir("me").mkdir()
    (studio.voice_dir("me") / "voice.json").write_text("{}")
    assert studio.session_ids() == ["s1"]
    assert studio.voice_names() == ["me"]
    assert studio.voice_dir("../../x").parent == studio.voices


def test_symbol_table_checksum_and_size() -> None:
    assert len(symbols.symbols()) == 732
    assert symbols.actual_sha256() == symbols.expected_sha256()
    spec = json.loads((Path(__file__).resolve().parent / "data" / "symbols-v2.json").read_text())
    assert spec["symbols"] == list(symbols.symbols())  # the shipped table equals the official one
    assert spec["length"] == 732 and spec["sha256_of_json_list"] == symbols.expected_sha256()


def test_phones_to_ids_roundtrip_and_unknown() -> None:
    phones = ["n", "i3", "h", "ao3", "HH", "AH0", "L", "OW1", "!"]
    ids = symbols.phones_to_ids(phones)
    assert symbols.ids_to_phones(ids) == phones
    with pytest.raises(TextError, match="'zz9'"):
        symbols.phones_to_ids(["n", "zz9"])
    with pytest.raises(TextError):
        symbols.ids_to_phones([732])


def test_engine_imports_no_textual() -> None:
    code = (
        "import sys, engine, engine.studio, engine.fsutil, engine.text.symbols\n"
        "assert 'textual' not in sys.modules, 'engine pulled in textual'\n"
        "assert 'torch' not in sys.modules, 'engine core pulled in torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_help_lists_itself() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "timbre" in out


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    import os

    target = tmp_path / "metadata.csv"
    atomic_write_json(target, [1])
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    target.chmod(0o640)
    atomic_write_json(target, [2])  # an existing file keeps its permissions
    assert target.stat().st_mode & 0o777 == 0o640


def test_home_is_accepted_after_the_subcommand(tmp_path: Path) -> None:
    from tui.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["devices", "--home", str(tmp_path)])
    assert args.home == str(tmp_path)
    assert parser.parse_args(["--home", "x", "devices"]).home == "x"
