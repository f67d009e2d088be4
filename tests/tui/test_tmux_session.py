"""The installed ``timbre`` command in tmux, recording three takes from a virtual microphone by keys.

A private PulseAudio daemon's null sink is the microphone (tests/virtual_mic.py); espeak-ng speech is
played into it while a "person" presses n, enter, then space / space / enter three times, then q.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtual_mic import tools_available, virtual_microphone  # noqa: E402

MIC_RATE = 48000
SENTENCE = "Hello there. This is a short sentence for the test."


def _missing(what: str) -> None:
    """Skip on a developer machine without the tool; fail in CI, where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (the CI script must install it)")
    pytest.skip(f"{what} is not installed")


def installed_timbre() -> Path:
    """The console script of this environment (the one `pip install -e .` made)."""
    candidate = Path(sys.executable).parent / "timbre"
    if candidate.exists():
        return candidate
    found = shutil.which("timbre")
    if found is None:
        pytest.fail("the 'timbre' command is not installed (pip install -e .)")
    return Path(found)


def env_command(env: dict[str, str], timbre: Path) -> str:
    """The shell line that runs ``timbre`` with ``env`` added (what tmux starts)."""
    return "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + f" {shlex.quote(str(timbre))}"


class Tmux:
    """A tmux server on a private socket with one 80x24 session."""

    def __init__(self, log_path: Path) -> None:
        self.socket = f"timbre-test-{uuid.uuid4().hex[:8]}"
        self.target = "timbre"
        self.log_path = log_path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True, check=check
        )

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", self.target, "-x", "80", "-y", "24", command,
                 ";", "set-option", "-t", self.target, "remain-on-exit", "on",
                 ";", "set-option", "-s", "escape-time", "10")  # fmt: skip

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target, check=False).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def pane_dead(self) -> bool:
        out = self.run("display-message", "-p", "-t", self.target, "#{pane_dead}", check=False)
        return out.returncode != 0 or out.stdout.strip() == "1"

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            if self.pane_dead():
                break
            time.sleep(0.1)
        native = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        raise AssertionError(f"waited for {text!r}; the screen shows:\n{screen}\nnative log:\n{native}")

    def kill(self) -> None:
        self.run("kill-server", check=False)


def rms_dbfs(path: Path) -> float:
    data, _ = sf.read(path, dtype="float32")
    return 20 * np.log10(max(float(np.sqrt(np.mean(np.square(data)))), 1e-9))


