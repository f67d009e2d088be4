"""A stand-in trainer for monitor tests: replays an event file on stdout like ``python -m engine.train``.

    python replay_trainer.py EVENTS.jsonl TRAIN_DIR [--delay S] [--hold] [--exit CODE]

Each line of EVENTS.jsonl is re-stamped with the current time, printed (flushed) and appended to
TRAIN_DIR/events.jsonl; the pid file is written while it runs, as the real trainer does. SIGINT makes it
emit ``cancelled`` and exit 0. ``--hold`` keeps it running after the last line (until a signal), and
``--exit CODE`` exits with CODE without removing the pid file when CODE is not 0 (a crash).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from engine.train.events import EVENTS_FILE, dumps, make
from engine.train.runs import remove_pid_file, write_pid_file

cancelled = False


def _cancel(_signum, _frame) -> None:
    global cancelled
    cancelled = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("events")
    parser.add_argument("train_dir")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--exit", type=int, default=0)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, _cancel)
    train = Path(args.train_dir)
    train.mkdir(parents=True, exist_ok=True)
    write_pid_file(train)
    log = open(train / EVENTS_FILE, "a", encoding="utf-8")  # noqa: SIM115

    def out(event: dict) -> None:
        line = dumps(event)
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    lines = Path(args.events).read_text().splitlines()
    for line in lines:
        if cancelled:
            break
        obj = json.loads(line)
        kind = obj.pop("event")
        obj.pop("t", None)
        out(make(kind, **obj))
        if args.delay:
            time.sleep(args.delay)
    while args.hold and not cancelled:
        time.sleep(0.02)
    if cancelled:
        out(make("cancelled", phase="sovits", step=1, checkpoint=str(train / "ckpt" / "last.pt")))
        remove_pid_file(train)
        return 0
    if args.exit:
        return args.exit
    remove_pid_file(train)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def recorded_stream(
    *,
    sovits_epochs: int = 3,
    gpt_epochs: int = 3,
    steps_per_epoch: int = 5,
    similarities: tuple[float, ...] = (0.71, 0.78, 0.74, 0.69, 0.66, 0.62),
    end: str = "done",
) -> list[dict]:
    """A trainer's event stream as the real one would print it (times are filled in on replay)."""
    events: list[dict] = [
        {
            "event": "start",
            "phases": ["prepare", "sovits", "gpt", "export"],
            "device": "cpu",
            "voice": "ana",
            "config": {"sessions": ["s1"], "device": "cpu"},
        },
        {"event": "phase", "name": "prepare"},
        {"event": "log", "level": "info", "message": "12 takes, 58.2 s of speech"},
        {"event": "log", "level": "warning", "message": "0007: 0.4 s, shorter than 0.6 s"},
    ]
    k = 0
    for phase, epochs, losses in (
        ("sovits", sovits_epochs, ("mel", "kl", "gen", "fm", "disc")),
        ("gpt", gpt_epochs, ("ce", "acc")),
    ):
        total = epochs * steps_per_epoch
        events.append({"event": "phase", "name": phase, "epochs": epochs, "steps": total})
        for epoch in range(1, epochs + 1):
            for s in range(steps_per_epoch):
                step = (epoch - 1) * steps_per_epoch + s + 1
                events.append(
                    {
                        "event": "progress",
                        "phase": phase,
                        "epoch": epoch,
                        "epochs": epochs,
                        "step": step,
                        "total_steps": total,
                        "losses": {name: 10.0 / (step + i) for i, name in enumerate(losses)},
                        "lr": 1e-4,
                        "steps_per_s": 2.5,
                        "eta_s": (total - step) / 2.5,
                        "gpu_mem_mb": None,
                    }
                )
            events.append(
                {
                    "event": "checkpoint",
                    "phase": phase,
                    "epoch": epoch,
                    "step": step,
                    "path": f"ckpt/{phase}-{epoch}.pt",
                }
            )
            sim = similarities[k % len(similarities)]
            k += 1
            events.append(
                {
                    "event": "sample",
                    "phase": phase,
                    "epoch": epoch,
                    "text": "你好。",
                    "wav": f"samples/{phase}-epoch-{epoch}.wav",
                    "similarity": sim,
                    "seconds": 2.0 + (epoch == gpt_epochs and phase == "gpt") * 3.0,
                }
            )
    if end == "done":
        events.append({"event": "phase", "name": "export"})
        events.append({"event": "done", "voice": "ana", "seconds": 12.5})
    elif end == "error":
        events.append(
            {
                "event": "error",
                "message": "The GPU ran out of memory at batch size 1.",
                "hint": "Close other programs using the GPU, or train on the CPU with --device cpu.",
            }
        )
    return events


def write_stream(path: Path, events: list[dict]) -> Path:
    """Write events as JSON lines (times added) for replay."""
    path.write_text("".join(json.dumps({"t": 0, **e}) + "\n" for e in events))
    return path
