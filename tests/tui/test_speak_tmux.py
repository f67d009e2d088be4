"""The installed ``timbre`` in tmux, as a person: Home → m (voice from a session) → Speak → type → a WAV.

No sound server is reachable (PULSE_SERVER points nowhere), as over SSH without forwarding, so the
utterance goes to voices/NAME/speak/ and the screen shows how to fetch it.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from test_tmux_session import Tmux, _missing, env_command, installed_timbre
from test_voices_home import consent_on_record, session_with_takes
from tiny_voice import REF_TEXT, build_pretrained, espeak

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.mark.timeout(300)
def test_voice_from_session_then_speak_to_a_file(tmp_path):
    for tool in ("tmux", "espeak-ng"):
        if shutil.which(tool) is None:
            _missing(tool)
    timbre = installed_timbre()
    pretrained = build_pretrained(tmp_path / "pretrained")
    home = tmp_path / "studio"
    home.mkdir()
    session = session_with_takes(home)
    for i in range(len(session.takes)):  # real speech: the reference must hold a voice
        espeak(REF_TEXT, session.take_path(i))
        session.takes[i].text = REF_TEXT
        session.takes[i].seconds = sf.info(str(session.take_path(i))).duration
    session.save()
    consent_on_record(session)
    run_tmp = tmp_path / "tmp"
    run_tmp.mkdir()
    env = {
        "TIMBRE_HOME": str(home),
        "TIMBRE_PRETRAINED": str(pretrained),
        "HF_HUB_OFFLINE": "1",
        "TMPDIR": str(run_tmp),
        "PULSE_SERVER": f"unix:{tmp_path}/no-pulse-here",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "TIMBRE_THREADS": "1",
    }
    command = env_command(env, timbre)
    tmux = Tmux(run_tmp / f"timbre-{os.getuid()}" / "native-stderr.log")
    speak_dir = home / "voices" / "mine" / "speak"
    try:
        tmux.start(command)
        tmux.wait_for("New session")
        tmux.keys("m")
        tmux.wait_for("Name of the new voice")
        tmux.keys("C-u")  # the suggested name is in the box; type our own
        time.sleep(0.3)
        tmux.keys("m", "i", "n", "e")
        tmux.wait_for("mine")
        tmux.keys("Enter")
        tmux.wait_for("Timbre — Speak", timeout=60)
        tmux.wait_for("Ready: mine", timeout=180)
        tmux.keys(*["Space" if c == " " else c for c in "Hello world. Second sentence."])
        for _ in range(7):  # text → speed, temperature, top_k, top_p, seed, pause, max tokens
            tmux.keys("Tab")
        tmux.keys("1", "2")  # random TINY weights: cap each sentence at 12 tokens
        tmux.keys("C-r")
        deadline = time.monotonic() + 120
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux.screen()
            if "Saved to a file" in screen or "Done:" in screen:
                break
            time.sleep(0.2)
        assert "Saved to a file" in screen or "Done:" in screen, screen
        if "Done:" in screen:  # some ALSA device accepted the audio: save it from the history
            for _ in range(2):
                tmux.keys("Tab")
            tmux.keys("s")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(speak_dir.glob("*.wav")):
            time.sleep(0.2)
        deadline = time.monotonic() + 30  # a notification toast may cover the commands for a while
        while True:
            screen = tmux.screen()
            joined = "".join(screen.split())
            if ("scp" in joined and "play-twav-" in joined) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert "scp" in joined and "play-twav-" in joined, screen
        assert "ALSA" not in screen
        tmux.keys("Escape")
        tmux.wait_for("Recording sessions")
        tmux.keys("q")
        deadline = time.monotonic() + 20
        while not tmux.pane_dead() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tmux.pane_dead(), tmux.screen()
    finally:
        tmux.kill()
    (wav,) = list(speak_dir.glob("*.wav"))
    info = sf.info(str(wav))
    assert info.samplerate == 32000 and info.duration > 0.3
    assert "Hello-world" in wav.name
    assert (home / "voices" / "mine" / "reference.wav").is_file()
