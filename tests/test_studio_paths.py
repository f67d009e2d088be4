"""Studio paths: an empty --home or $TIMBRE_HOME is an error; nothing built from data leaves its folder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.errors import StudioError
from engine.fsutil import inside
from engine.studio import Studio


def test_empty_home_is_an_error(monkeypatch, tmp_path):
    with pytest.raises(StudioError, match="--home is empty"):
        Studio.locate("")
    with pytest.raises(StudioError, match="--home is empty"):
        Studio.locate("   ")
    monkeypatch.setenv("TIMBRE_HOME", "")
    with pytest.raises(StudioError, match="TIMBRE_HOME is set but empty"):
        Studio.locate()
    assert Studio.locate(tmp_path).root == tmp_path.resolve()  # an explicit folder still wins
    monkeypatch.delenv("TIMBRE_HOME")
    monkeypatch.chdir(tmp_path)
    assert Studio.locate().root == tmp_path.resolve()


def test_cli_says_so_without_a_traceback(tmp_path):
    env = {**os.environ, "TIMBRE_HOME": ""}
    cmd = [sys.executable, "-m", "tui.cli", "check", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "TIMBRE_HOME is set but empty" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("part", ["../x", "/etc/passwd", "a/../../x", "..", "a/../.."])
def test_inside_refuses_paths_that_leave_the_folder(tmp_path, part):
    with pytest.raises(StudioError, match="leads outside"):
        inside(tmp_path, part)


def test_inside_refuses_a_symlink_out_and_allows_real_children(tmp_path):
    (tmp_path / "box").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "box" / "link")
    with pytest.raises(StudioError):
        inside(tmp_path / "box", "link", "f.wav")
    assert inside(tmp_path / "box", "takes", "0001.wav") == tmp_path / "box" / "takes" / "0001.wav"


def test_studio_folders_stay_inside(tmp_path):
    studio = Studio.locate(tmp_path)
    assert studio.session_dir("../../etc").parent == studio.recordings
    assert studio.voice_dir("/abs/name").parent == studio.voices


def test_inside_refuses_a_nul_byte(tmp_path):
    with pytest.raises(StudioError, match="Refused the path"):
        inside(tmp_path, "a\0b")
