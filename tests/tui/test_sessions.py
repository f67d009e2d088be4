"""Renaming and deleting sessions: the engine (engine.sessions_admin), `timbre sessions`, and Home's keys."""

from __future__ import annotations

import io
import json
import os
import time

import pytest
from textual.widgets import DataTable, Input
from tui_fakes import make_app, make_session, screen_text

from engine.errors import StudioError
from engine.session import Session
from engine.sessions_admin import delete_session, rename_session
from engine.studio import Studio
from tui.cli import main
from tui.screens.dialogs import TextDialog
from tui.screens.home import DeleteDialog, HomeScreen

SIZE = (80, 24)


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (a loaded machine can be slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def folder_names(studio_home) -> list[str]:
    return sorted(p.name for p in (studio_home / "recordings").iterdir())


# ------------------------------------------------------------------------------------------ engine
def test_rename_moves_the_folder_and_keeps_the_takes(studio_home):
    session = make_session(studio_home, session_id="20260101-120000")
    (session.dir / "takes" / "0001.wav").write_bytes(b"RIFF")
    studio = Studio.locate(studio_home)
    assert rename_session(studio, "20260101-120000", "Morning take / 1") == "Morning-take-1"
    assert folder_names(studio_home) == ["Morning-take-1"]
    assert json.loads((studio.session_dir("Morning-take-1") / "session.json").read_text())["id"] == (
        "Morning-take-1"
    )
    loaded = Session.load(studio, "Morning-take-1")
    assert loaded.id == "Morning-take-1" and len(loaded.takes) == 3
    assert (loaded.dir / "takes" / "0001.wav").read_bytes() == b"RIFF"


def test_rename_refuses_a_name_in_use_and_changes_nothing(studio_home):
    make_session(studio_home, session_id="one")
    make_session(studio_home, session_id="two")
    studio = Studio.locate(studio_home)
    before = {
        name: (studio_home / "recordings" / name / "session.json").read_text() for name in ("one", "two")
    }
    for taken in ("two", "TWO", " two "):
        with pytest.raises(StudioError, match="already exists") as info:
            rename_session(studio, "one", taken)
        assert info.value.hint
    with pytest.raises(StudioError, match="already called"):
        rename_session(studio, "one", "one")
    with pytest.raises(StudioError, match="no usable characters"):
        rename_session(studio, "one", "../..")
    with pytest.raises(StudioError, match="no session 'three'"):
        rename_session(studio, "three", "four")
    after = {
        name: (studio_home / "recordings" / name / "session.json").read_text() for name in ("one", "two")
    }
    assert after == before and folder_names(studio_home) == ["one", "two"]


def test_rename_sanitises_so_the_folder_stays_in_recordings(studio_home):
    make_session(studio_home, session_id="one")
    studio = Studio.locate(studio_home)
    assert rename_session(studio, "one", "../../escaped") == "escaped"
    assert folder_names(studio_home) == ["escaped"] and not (studio_home.parent / "escaped").exists()


def test_delete_removes_only_that_session(studio_home, tmp_path):
    keep = make_session(studio_home, session_id="keep")
    gone = make_session(studio_home, session_id="gone")
    (gone.dir / "clean").mkdir()
    (gone.dir / "clean" / "0001.wav").write_bytes(b"x")
    voice = studio_home / "voices" / "me"
    voice.mkdir(parents=True)
    (voice / "voice.json").write_text("{}")
    beside = studio_home / "recordings" / "notes.txt"
    beside.write_text("mine")
    studio = Studio.locate(studio_home)
    assert delete_session(studio, "gone") == gone.dir
    assert not gone.dir.exists()
    assert keep.dir.is_dir() and (keep.dir / "session.json").is_file()
    assert (voice / "voice.json").is_file() and beside.read_text() == "mine"
    with pytest.raises(StudioError, match="no session"):
        delete_session(studio, "gone")
    with pytest.raises(StudioError, match="no session"):
        delete_session(studio, "../voices/me")  # sanitised to 'voices-me': nothing of that name
    assert (voice / "voice.json").is_file()
    # a folder that is not a session (no session.json), and a link to elsewhere, are refused
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "session.json").write_text("{}")
    os.symlink(outside, studio_home / "recordings" / "link")
    (studio_home / "recordings" / "plain").mkdir()
    with pytest.raises(StudioError):  # "no session", or "leads outside" where the studio checks links
        delete_session(studio, "link")
    with pytest.raises(StudioError, match="no session"):
        delete_session(studio, "plain")
    assert (outside / "session.json").is_file() and (studio_home / "recordings" / "plain").is_dir()


