"""``timbre train --session ID --voice NAME``: fine-tune a voice in the trainer subprocess, with progress.

The work runs in ``python -m engine.train`` (the same subprocess the TUI's monitor starts); this command
reads its JSON-line events and draws phase bars, losses and the ETA with rich. Ctrl+C is passed on as a
clean cancel: the trainer finishes its step, saves a checkpoint and stops; ``--resume`` continues.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="fine-tune a voice on recorded sessions",
        description=(
            "Fine-tune GPT-SoVITS v2 on the accepted takes of one or more sessions (the official recipe: "
            "SoVITS 8 epochs, GPT 15). Ctrl+C stops cleanly after a checkpoint; --resume continues."
        ),
    )
    p.add_argument(
        "--session", action="append", dest="sessions", required=True, help="session id (repeatable)"
    )
    p.add_argument("--voice", required=True, help="name of the voice to create")
    p.add_argument("--sovits-epochs", type=int, help="SoVITS epochs (8)")
    p.add_argument("--gpt-epochs", type=int, help="GPT epochs (15)")
    p.add_argument("--batch-size", type=int, help="batch size (default: from the GPU's memory)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--seed", type=int, help="random seed (1234)")
    p.add_argument("--keep-epochs", type=int, help="keep only the newest N epochs' weights (default: all)")
    p.add_argument("--gpus", type=int, help="train on N GPUs (DDP)")
    p.add_argument("--max-steps", type=int, help="stop each phase after N steps (a quick try)")
    p.add_argument("--resume", action="store_true", help="continue the voice's last stopped run")
    p.add_argument("--no-samples", action="store_true", help="skip the per-epoch sample sentences")
    p.add_argument("--plain", action="store_true", help="print one line per event instead of progress bars")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace):
    from engine.train.launch import TrainOptions

    extra: list[str] = []
    for flag, value in (
        ("--keep-epochs", args.keep_epochs),
        ("--gpus", args.gpus),
        ("--max-steps", args.max_steps),
    ):
        if value is not None:
            extra += [flag, str(value)]
    if args.no_samples:
        extra.append("--no-samples")
    return TrainOptions(
        voice=args.voice,
        sessions=list(args.sessions),
        sovits_epochs=args.sovits_epochs,
        gpt_epochs=args.gpt_epochs,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        resume=args.resume,
        extra=extra,
    )


def _fmt_losses(losses: dict) -> str:
    keys = ("mel", "kl", "d_total", "loss_per_token", "accuracy")
    shown = [f"{k} {losses[k]:.3g}" for k in keys if isinstance(losses.get(k), int | float)]
    return "  ".join(shown)


def run(args: argparse.Namespace) -> int:
    """Start the trainer, show its progress, pass Ctrl+C on; the trainer's exit status."""
    from engine.studio import Studio
    from engine.train.events import EventError, parse
    from engine.train.launch import trainer_command

    home = Studio.locate(getattr(args, "home", None)).root
    cmd = trainer_command(home, _options(args))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, encoding="utf-8", start_new_session=True)
    view = _Plain() if args.plain or not sys.stderr.isatty() else _Bars()
    cancelling = False

    def cancel(_signum, _frame) -> None:
        nonlocal cancelling
        if not cancelling:
            cancelling = True
            view.note("stopping after this step (a checkpoint is saved; --resume continues)…")
            proc.send_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, cancel)
    final = None
    try:
        with view:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = parse(line)
                except EventError:
                    continue
                if event is None:
                    continue
                view.show(event)
                if event.kind in ("done", "cancelled", "error"):
                    final = event
        rc = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if final is not None and final.kind == "error":
        print(f"timbre: {final.get('message')}", file=sys.stderr)
        if final.get("hint"):
            print(f"  hint: {final.get('hint')}", file=sys.stderr)
        return rc or 1
    if final is not None and final.kind == "done":
        print(
            f'voice {final.get("voice")!r} is ready: timbre say --voice {final.get("voice")} "…"',
            file=sys.stderr,
        )
    elif final is not None and final.kind == "cancelled":
        resume = " ".join(
            [
                "timbre",
                "train",
                *sum((["--session", s] for s in args.sessions), []),
                "--voice",
                args.voice,
                "--resume",
            ]
        )
        print(f"stopped; continue with: {resume}", file=sys.stderr)
    elif rc != 0:
        print(
            f"timbre: the trainer stopped unexpectedly (exit {rc}); see voices/{args.voice}/train/train.log",
            file=sys.stderr,
        )
    return rc


class _Plain:
    """One line per interesting event on stderr (no terminal needed)."""

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        return None

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def show(self, event) -> None:
        k = event.kind
        if k == "progress":
            eta = event.get("eta_s")
            print(
                f"{event.get('phase')} epoch {event.get('epoch')}/{event.get('epochs')} "
                f"step {event.get('step')}/{event.get('total_steps')}  {_fmt_losses(event.get('losses', {}))}"
                + (f"  eta {eta:.0f} s" if isinstance(eta, int | float) else ""),
                file=sys.stderr,
                flush=True,
            )
        elif k == "phase":
            self.note(f"== {event.get('name')}")
        elif k == "log" and event.get("level") in ("info", "warning", "error"):
            self.note(f"{event.get('level')}: {event.get('message')}")
        elif k == "sample":
            sim = event.get("similarity")
            self.note(
                f"sample {event.get('phase')} epoch {event.get('epoch')}: {Path(event.get('wav')).name}"
                + (f" (similarity {sim:.2f})" if isinstance(sim, int | float) else "")
            )


class _Bars(_Plain):
    """rich progress bars: one per training phase, losses and ETA beside them."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<7}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
        )
        self.tasks: dict[str, int] = {}
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def note(self, text: str) -> None:
        self.progress.console.print(text)

    def show(self, event) -> None:
        k = event.kind
        if k == "phase" and event.get("name") in ("sovits", "gpt"):
            name = event.get("name")
            self.tasks[name] = self.progress.add_task(name, total=event.get("steps") or 1, info="")
        elif k == "progress" and event.get("phase") in self.tasks:
            info = f"epoch {event.get('epoch')}/{event.get('epochs')}  {_fmt_losses(event.get('losses', {}))}"
            self.progress.update(self.tasks[event.get("phase")], completed=event.get("step"), info=info)
        elif k != "progress":
            super().show(event)
