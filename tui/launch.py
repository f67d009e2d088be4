"""Start the app: probe PortAudio before the first frame, keep C-level stderr off the screen.

Textual draws on ``sys.__stderr__``, while ALSA and PortAudio print straight to file descriptor 2.
While the app runs, fd 2 points at a log file and Textual gets a duplicate of the terminal, so
native chatter (underruns, "Expression ... failed") lands in the log instead of on the screen.

``python -m tui.launch --first-frame`` runs the app headless, prints one JSON line when the first
frame is drawn (with the heavy modules found in ``sys.modules``) and exits; the start-up test and
``bench/bench_tui.py`` use it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HEAVY_MODULES: tuple[str, ...] = ("torch", "transformers", "noisereduce", "librosa")


MAX_LOG_BYTES = 1_000_000


def native_log_path() -> Path:
    """Where C-level stderr goes while the app runs (a per-user temp folder; restarted when large)."""
    folder = Path(tempfile.gettempdir()) / f"timbre-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "native-stderr.log"
    try:
        if path.stat().st_size > MAX_LOG_BYTES:
            path.unlink()
    except OSError:
        pass
    return path


@contextmanager
def native_stderr_to(log_path: Path) -> Iterator[None]:
    """Send fd 2 to ``log_path``; Python's ``sys.stderr``/``sys.__stderr__`` keep the terminal."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    try:
        terminal_fd = os.dup(2)
    except OSError:  # no fd 2: nothing can garble the screen
        yield
        return
    terminal = os.fdopen(terminal_fd, "w", buffering=1, encoding="utf-8", errors="replace", closefd=True)
    saved = (sys.stderr, sys.__stderr__)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(log_fd, 2)
    finally:
        os.close(log_fd)
    sys.stderr = sys.__stderr__ = terminal
    try:
        yield
    finally:
        try:
            terminal.flush()
        except (OSError, ValueError):
            pass
        os.dup2(terminal.fileno(), 2)
        sys.stderr, sys.__stderr__ = saved
        terminal.close()


def start_probe() -> Callable[[], str | None]:
    """Probe PortAudio in a thread (its C start-up overlaps Textual's import); call the result to wait."""
    from engine.audio.devices import probe_portaudio

    result: list[str | None] = []

    def probe() -> None:
        try:
            result.append(probe_portaudio())
        except Exception as exc:  # a broken sound stack must not stop the app
            result.append(f"Recording is disabled: the sound system failed to start ({exc}).")

    thread = threading.Thread(target=probe, name="portaudio-probe", daemon=True)
    thread.start()

    def wait() -> str | None:
        thread.join()
        return result[0] if result else "Recording is disabled: the sound system did not answer."

    return wait


def build_app(home: str | Path | None, *, log_path: Path | None = None, **kwargs: Any) -> Any:
    """Probe PortAudio and build the app for the studio at ``home`` (nothing is drawn yet)."""
    wait_for_probe = start_probe()
    from engine.session import repair_crashed_sessions
    from engine.studio import Studio
    from tui.app import TimbreApp
    from tui.services import AudioServices

    studio = Studio.locate(home).ensure()
    repair_crashed_sessions(studio)  # takes a crash cut short are kept (all but at most the last second)
    problem = wait_for_probe()
    services = AudioServices.real(problem) if problem is None else AudioServices.disabled(problem)
    return TimbreApp(studio, services, native_log_path=log_path, **kwargs)


def run_app(home: str | Path | None = None) -> int:
    """Run the Timbre app on this terminal; returns the exit status."""
    log_path = native_log_path()
    with native_stderr_to(log_path):
        app = build_app(home, log_path=log_path)
        app.run()
    return int(app.return_code or 0)


def first_frame_report(home: str | Path | None, started: float) -> dict[str, Any]:
    """Run the app headless until its first frame; report the time and the heavy modules loaded.

    The report is also written to file descriptor 1 at the moment of the first frame (Textual
    captures ``sys.stdout`` while it runs), so a parent process can time its arrival.
    """
    report: dict[str, Any] = {}

    def on_first_frame(app: Any) -> None:
        report["seconds"] = time.perf_counter() - started
        report["heavy_modules"] = sorted(m for m in HEAVY_MODULES if m in sys.modules)
        report["screen"] = type(app.screen).__name__
        os.write(1, (json.dumps(report) + "\n").encode())
        app.exit(0)

    app = build_app(home, on_first_frame=on_first_frame)
    app.run(headless=True, size=(80, 24))
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m tui.launch [--home DIR] [--first-frame]``."""
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m tui.launch")
    parser.add_argument("--home")
    parser.add_argument("--first-frame", action="store_true", help="report the first frame as JSON and exit")
    args = parser.parse_args(argv)
    if args.first_frame:
        return 0 if first_frame_report(args.home, started) else 1
    return run_app(args.home)


if __name__ == "__main__":
    sys.exit(main())
