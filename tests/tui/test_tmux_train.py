"""The installed ``timbre`` in tmux, as a person: record → review/prepare → train (TINY, CPU) → speak.

A private PulseAudio daemon's null sink is the microphone (tests/virtual_mic.py): espeak-ng reads five
sentences of a prompt file into it. The consent statement is imported with ``timbre consent`` (another
terminal, as a person would), the session is prepared on Review, shift+t opens Train, the trainer runs a
few steps per phase (``TIMBRE_TRAIN_EXTRA_ARGS``, the developer knob), the monitor says FINISHED, and Speak
says a sentence with the new voice into a WAV. TINY pretrained files (random weights) keep it quick.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from test_tmux_session import Tmux, _missing, installed_timbre

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from studio_helpers import EN_TAKES  # noqa: E402
from virtual_mic import tools_available, virtual_microphone  # noqa: E402

MIC_RATE = 48000
VOICE = "tv"


def wait_any(tmux: Tmux, texts: tuple[str, ...], timeout: float) -> str:
    """Wait until one of ``texts`` is on the screen; that screen."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux.screen()
        if any(t in screen for t in texts):
            return screen
        if tmux.pane_dead():
            break
        time.sleep(0.2)
    raise AssertionError(f"waited for one of {texts!r}; the screen shows:\n{screen}")


def type_text(tmux: Tmux, text: str) -> None:
    tmux.run("send-keys", "-t", tmux.target, "-l", text)


@pytest.mark.timeout(420)
def test_record_prepare_train_and_speak_in_tmux(tmp_path):
    for tool in ("tmux", "espeak-ng", "sox"):
        if shutil.which(tool) is None:
            _missing(tool)
    if not tools_available():
        _missing("pulseaudio / pulseaudio-utils")
    timbre = installed_timbre()
    from engine.weights.tiny import make_tiny

    pretrained = make_tiny(tmp_path / "pretrained")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(EN_TAKES) + "\n", encoding="utf-8")
    speech = []
    for i, sentence in enumerate(EN_TAKES):
        path = tmp_path / f"say{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), sentence], check=True)
        speech.append(path)
    home = tmp_path / "studio"
    home.mkdir()
    run_tmp = tmp_path / "tmp"
    run_tmp.mkdir()
    tmux = Tmux(run_tmp / f"timbre-{os.getuid()}" / "native-stderr.log")
    with virtual_microphone(MIC_RATE) as mic:
        env = {
            **mic.env,
            "TIMBRE_HOME": str(home),
            "TIMBRE_PRETRAINED": str(pretrained),
            "TIMBRE_TRAIN_EXTRA_ARGS": "--max-steps 2 --no-samples --threads 1 --batch-size 8",
            "TIMBRE_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TMPDIR": str(run_tmp),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        }
        command = (
            "env "
            + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
            + f" {shlex.quote(str(timbre))}"
        )
        try:
            tmux.start(command)
            # record: a new session from the prompt file, five takes read into the virtual microphone
            tmux.wait_for("New session")
            tmux.keys("n")
            tmux.wait_for("New recording session")
            tmux.keys("Tab")
            type_text(tmux, str(prompts))
            tmux.wait_for("prompts.txt")
            tmux.keys("Enter")
            tmux.wait_for("READY", timeout=60)
            for number, path in enumerate(speech, start=1):
                tmux.keys("Space")
                tmux.wait_for("● REC")
                mic.play(path, wait=True)  # "read the sentence" (paced in real time)
                time.sleep(0.3)
                tmux.keys("Space")
                tmux.wait_for("◆ RECORDED")
                tmux.keys("Enter")
                if number < len(speech):
                    tmux.wait_for(f"Prompt {number + 1} of")
            tmux.wait_for("SESSION COMPLETE")
            tmux.keys("h")
            tmux.wait_for("Recording sessions")
            (folder,) = [p for p in (home / "recordings").iterdir() if (p / "session.json").exists()]

            # consent, from another terminal: the statement read aloud, imported with the CLI
            from engine.consent import pending_text
            from engine.session import Session
            from engine.studio import Studio

            statement = pending_text(Session.load(Studio.locate(home), folder.name))
            consent_wav = tmp_path / "consent.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(consent_wav), statement], check=True)
            cli_env = {**os.environ, **env}
            done = subprocess.run(
                [str(timbre), "consent", folder.name, "--import", str(consent_wav)],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr

            # review → prepare (t) → train (shift+t from the 'prepared' dialog)
            tmux.keys("v")
            tmux.wait_for("Review ·", timeout=60)
            deadline = time.monotonic() + 120
            while "Prepared for training" not in tmux.screen():  # t waits while the takes are analysed
                assert time.monotonic() < deadline, tmux.screen()
                tmux.keys("t")
                time.sleep(2.0)
            screen = tmux.wait_for("[T] train a voice", timeout=30)
            assert "Prepared for training: 5 accepted takes" in screen, screen
            tmux.keys("T")
            tmux.wait_for("Usable speech", timeout=60)
            tmux.keys("C-u")
            type_text(tmux, VOICE)
            tmux.keys("Tab", "Tab", "C-u", "1", "Tab", "C-u", "1")  # sessions (ticked), SoVITS 1, GPT 1
            time.sleep(0.5)
            tmux.keys("C-s")
            tmux.wait_for("Timbre — Train", timeout=60)
            screen = wait_any(tmux, ("FINISHED", "FAILED", "STOPPED"), timeout=240)
            assert "FINISHED" in screen, (
                screen + (home / "voices" / VOICE / "train" / "stderr.log").read_text()
            )

            # speak with the trained voice
            tmux.keys("Escape")
            tmux.wait_for("Recording sessions")
            tmux.keys("s")
            tmux.wait_for("Timbre — Speak", timeout=60)
            tmux.wait_for(f"Ready: {VOICE}", timeout=180)
            tmux.keys(*["Space" if c == " " else c for c in "Hello from my trained voice."])
            for _ in range(7):  # text → speed, temperature, top_k, top_p, seed, pause, max tokens
                tmux.keys("Tab")
            tmux.keys("1", "2")  # random TINY weights: cap the sentence at 12 tokens
            tmux.keys("C-r")
            screen = wait_any(tmux, ("Saved to a file", "Done:"), timeout=120)
            speak_dir = home / "voices" / VOICE / "speak"
            if "Done:" in screen:  # the sound server took the audio: save it from the history
                tmux.keys("Tab", "Tab", "s")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not list(speak_dir.glob("*.wav")):
                time.sleep(0.2)
            tmux.keys("Escape")
            tmux.wait_for("Recording sessions")
            tmux.keys("q")
            deadline = time.monotonic() + 20
            while not tmux.pane_dead() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert tmux.pane_dead(), tmux.screen()
        finally:
            tmux.kill()

    voice_dir = home / "voices" / VOICE
    data = json.loads((voice_dir / "voice.json").read_text())
    assert data["epochs"] == {"sovits": 1, "gpt": 1}
    assert (voice_dir / "gpt.safetensors").is_file() and (voice_dir / "sovits.safetensors").is_file()
    events = [json.loads(line) for line in (voice_dir / "train" / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "done"
    start = next(e for e in events if e["event"] == "start")
    assert start["config"]["sessions"] == [folder.name] and start["config"]["max_steps"] == 2
    (wav,) = list((voice_dir / "speak").glob("*.wav"))
    info = sf.info(str(wav))
    assert info.samplerate == 32000 and info.duration > 0.3
