"""Start-up: the first frame comes without heavy imports, and native stderr never reaches the screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tui.launch
from tui.launch import HEAVY_MODULES, build_app, native_stderr_to

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
        **kwargs,
    )


def test_first_frame_without_heavy_modules(studio_home):
    proc = subprocess.run(
        [sys.executable, "-m", "tui.launch", "--first-frame", "--home", str(studio_home)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[0])
    assert report["screen"] == "HomeScreen"
    assert report["heavy_modules"] == [], f"imported before the first frame: {report['heavy_modules']}"
    assert report["seconds"] > 0


def test_app_module_imports_nothing_heavy():
    proc = run_python(
        f"""
        import sys
        import tui.launch, tui.app, tui.screens.home, tui.screens.record, tui.screens.help
        import tui.screens.new_session, tui.widgets.meter, tui.services
        from engine.studio import Studio
        from tui.app import TimbreApp
        from tui.services import AudioServices
        app = TimbreApp(Studio.locate("."), AudioServices.real(None))
        print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_native_stderr_goes_to_the_log_not_the_terminal(tmp_path):
    log = tmp_path / "native.log"
    proc = run_python(
        f"""
        import os, sys
        from pathlib import Path
        from tui.launch import native_stderr_to
        with native_stderr_to(Path({str(log)!r})):
            os.write(2, b"ALSA lib pcm.c: underrun occurred\\n")
            sys.__stderr__.write("drawn by the app\\n")
            sys.__stderr__.flush()
        os.write(2, b"after restore\\n")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "underrun" in log.read_text()
    assert "underrun" not in proc.stderr
    assert "drawn by the app" in proc.stderr and "after restore" in proc.stderr


def test_native_stderr_restored_after_an_error(tmp_path):
    before = os.fstat(2).st_ino
    with pytest.raises(RuntimeError):
        with native_stderr_to(tmp_path / "x.log"):
            assert os.fstat(2).st_ino == (tmp_path / "x.log").stat().st_ino
            raise RuntimeError("boom")
    assert os.fstat(2).st_ino == before
    assert sys.stderr is not None and not sys.stderr.closed


def test_missing_portaudio_still_builds_the_app(studio_home, monkeypatch):
    import engine.audio.devices as devices

    monkeypatch.setattr(
        devices,
        "probe_portaudio",
        lambda: "Recording is disabled: PortAudio is not installed. sudo apt-get install libportaudio2",
    )
    app = build_app(studio_home)
    assert not app.services.can_record
    assert "libportaudio2" in app.services.portaudio_error
    with pytest.raises(Exception, match="libportaudio2"):
        app.services.make_recorder(None, None)


def test_run_app_probes_before_drawing(studio_home, monkeypatch):
    calls = []

    class FakeApp:
        return_code = 0

        def run(self):
            calls.append(("run", os.fstat(2).st_ino))

    def fake_build(home, log_path=None):
        calls.append(("build", home, log_path))
        return FakeApp()

    monkeypatch.setattr(tui.launch, "build_app", fake_build)
    assert tui.launch.run_app(str(studio_home)) == 0
    assert [c[0] for c in calls] == ["build", "run"]
    log_path = calls[0][2]
    assert calls[1][1] == log_path.stat().st_ino  # fd 2 pointed at the log while the app ran
