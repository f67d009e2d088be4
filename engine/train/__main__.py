"""``python -m engine.train``: the trainer subprocess. Its stdout carries JSON-line events only.

Everything else (library chatter, warnings, tracebacks) goes to stderr and ``voices/NAME/train/train.log``;
events are also appended to ``voices/NAME/train/events.jsonl``. ``--gpus N`` relaunches this command
under ``torchrun`` with N processes (DDP: NCCL on GPUs, gloo on the CPU); only rank 0 writes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

DDP_ENV = "TIMBRE_TRAIN_DDP"


def build_parser() -> argparse.ArgumentParser:
    """The trainer's options (the defaults are the official recipe)."""
    p = argparse.ArgumentParser(
        prog="python -m engine.train", description="Fine-tune GPT-SoVITS v2 on sessions."
    )
    p.add_argument("--home", help="studio folder (default: $TIMBRE_HOME or .)")
    p.add_argument("--session", action="append", dest="sessions", default=[], help="session id (repeatable)")
    p.add_argument("--voice", required=True, help="name of the voice to create")
    p.add_argument("--sovits-epochs", type=int, default=8, help="SoVITS epochs (8)")
    p.add_argument("--gpt-epochs", type=int, default=15, help="GPT epochs (15)")
    p.add_argument("--batch-size", type=int, help="global batch (default: GPU GiB / 2)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--seed", type=int, default=1234, help="random seed (1234)")
    p.add_argument(
        "--keep-epochs", type=int, default=0, help="keep only the newest N per-epoch weights (0: all)"
    )
    p.add_argument("--resume", action="store_true", help="continue from the last good checkpoint")
    p.add_argument("--gpus", type=int, default=1, help="train on N processes with DDP (torchrun)")
    p.add_argument("--max-steps", type=int, help="stop each phase after N steps (quick tries, tests)")
    p.add_argument(
        "--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto", help="CUDA precision"
    )
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--no-samples", action="store_true", help="skip the per-epoch sample sentences")
    p.add_argument("--sample-max-steps", type=int, default=500, help="GPT token cap of a sample (500)")
    p.add_argument(
        "--checkpoint-every", type=int, default=0, help="also checkpoint every N steps (0: per epoch)"
    )
    p.add_argument("--micro-batches", type=int, default=1, help="split each batch into N parts")
    p.add_argument(
        "--gpt-optimizer", choices=("scaled_adam", "adamw"), default="scaled_adam", help=argparse.SUPPRESS
    )
    return p


def config_from_args(args: argparse.Namespace):
    """The TrainConfig the options describe."""
    from engine.train.config import TrainConfig

    return TrainConfig(
        voice=args.voice,
        sessions=list(args.sessions),
        sovits_epochs=args.sovits_epochs,
        gpt_epochs=args.gpt_epochs,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        keep_epochs=args.keep_epochs,
        max_steps=args.max_steps,
        precision=args.precision,
        threads=args.threads,
        samples=not args.no_samples,
        sample_max_steps=args.sample_max_steps,
        micro_batches=args.micro_batches,
        checkpoint_every=args.checkpoint_every,
        gpt_optimizer=args.gpt_optimizer,
    )


def _torchrun(argv: list[str], gpus: int) -> int:
    """Re-run this command under torchrun with ``gpus`` processes; its exit status."""
    import subprocess

    rest, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--gpus":
            skip = True
            continue
        if arg.startswith("--gpus="):
            continue
        rest.append(argv[i])
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={gpus}",
        "-m",
        "engine.train",
        *rest,
    ]
    env = dict(os.environ, **{DDP_ENV: "1"})
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.Popen(cmd, env=env)
    import signal

    def forward(signum, _frame):
        proc.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return proc.wait()


def _events_stream():
    """Keep the real stdout for events only: fd 1 (and sys.stdout) now point at stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", buffering=1, encoding="utf-8")


def _logging(train_dir) -> None:
    train_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in (
        logging.StreamHandler(sys.stderr),
        logging.FileHandler(train_dir / "train.log", encoding="utf-8"),
    ):
        handler.setFormatter(fmt)
        root.addHandler(handler)
    logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the trainer; the exit status (0 done or cancelled, 1 error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.gpus > 1 and not os.environ.get(DDP_ENV):
        return _torchrun(argv, args.gpus)
    stream = _events_stream()
    from engine.errors import TimbreError
    from engine.train.events import EVENTS_FILE, EventWriter
    from engine.train.runner import Dist, Runner

    dist = Dist()
    if os.environ.get(DDP_ENV) and "RANK" in os.environ:
        dist = Dist(
            int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
        )
    try:
        config = config_from_args(args)
        from engine.studio import Studio

        voice_dir = Studio.locate(args.home).voice_dir(config.voice)
    except TimbreError as exc:
        EventWriter(stream).emit("error", message=exc.message, hint=exc.hint)
        return 1
    train_dir = voice_dir / "train"
    if dist.main:
        _logging(train_dir)
        writer = EventWriter(stream, train_dir / EVENTS_FILE)
    else:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        writer = EventWriter(open(os.devnull, "w"))  # noqa: SIM115 - only rank 0 reports
    if dist.world > 1:
        import torch
        import torch.distributed as td

        td.init_process_group("nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo")
    runner = Runner(args.home, config, writer, dist, resume=args.resume)
    runner.install_signals()
    from engine.train.runs import remove_pid_file, write_pid_file

    if dist.main:
        write_pid_file(train_dir)
    try:
        return runner.run()
    finally:
        if dist.main:
            remove_pid_file(train_dir)
        writer.close()
        if dist.world > 1:
            import torch.distributed as td

            if td.is_initialized():
                td.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
