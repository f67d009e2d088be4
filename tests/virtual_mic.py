"""A virtual microphone for tests and benchmarks: a private PulseAudio daemon with a null sink.

Whatever is played into the sink (``play_into_mic``) is what PortAudio's ``default``/``pulse``
input device records, paced in real time. Usage::

    from virtual_mic import virtual_microphone, play_into_mic

    with virtual_microphone(rate=48000) as mic:
        proc = play_into_mic("voice.wav", wait=False)
        ...  # record from sounddevice's default input
        proc.wait()

The daemon runs as a child process (not daemonised), so ``mic.kill()`` can pull the "device"
away mid-take. The context manager sets ``PULSE_SERVER``, ``PULSE_SINK`` and ``PULSE_SOURCE`` in
``os.environ`` (restored on exit) and re-initialises sounddevice, because PortAudio lists devices
only when it initialises. ``mic.env`` holds the three variables for child processes (tmux, etc.).

PortAudio's ALSA ``pulse``/``default`` devices report 44100 Hz as their default rate whatever the
sink's rate, so a Recorder left at its default rate records at 44100 Hz and PulseAudio resamples.
For sample-exact comparisons pass ``samplerate=mic.rate`` (or start the mic at 44100). A small
``parec`` reader keeps the null sink rendering in 20 ms chunks; without it every new capture stream
waits up to ~2 s for its first block.

Run ``python tests/virtual_mic.py [rate]`` to start one in the foreground and print the variables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SINK_NAME = "vsink"
_PULSE_VARS = ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE")


class VirtualMicUnavailable(RuntimeError):
    """pulseaudio/pactl are missing or the daemon would not start."""


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the process that started us dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; stop() is the normal path
        pass


def tools_available() -> bool:
    """True when the PulseAudio daemon and client tools are installed."""
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay", "parec"))


@dataclass
class VirtualMic:
    """A running private PulseAudio daemon with one null sink whose monitor is the microphone."""

    runtime_dir: Path
    rate: int
    process: subprocess.Popen
    sink: str = SINK_NAME
    keeper: subprocess.Popen | None = None
    previous_env: dict[str, str | None] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "native"

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    @property
    def source(self) -> str:
        return f"{self.sink}.monitor"

    @property
    def env(self) -> dict[str, str]:
        """The variables a client process needs to use this microphone."""
        return {"PULSE_SERVER": self.server, "PULSE_SINK": self.sink, "PULSE_SOURCE": self.source}

    @property
    def log_path(self) -> Path:
        return self.runtime_dir / "pa.log"

    def alive(self) -> bool:
        """True while the daemon process runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the daemon (simulates a microphone that vanishes)."""
        self._stop_keeper()
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def _stop_keeper(self) -> None:
        if self.keeper is not None and self.keeper.poll() is None:
            self.keeper.kill()
            self.keeper.wait(timeout=5)

    def stop(self) -> None:
        """Stop the daemon politely, then forcefully, and remove its folder."""
        self._stop_keeper()
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def play(self, wav_path: str | Path, *, wait: bool = True) -> subprocess.Popen:
        """Play a WAV file into this microphone's sink with paplay."""
        return play_into_mic(wav_path, wait=wait, mic=self)


