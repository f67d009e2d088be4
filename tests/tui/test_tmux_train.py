"""The installed ``timbre`` in tmux, as a person: record → review/prepare → train (TINY, CPU) → speak.

A private PulseAudio daemon's null sink is the microphone (tests/virtual_mic.py): espeak-ng reads the
first six prompts of the built-in English script into it; the consent statement is imported with
``timbre consent`` (as from another terminal); the session is prepared on Review, shift+t
opens Train, the trainer runs a few steps per phase (``TIMBRE_TRAIN_EXTRA_ARGS``, the developer knob), the
monitor says FINISHED, Speak loads the new voice, and ``timbre say --voice`` speaks with it into a WAV.
TINY pretrained files (random weights) keep it quick.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from test_tmux_session import Tmux, _missing, env_command, installed_timbre

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtual_mic import tools_available, virtual_microphone  # noqa: E402

MIC_RATE = 48000
VOICE = "tv"
TAKES = 6  # about 25 s of speech (read slowly): training needs 20 s


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


def import_consent(timbre: Path, home: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """``timbre consent SESSION --import`` of espeak-ng reading the statement (as from another terminal)."""
    from engine.studio import Studio

    (sid,) = Studio.locate(home).session_ids()
    done = subprocess.run(
        [str(timbre), "consent", sid, "--import", str(read_aloud(home, tmp_path / "consent-read.wav"))],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def read_aloud(home: Path, out: Path) -> Path:
    """espeak-ng reading the consent statement of the (only) session in ``home``."""
    from engine.consent import pending_text
    from engine.session import Session
    from engine.studio import Studio

    studio = Studio.locate(home)
    (sid,) = studio.session_ids()
    statement = pending_text(Session.load(studio, sid))
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), statement], check=True)
    return out


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
    from engine.prompts import builtin_script

    speech = []
    for i, sentence in enumerate(builtin_script("en")[:TAKES]):  # the prompts the person will read
        path = tmp_path / f"say{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "125", "-w", str(path), sentence], check=True)
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
        command = env_command(env, timbre)
        try:
            tmux.start(command)
            # record: a new session of the built-in English script, five prompts read into the microphone
            tmux.wait_for("New session")
            tmux.keys("n")
            tmux.wait_for("New recording session")
            tmux.keys("Enter")
            screen = wait_any(tmux, ("READY", "CONSENT:"), timeout=60)
            consent_first = "CONSENT:" in screen
            if consent_first:  # Record asks for the consent statement: h, import a reading of it, resume
                tmux.keys("h")
                tmux.wait_for("Recording sessions")
                import_consent(timbre, home, tmp_path, env)
                tmux.keys("Enter")  # resume the selected session
                tmux.wait_for("READY", timeout=60)
            for number, path in enumerate(speech, start=1):
                tmux.keys("Space")
                tmux.wait_for("● REC")
                mic.play(path, wait=True)  # "read the sentence" (paced in real time)
                time.sleep(0.3)
                tmux.keys("Space")
                tmux.wait_for("◆ RECORDED")
                tmux.keys("Enter")
                tmux.wait_for(f"Prompt {number + 1} of")
            tmux.keys("h")  # enough for a TINY run: the rest of the script can wait
            tmux.wait_for("Recording sessions")
            (folder,) = [p for p in (home / "recordings").iterdir() if (p / "session.json").exists()]

            if not consent_first:  # training needs the consent statement on record
                import_consent(timbre, home, tmp_path, env)

            # review → prepare (t) → train (shift+t from the 'prepared' dialog)
            tmux.keys("v")
            tmux.wait_for("Review ·", timeout=60)
            deadline = time.monotonic() + 120
            while "Prepared for training" not in tmux.screen():  # t waits while the takes are analysed
                assert time.monotonic() < deadline, tmux.screen()
                tmux.keys("t")
                time.sleep(2.0)
            screen = tmux.wait_for("[T] train a voice", timeout=30)
            assert f"Prepared for training: {TAKES} accepted takes" in screen, screen
            tmux.keys("T")
            tmux.wait_for("Usable speech", timeout=60)
            for _attempt in range(5):  # a key typed while the screen settles can be lost: check what landed
                tmux.keys("C-u")
                time.sleep(0.3)
                tmux.run("send-keys", "-t", tmux.target, "-l", VOICE)
                time.sleep(0.5)
                if any(line.strip() == f"Voice name  {VOICE}" for line in tmux.screen().splitlines()):
                    break
            screen = tmux.wait_for(f"Voice name  {VOICE}", timeout=10)
            for key in ("Tab", "Tab", "C-u", "1", "Tab", "C-u", "1"):  # sessions (ticked), SoVITS 1, GPT 1
                tmux.keys(key)
                time.sleep(0.3)
            screen = tmux.wait_for("GPT epochs 1 ", timeout=10)
            assert "SoVITS epochs 1 " in screen, screen
            tmux.keys("C-s")
            tmux.wait_for("Timbre — Train", timeout=60)
            screen = wait_any(tmux, ("FINISHED", "FAILED", "STOPPED"), timeout=240)
            assert "FINISHED" in screen, (
                screen + (home / "voices" / VOICE / "train" / "stderr.log").read_text()
            )

            # the trained voice in Speak: back to Review, Home, then s (it loads: "Ready")
            tmux.keys("Escape")
            tmux.wait_for("Review ·")
            tmux.keys("h")
            tmux.wait_for("Recording sessions")
            tmux.keys("s")
            tmux.wait_for("Timbre — Speak", timeout=60)
            tmux.wait_for(f"Ready: {VOICE}", timeout=180)
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
    # the trained voice speaks from the command line too (the Speak screen's own tmux test types text)
    wav = tmp_path / "said.wav"
    said = subprocess.run(
        [str(timbre), "say", "--voice", VOICE, "Hello from my trained voice.", "-o", str(wav),
         "--seed", "1", "--max-steps", "12"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert said.returncode == 0, said.stdout + said.stderr
    info = sf.info(str(wav))
    assert info.samplerate == 32000 and info.duration > 0.3