@pytest.mark.timeout(240)
def test_three_takes_in_tmux(tmp_path):
    for tool in ("tmux", "espeak-ng"):
        if shutil.which(tool) is None:
            _missing(tool)
    if not tools_available():
        _missing("pulseaudio / pulseaudio-utils")
    timbre = installed_timbre()
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(speech), SENTENCE], check=True)
    speech_seconds = sf.info(speech).duration
    statement = tmp_path / "statement.wav"  # the consent statement, read before the first prompt
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "170", "-w", str(statement),
         "I agree that my voice will be used to build a synthetic voice of me."],
        check=True,
    )  # fmt: skip
    home = tmp_path / "studio"
    home.mkdir()
    run_tmp = tmp_path / "tmp"  # the app's native-stderr log lives in $TMPDIR/timbre-<uid>/
    run_tmp.mkdir()
    tmux = Tmux(run_tmp / f"timbre-{os.getuid()}" / "native-stderr.log")
    with virtual_microphone(MIC_RATE) as mic:
        env = {
            **mic.env,
            "TIMBRE_HOME": str(home),
            "TMPDIR": str(run_tmp),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        }
        command = env_command(env, timbre)
        try:
            tmux.start(command)
            tmux.wait_for("New session")
            tmux.keys("n")
            tmux.wait_for("New recording session")
            tmux.keys("Enter")
            tmux.wait_for("ROOM TONE", timeout=20)
            tmux.wait_for("■ CONSENT", timeout=30)  # then the consent statement (issue 14)
            tmux.keys("Space")
            tmux.wait_for("● REC")
            mic.play(statement, wait=True)
            time.sleep(0.3)
            tmux.keys("Space")
            tmux.wait_for("◆ CONSENT RECORDED", timeout=30)
            tmux.keys("Enter")
            tmux.wait_for("READY", timeout=30)
            for number in range(1, 4):
                tmux.keys("Space")
                tmux.wait_for("● REC")
                mic.play(speech, wait=True)  # "read the sentence" (paced in real time)
                time.sleep(0.3)
                tmux.keys("Space")
                tmux.wait_for("◆ RECORDED")
                if number == 1:  # play it back: ALSA's C-level messages must not reach the screen
                    tmux.keys("p")
                    tmux.wait_for("Playing take 0001")
                    time.sleep(speech_seconds + 1.0)
                    assert "ALSA" not in tmux.screen()
                tmux.keys("Enter")
                tmux.wait_for(f"Prompt {number + 1} of")
            tmux.wait_for("READY")
            tmux.keys("q")
            deadline = time.monotonic() + 20
            while not tmux.pane_dead() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert tmux.pane_dead(), tmux.screen()
        finally:
            tmux.kill()

    sessions = [p for p in (home / "recordings").iterdir() if (p / "session.json").exists()]
    assert len(sessions) == 1
    folder = sessions[0]
    saved = json.loads((folder / "session.json").read_text())
    statuses = [take["status"] for take in saved["takes"]]
    assert statuses[:3] == ["accepted"] * 3 and set(statuses[3:]) <= {"pending"}
    assert saved["consent"]["file"] == "consent.wav" and (folder / "consent.wav").is_file()
    assert rms_dbfs(folder / "consent.wav") > rms_dbfs(folder / "room_tone.wav") + 20  # it was read
    room_tone = folder / "room_tone.wav"
    assert 2.5 <= sf.info(room_tone).duration <= 4.5
    for take in saved["takes"][:3]:
        path = folder / "takes" / f"{take['id']}.wav"
        duration = sf.info(path).duration
        assert speech_seconds <= duration <= speech_seconds + 10, (path, duration)
        assert abs(take["seconds"] - duration) < 0.05
        assert rms_dbfs(path) > rms_dbfs(room_tone) + 20  # speech was captured, not silence
    assert not list((folder / "takes").glob("*.partial.wav"))
    metadata = (folder / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split("|")[0] for line in metadata] == [t["id"] for t in saved["takes"][:3]]
    assert all(line.split("|")[1] for line in metadata)


@pytest.mark.timeout(120)
def test_starts_without_portaudio(tmp_path):
    """With PortAudio missing the installed command still starts; recording says how to fix it."""
    if shutil.which("tmux") is None:
        _missing("tmux")
    timbre = installed_timbre()
    fake_site = tmp_path / "site"
    fake_site.mkdir()
    # what sounddevice raises when libportaudio2 is not installed
    (fake_site / "sounddevice.py").write_text('raise OSError("PortAudio library not found")\n')
    home = tmp_path / "studio"
    env = {"PYTHONPATH": str(fake_site), "TIMBRE_HOME": str(home), "TMPDIR": str(tmp_path)}
    command = env_command(env, timbre)
    tmux = Tmux(tmp_path / "unused.log")
    try:
        tmux.start(command)
        screen = tmux.wait_for("RECORDING DISABLED")
        words = " ".join(screen.replace("▊", " ").replace("▎", " ").split())  # unwrap the bordered box
        assert "sudo apt-get install libportaudio2" in words
        tmux.keys("n")  # refused with the same advice, the app keeps running
        tmux.wait_for("Recording is disabled")
        tmux.keys("?")
        tmux.wait_for("Help: Home")
        tmux.keys("Escape")
        time.sleep(0.3)
        tmux.keys("q")
        deadline = time.monotonic() + 20
        while not tmux.pane_dead() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tmux.pane_dead()
    finally:
        tmux.kill()
    assert (home / "recordings").is_dir() and (home / "voices").is_dir()