def start_virtual_microphone(rate: int = 48000, *, channels: int = 1, timeout: float = 10.0) -> VirtualMic:
    """Start a private daemon with a null sink at ``rate`` Hz; does not touch os.environ."""
    if not tools_available():
        raise VirtualMicUnavailable("pulseaudio, pactl or paplay is not installed")
    runtime = Path(tempfile.mkdtemp(prefix="timbre-pa-"))
    sock = runtime / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime))
    for var in _PULSE_VARS:
        env.pop(var, None)
    cmd = [
        "pulseaudio",
        "-n",
        "--daemonize=no",
        "--exit-idle-time=-1",
        "--disallow-exit",
        "--use-pid-file=no",
        f"--log-target=file:{runtime / 'pa.log'}",
        "-L",
        f"module-native-protocol-unix socket={sock} auth-anonymous=1",
        "-L",
        f"module-null-sink sink_name={SINK_NAME} rate={rate} channels={channels}",
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    mic = VirtualMic(runtime_dir=runtime, rate=rate, process=proc)
    client_env = dict(env, PULSE_SERVER=mic.server)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log = mic.log_path.read_text(errors="replace") if mic.log_path.exists() else ""
            mic.stop()
            raise VirtualMicUnavailable(f"pulseaudio exited with {proc.returncode}: {log[-2000:]}")
        ready = sock.exists() and (
            subprocess.run(["pactl", "info"], env=client_env, capture_output=True).returncode == 0
        )
        if ready:
            _start_keeper(mic, client_env, deadline)
            return mic
        if time.monotonic() > deadline:
            mic.stop()
            raise VirtualMicUnavailable("pulseaudio did not become ready in time")
        time.sleep(0.05)


def _start_keeper(mic: VirtualMic, env: dict[str, str], deadline: float) -> None:
    """Hold a low-latency reader on the monitor so the null sink renders in small chunks.

    Without one, an idle null sink sleeps in ~2 s cycles and every new capture stream waits up to
    2 s for its first block. Returns once audio flows.
    """
    keeper = subprocess.Popen(
        ["parec", "--latency-msec=20", f"--device={mic.source}", "--raw"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    mic.keeper = keeper
    flowing = threading.Event()

    def drain() -> None:
        stream = keeper.stdout
        assert stream is not None
        while chunk := stream.read1(65536):
            flowing.set()
            del chunk

    threading.Thread(target=drain, name="pa-keeper-drain", daemon=True).start()
    if not flowing.wait(timeout=max(0.1, deadline - time.monotonic())):
        mic.stop()
        raise VirtualMicUnavailable("the null sink produced no audio in time")


def reinit_sounddevice() -> None:
    """Make PortAudio enumerate devices again (it does so only at initialisation)."""
    try:
        import sounddevice as sd
    except OSError:
        return
    sd._terminate()
    sd._initialize()


def activate(mic: VirtualMic) -> None:
    """Point this process (os.environ and sounddevice) at ``mic``."""
    mic.previous_env = {var: os.environ.get(var) for var in _PULSE_VARS}
    os.environ.update(mic.env)
    reinit_sounddevice()


def deactivate(mic: VirtualMic) -> None:
    """Undo ``activate``: restore the previous variables and re-initialise sounddevice."""
    for var, value in mic.previous_env.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
    reinit_sounddevice()


@contextmanager
def virtual_microphone(rate: int = 48000, *, channels: int = 1) -> Iterator[VirtualMic]:
    """Run a virtual microphone for the duration of the block (sets PULSE_* and re-inits sounddevice)."""
    mic = start_virtual_microphone(rate, channels=channels)
    activate(mic)
    try:
        yield mic
    finally:
        mic.stop()
        deactivate(mic)


def play_into_mic(
    wav_path: str | Path, *, wait: bool = True, mic: VirtualMic | None = None
) -> subprocess.Popen:
    """Play ``wav_path`` into the virtual sink with paplay (uses PULSE_SERVER unless ``mic`` given)."""
    env = dict(os.environ)
    if mic is not None:
        env.update(mic.env)
    if "PULSE_SERVER" not in env:
        raise VirtualMicUnavailable("no virtual microphone is running (PULSE_SERVER is unset)")
    sink = env.get("PULSE_SINK", SINK_NAME)
    proc = subprocess.Popen(
        ["paplay", f"--device={sink}", str(wav_path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if wait:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise VirtualMicUnavailable(f"paplay failed ({proc.returncode}): {err.decode(errors='replace')}")
    return proc


def _main(argv: list[str]) -> int:
    rate = int(argv[0]) if argv else 48000
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the cleanup below on kill
    mic = start_virtual_microphone(rate)
    for key, value in mic.env.items():
        print(f"export {key}={value}")
    print(f"# pid {mic.process.pid}; Ctrl-C stops it", flush=True)
    try:
        mic.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        mic.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
