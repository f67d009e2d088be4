"""The trainer subprocess as a person meets it: events on stdout, a usable voice, clear errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from studio_helpers import make_session, speak

from engine.train.events import EVENTS_FILE, parse, read_file

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--device", "cpu", "--batch-size", "8", "--sample-max-steps", "6", "--threads", "1"]


def run_trainer(world, *args: str, timeout: float = 600):
    """Run ``python -m engine.train`` to its end: (exit status, parsed events, stderr)."""
    studio, env, _ = world
    cmd = [sys.executable, "-m", "engine.train", "--home", str(studio.root), *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    events = [parse(line) for line in proc.stdout.splitlines() if line.strip()]  # every line is an event
    return proc.returncode, events, proc.stderr


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_end_to_end_train_say_export(world):
    studio, env, base = world
    rc, events, err = run_trainer(
        world,
        "--session",
        "s1",
        "--voice",
        "ana",
        "--sovits-epochs",
        "1",
        "--gpt-epochs",
        "1",
        "--max-steps",
        "2",
        *QUICK,
    )
    assert rc == 0, err[-3000:]
    names = [e.get("name") for e in events if e.kind == "phase"]
    assert names == ["prepare", "sovits", "gpt", "export"]
    assert kinds(events)[-1] == "done" and events[-1].get("voice") == "ana"
    progress = [e for e in events if e.kind == "progress"]
    assert {e.get("phase") for e in progress} == {"sovits", "gpt"}
    assert all(e.get("total_steps") == 2 and "lr" in e.data and e.get("losses") for e in progress)
    assert {"mel", "kl", "gen", "fm", "d_total"} <= set(progress[0].get("losses"))
    samples = [e for e in events if e.kind == "sample"]
    assert [s.get("phase") for s in samples] == ["sovits", "gpt"]
    for s in samples:
        assert Path(s.get("wav")).is_file() and sf.info(s.get("wav")).samplerate == 32000
        assert -1.0 <= s.get("similarity") <= 1.0  # speaker similarity of the sample to the reference clip
    voice_dir = studio.root / "voices" / "ana"
    assert [e.kind for e in read_file(voice_dir / "train" / EVENTS_FILE)] == kinds(events)  # the same log
    assert not (voice_dir / "train" / "trainer.pid").exists()
    assert (voice_dir / "train" / "train.log").stat().st_size > 0
    for name in ("voice.json", "gpt.safetensors", "sovits.safetensors", "reference.wav"):
        assert (voice_dir / name).is_file(), name
    assert sorted(p.name for p in (voice_dir / "train" / "epochs").iterdir()) == [
        "gpt-epoch-1.safetensors",
        "sovits-epoch-1.safetensors",
    ]

    from engine.errors import StudioError
    from engine.train.epochs import list_epochs, use_epoch

    assert [e.epoch for e in list_epochs(voice_dir, "gpt")] == [1]
    assert use_epoch(voice_dir, "gpt", 1) == voice_dir / "gpt.safetensors"
    assert json.loads((voice_dir / "voice.json").read_text())["epochs"] == {"sovits": 1, "gpt": 1}
    from engine.voice import voice_info

    listed = voice_info(studio, "ana")  # what Home and `timbre voices list` show
    assert listed.created and listed.training_seconds and listed.training_seconds > 1.0
    with pytest.raises(StudioError, match="kept: 1"):
        use_epoch(voice_dir, "sovits", 7)

    out = base / "say.wav"
    cli = [sys.executable, "-m", "tui.cli", "--home", str(studio.root)]
    said = subprocess.run(
        [*cli, "say", "--voice", "ana", "Hello there.", "-o", str(out), "--seed", "1", "--max-steps", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert said.returncode == 0, said.stderr
    assert sf.info(str(out)).frames == 9 * 1280  # 10 steps, the first and the stopping one dropped: 9 tokens

    exported = subprocess.run(
        [*cli, "models", "export", "--voice", "ana", "-o", str(base / "export")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exported.returncode == 0, exported.stderr
    from engine.weights import native, official

    gpt, sovits = (
        official.read_gpt(base / "export" / "ana.ckpt"),
        official.read_sovits(base / "export" / "ana.pth"),
    )
    ours = native.load(voice_dir / "sovits.safetensors")
    assert sovits.version == "v2" and not any(k.startswith("enc_q.") for k in sovits.weight)
    assert set(sovits.weight) == set(ours.weight)
    assert set(gpt.weight) == set(native.load(voice_dir / "gpt.safetensors").weight)
    from engine.weights.load import build_gpt, build_sovits, read_weights

    build_gpt(read_weights(base / "export" / "ana.ckpt", "gpt"))
    build_sovits(read_weights(base / "export" / "ana.pth", "sovits"))


@pytest.fixture(scope="module")
def broken(world):
    """Sessions a person could get wrong, each in its own id."""
    studio, _, base = world
    clips = base / "broken-clips"
    clips.mkdir()
    ok = speak(clips / "ok.wav", "The north wind and the sun were disputing which was the stronger.")
    short = clips / "short.wav"
    sf.write(str(short), sf.read(str(ok))[0][: int(0.3 * 32000)], 32000, subtype="PCM_16")
    silent = clips / "silent.wav"
    sf.write(str(silent), [0.0] * (5 * 32000), 32000, subtype="PCM_16")
    make_session(studio, "notext", "en", [("", ok, "accepted"), ("", ok, "accepted")])
    make_session(studio, "tiny", "en", [("Hello.", short, "accepted")])
    make_session(studio, "silence", "en", [("This is only silence.", silent, "accepted")] * 3)
    return studio


@pytest.mark.parametrize("session", ["notext", "tiny", "silence", "no-such-session"])
def test_broken_sessions_end_with_an_error_event(world, broken, session):
    rc, events, err = run_trainer(
        world, "--session", session, "--voice", f"bad-{session}", *QUICK, timeout=300
    )
    assert rc != 0, err[-2000:]
    assert events and events[-1].kind == "error", kinds(events)
    message, hint = events[-1].get("message"), events[-1].get("hint")
    assert message and hint, events[-1].data
    if session == "no-such-session":
        assert "no-such-session" in message and "s1" in message  # names the sessions there are


def test_timbre_train_shows_progress_and_ctrl_c_cancels_cleanly(world):
    studio, env, _ = world
    cmd = [
        sys.executable,
        "-m",
        "tui.cli",
        "--home",
        str(studio.root),
        "train",
        "--session",
        "s1",
        "--voice",
        "cli",
        "--sovits-epochs",
        "1",
        "--gpt-epochs",
        "1",
        "--no-samples",
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--plain",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("sovits epoch 1/1 step"):
            proc.send_signal(signal.SIGINT)  # what Ctrl+C in the terminal does
            break
    _, rest = proc.communicate(timeout=300)
    text = "".join(lines) + rest
    assert proc.returncode == 0, text[-2000:]
    assert "stopping after this step" in text and "--resume" in text.splitlines()[-1]
    events = read_file(studio.root / "voices" / "cli" / "train" / EVENTS_FILE)
    assert events[-1].kind == "cancelled" and events[-1].get("phase") == "sovits"