def test_a_session_recording_now_is_neither_renamed_nor_deleted(studio_home):
    session = make_session(studio_home, session_id="busy")
    (session.dir / "takes" / "0001.partial.wav").write_bytes(b"RIFF")  # written just now
    studio = Studio.locate(studio_home)
    with pytest.raises(StudioError, match="recording a take"):
        rename_session(studio, "busy", "other")
    with pytest.raises(StudioError, match="recording a take"):
        delete_session(studio, "busy")
    assert folder_names(studio_home) == ["busy"]


# --------------------------------------------------------------------------------------------- CLI
def test_cli_lists_renames_and_deletes(studio_home, capsys, monkeypatch):
    make_session(studio_home, session_id="first")
    make_session(studio_home, session_id="second")
    home = str(studio_home)
    assert main(["sessions", "list", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" in out and "0/3" in out and "unfinished" in out
    assert main(["--home", home, "sessions", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["first", "second"] and rows[0]["takes"] == 3

    assert main(["--home", home, "sessions", "rename", "first", "my voice"]) == 0
    assert "my-voice" in capsys.readouterr().out
    assert main(["--home", home, "sessions", "rename", "my-voice", "second"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert folder_names(studio_home) == ["my-voice", "second"]

    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert main(["--home", home, "sessions", "delete", "second"]) == 1
    assert "Nothing deleted" in capsys.readouterr().out and "second" in folder_names(studio_home)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no answer at all (a script's closed stdin)
    assert main(["--home", home, "sessions", "delete", "second"]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["--home", home, "sessions", "delete", "second"]) == 0
    assert "Deleted session second" in capsys.readouterr().out
    assert main(["sessions", "delete", str(studio_home / "recordings" / "my-voice"), "--yes"]) == 0
    assert folder_names(studio_home) == []
    assert main(["--home", home, "sessions", "delete", "nothing", "-y"]) == 2
    assert "no session 'nothing'" in capsys.readouterr().err
    assert main(["--home", home, "sessions", "list"]) == 0
    assert "No sessions" in capsys.readouterr().out


# -------------------------------------------------------------------------------------------- Home
def record_notes(app) -> list[str]:
    """Every notification message from now on (app._notifications drops them once they expire)."""
    said: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        said.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return said


def row_ids(app) -> list[str]:
    table = app.screen.query_one("#sessions", DataTable)
    return [str(key.value) for key in table.rows]


async def test_home_renames_the_selected_session(studio_home, audio):
    make_session(studio_home, session_id="first")
    make_session(studio_home, session_id="taken")
    app = make_app(studio_home, audio)
    said = record_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and row_ids(app), what="Home")
        home = app.screen
        home.query_one("#sessions", DataTable).move_cursor(row=row_ids(app).index("first"))
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog), what="the name dialog")
        assert "New name for session first" in screen_text(app)
        app.screen.query_one(Input).value = "taken"  # a name in use: refused, nothing changes
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is home, what="Home again")
        await wait_until(pilot, lambda: any("already exists" in m for m in said), what="the refusal")
        assert sorted(row_ids(app)) == ["first", "taken"] and folder_names(studio_home) == ["first", "taken"]

        home.query_one("#sessions", DataTable).move_cursor(row=row_ids(app).index("first"))
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog), what="the name dialog")
        app.screen.query_one(Input).value = "Evening reading"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Evening-reading" in row_ids(app), what="the renamed row")
        assert folder_names(studio_home) == ["Evening-reading", "taken"]
        assert home.selected_session_id() == "Evening-reading"  # the cursor follows the session


async def test_home_deletes_only_after_y(studio_home, audio):
    make_session(studio_home, session_id="keep")
    make_session(studio_home, session_id="gone")
    app = make_app(studio_home, audio)
    said = record_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and row_ids(app), what="Home")
        home = app.screen
        home.query_one("#sessions", DataTable).move_cursor(row=row_ids(app).index("gone"))
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, DeleteDialog), what="the question")
        text = screen_text(app)
        assert "Delete session gone (0/3 takes kept" in text and "cannot be undone" in text
        assert "[y] delete it" in text
        await pilot.press("enter")  # enter does not delete
        await wait_until(pilot, lambda: app.screen is home, what="Home again")
        assert folder_names(studio_home) == ["gone", "keep"]
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, DeleteDialog), what="the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: row_ids(app) == ["keep"], what="the row to go")
        assert folder_names(studio_home) == ["keep"] and "Session gone was deleted." in said
        titles = [c.title for c in app.get_system_commands(home)]
        assert {"Rename (r)", "Delete (x)", "Devices (d)"} <= set(titles)
