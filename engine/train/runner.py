"""One training run: prepare -> sovits -> gpt -> export, reported as events, resumable after any stop.

Files under ``voices/<name>/train/``: ``checkpoints/`` (see :mod:`engine.train.checkpoint`),
``epochs/<phase>-epoch-N.safetensors`` (each epoch's fp16 weights, ``--keep-epochs`` newest kept),
``samples/<phase>-epoch-N.wav`` (a fixed sentence spoken with that epoch's weights), ``state.json``
(finished phases), ``events.jsonl`` and ``train.log``. At the end the voice folder gets ``voice.json``,
``gpt.safetensors``, ``sovits.safetensors`` and ``reference.wav``.

Every step is seeded from (seed, phase, step, part) and each epoch's batch order from (seed, epoch):
a run resumed from any checkpoint ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import logging
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelError, StudioError, TimbreError
from engine.fsutil import atomic_write_json, read_json
from engine.studio import Studio
from engine.train import checkpoint as ckpt
from engine.train.amp import make_amp
from engine.train.batching import (
    collate_gpt,
    collate_sovits,
    epoch_batches,
    gpt_length,
    rank_share,
    sovits_length,
)
from engine.train.config import SAMPLE_TEXT, TrainConfig, auto_batch_size
from engine.train.events import EventWriter
from engine.train.gpt_loop import GPTLoss, GPTTrainer
from engine.train.sovits_loop import SoVITSTrainer

log = logging.getLogger("engine.train")

STATE_FILE = "state.json"
EPOCHS_DIR = "epochs"
SAMPLES_DIR = "samples"
SOVITS_FINAL = "sovits-final.safetensors"  # the finished SoVITS phase, read by the GPT phase's samples
PROGRESS_EVERY_S = 0.5


class Cancelled(Exception):
    """SIGINT/SIGTERM arrived while a phase could not stop at a step boundary (data preparation)."""


@dataclass
class Dist:
    """Where this process stands in a DDP run (world 1: no DDP)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _stop_everywhere(flag: bool, dist: Dist, device: torch.device) -> bool:
    """Whether any rank wants to stop (all ranks must stop at the same step)."""
    if dist.world == 1:
        return flag
    import torch.distributed as td

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    td.all_reduce(t, op=td.ReduceOp.MAX)
    return bool(t.item() > 0)


class Runner:
    """Runs the phases of one training run and writes its events and files."""

    def __init__(
        self,
        home: Path | str | None,
        config: TrainConfig,
        writer: EventWriter,
        dist: Dist | None = None,
        resume: bool = False,
    ) -> None:
        self.config = config
        self.writer = writer
        self.dist = dist or Dist()
        self.resume = resume
        self.studio = Studio.locate(home)
        self.voice_dir = self.studio.voice_dir(config.voice)
        self.train_dir = self.voice_dir / "train"
        self.ckpt_dir = self.train_dir / ckpt.FOLDER
        self.stop_requested = False
        self.interruptible = False
        self.device = torch.device("cpu")
        self.pretrained = None
        self.data = None
        self._ssl = None
        self._last_similarity: dict[str, float | None] = {}
        self._final_losses: dict[str, dict[str, float]] = {}
        self._started = time.time()

    # ------------------------------------------------------------------ events
    def emit(self, kind: str, **fields: Any) -> None:
        """Write an event (rank 0 only)."""
        if self.dist.main:
            self.writer.emit(kind, **fields)

    def say(self, level: str, message: str) -> None:
        """A ``log`` event, also in the log file."""
        log.log(getattr(logging, level.upper(), logging.INFO), "%s", message)
        self.emit("log", level=level, message=message)

    # ------------------------------------------------------------------ signals
    def install_signals(self) -> None:
        """SIGINT/SIGTERM: finish the step, checkpoint, emit ``cancelled``."""

        def handler(signum, _frame):
            self.stop_requested = True
            log.info("signal %d: stopping after this step", signum)
            if self.interruptible:
                self.interruptible = False
                raise Cancelled()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    # ------------------------------------------------------------------ main
    def run(self) -> int:
        """Run every phase; the process exit status (0 done or cancelled, 1 error)."""
        try:
            return self._run()
        except Cancelled:
            self.emit("cancelled", phase="prepare", step=0, checkpoint=None)
            return 0
        except TimbreError as exc:
            log.error("%s", exc)
            self.emit("error", message=exc.message, hint=exc.hint)
            return 1
        except Exception as exc:  # noqa: BLE001 - reported as an event, details in the log
            log.exception("training failed")
            self.emit(
                "error",
                message=f"Training failed: {exc}",
                hint=f"Details are in {self.train_dir / 'train.log'}.",
            )
            return 1

    def _setup_device(self) -> None:
        from engine.models.runtime import configure_threads, resolve_device

        c = self.config
        if self.dist.world > 1 and c.device in ("auto", "cuda") and torch.cuda.is_available():
            self.device = torch.device(f"cuda:{self.dist.local_rank}")
        else:
            self.device = resolve_device(None if c.device == "auto" else c.device)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        configure_threads(c.threads)
        if self.device.type == "cpu":
            self.say("warning", "Training on the CPU: this works but is slow (a GPU trains in minutes).")

    def _check_sessions(self) -> None:
        c = self.config
        if not c.sessions:
            raise StudioError("No session was given to train on.", "Name one with --session ID.")
        for sid in c.sessions:
            if not (self.studio.session_dir(sid) / "session.json").is_file():
                known = ", ".join(self.studio.session_ids()) or "none yet"
                raise StudioError(
                    f"There is no recording session {sid!r} in {self.studio.recordings} (sessions: {known}).",
                    "Check the id with `timbre check`, or record one first.",
                )

    def _fresh_start(self) -> None:
        if self.ckpt_dir.exists() and ckpt.checkpoints(self.ckpt_dir):
            self.say(
                "warning",
                "Starting afresh: the earlier run's checkpoints are removed (--resume continues one).",
            )
        for name in (ckpt.FOLDER, EPOCHS_DIR, SAMPLES_DIR):
            shutil.rmtree(self.train_dir / name, ignore_errors=True)
        for name in (STATE_FILE, SOVITS_FINAL):
            (self.train_dir / name).unlink(missing_ok=True)

    def _state(self) -> dict[str, Any]:
        try:
            return read_json(self.train_dir / STATE_FILE)
        except (FileNotFoundError, StudioError, ValueError):
            return {}

    def _save_state(self, **changes: Any) -> None:
        if self.dist.main:
            state = self._state()
            state.update(changes)
            atomic_write_json(self.train_dir / STATE_FILE, state)

    def _run(self) -> int:
        c = self.config
        self._setup_device()
        self._check_sessions()
        from engine.weights.locate import find, locate

        self.pretrained = locate(("gpt", "sovits", "hubert", "bert"))
        self._disc_path = find("sovits-d").path
        if self.dist.main and not self.resume:
            self._fresh_start()
        self.train_dir.mkdir(parents=True, exist_ok=True)
        self.emit(
            "start",
            phases=["prepare", "sovits", "gpt", "export"],
            device=str(self.device),
            gpu_name=self._gpu_name(),
            config=c.to_dict(),
            voice=c.voice,
            pid=__import__("os").getpid(),
        )

        self.emit("phase", name="prepare")
        self.data = self._prepare()
        if self.stop_requested:
            self.emit("cancelled", phase="prepare", step=0, checkpoint=None)
            return 0

        resume = (
            ckpt.load_latest(self.ckpt_dir, warn=lambda m: self.say("warning", m)) if self.resume else None
        )
        if self.resume and resume is None:
            self.say("info", "No checkpoint to resume from: starting from the pretrained models.")
        state = self._state() if self.resume else {}
        done = set(state.get("done", []))
        if resume is not None:
            self.say(
                "info",
                f"Resuming from {resume.path.name} "
                f"({resume.payload['phase']}, step {resume.payload['step']}).",
            )

        for phase, epochs in (("sovits", c.sovits_epochs), ("gpt", c.gpt_epochs)):
            if phase in done:
                continue
            payload = resume.payload if resume is not None and resume.payload["phase"] == phase else None
            if (
                payload is None
                and resume is not None
                and phase == "sovits"
                and resume.payload["phase"] == "gpt"
            ):
                continue  # the checkpoint is past this phase
            finished = self._train_phase(phase, epochs, payload)
            if not finished:
                return 0
            done.add(phase)
            self._save_state(done=sorted(done))

        self.emit("phase", name="export")
        if self.dist.main:
            self._export()
        self.emit("done", voice=c.voice, seconds=round(time.time() - self._started, 1))
        return 0

    # ------------------------------------------------------------------ prepare
    def _prepare(self):
        from engine.train import data

        if self.dist.world > 1 and not self.dist.main:
            _barrier()  # rank 0 computes the features first; the others then read its cache
        self.interruptible = True
        try:
            prepared = data.prepare(
                self.studio,
                list(self.config.sessions),
                self.voice_dir,
                device=self.device,
                pretrained=self.pretrained,
                log=self.say,
            )
        finally:
            self.interruptible = False
        if self.dist.world > 1 and self.dist.main:
            _barrier()
        for key, reason in prepared.skipped:
            log.info("left out %s: %s", key, reason)
        return prepared

    # ------------------------------------------------------------------ model building
    def _sovits_models(self):
        from engine.models.sovits import MultiPeriodDiscriminator, SynthesizerTrn
        from engine.weights.configs import sovits_config_from_dict
        from engine.weights.load import read_weights
        from engine.weights.official import read_discriminator

        w = read_weights(self.pretrained.sovits, "sovits")
        cfg = sovits_config_from_dict(w.config)
        torch.manual_seed(self.config.seed)
        net_g = SynthesizerTrn(cfg)
        missing, unexpected = net_g.load_state_dict({k: v.float() for k, v in w.weight.items()}, strict=False)
        if unexpected or [k for k in missing if not k.startswith("enc_q.")]:
            raise ModelError(
                f"The pretrained SoVITS does not fit its config "
                f"({len(missing)} missing, {len(unexpected)} unexpected).",
                "Download the pretrained files again (`timbre models download`).",
            )
        if missing:
            self.say(
                "warning", "The pretrained SoVITS has no posterior encoder (enc_q): it starts untrained."
            )
        for module in (net_g.ssl_proj, net_g.quantizer):  # frozen (before any DDP wrapper sees them)
            module.requires_grad_(False)
        net_d = MultiPeriodDiscriminator.from_config(cfg)
        if self._disc_path is not None:
            found = net_d.load_state_dict(
                {k: v.float() for k, v in read_discriminator(self._disc_path).items()}, strict=False
            )
            if found.missing_keys or found.unexpected_keys:
                self.say(
                    "warning",
                    f"The pretrained discriminator does not fully fit ({len(found.missing_keys)} missing, "
                    f"{len(found.unexpected_keys)} unexpected tensors); the rest starts untrained.",
                )
        else:
            self.say("warning", "No pretrained SoVITS discriminator (s2D2333k.pth): it starts untrained.")
        return net_g.to(self.device), net_d.to(self.device), w

    def _gpt_model(self):
        from engine.weights.load import build_gpt, read_weights

        w = read_weights(self.pretrained.gpt, "gpt")
        model = build_gpt(w, self.device)
        return model.float(), w

    def _wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        if self.dist.world == 1:
            return module
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DDP(module, device_ids=ids, broadcast_buffers=False)

    # ------------------------------------------------------------------ a phase
    def _batch_size(self, n: int) -> int:
        c = self.config
        size = c.batch_size or auto_batch_size(self.device, n, c.max_batch)
        return max(size, self.dist.world)

    def _train_phase(self, phase: str, epochs: int, payload: dict | None) -> bool:
        """Train one phase to its end (True) or until a stop request (False, after a checkpoint)."""
        from engine.train import data as data_mod

        c = self.config
        amp = make_amp(self.device, c.precision)
        if phase == "sovits":
            items = data_mod.sovits_dataset(self.data.items)
            net_g, net_d, base = self._sovits_models()
            trainer = SoVITSTrainer(
                net_g,
                net_d,
                c,
                amp,
                self.dist.rank,
                self.dist.world,
                g_run=self._wrap(net_g),
                d_run=self._wrap(net_d),
            )
            lengths = [sovits_length(it) for it in items]
            collate = collate_sovits
        else:
            items = data_mod.gpt_dataset(self.data.items)
            model, base = self._gpt_model()
            trainer = GPTTrainer(
                model, c, amp, self.dist.rank, self.dist.world, run=self._wrap(GPTLoss(model))
            )
            lengths = [gpt_length(it) for it in items]
            collate = collate_gpt
        if not items:
            raise ModelError(
                f"No take is usable for the {phase} fine-tune.", "Record more, clearly spoken takes."
            )
        batch_size = self._batch_size(len(items))
        per_epoch = len(epoch_batches(lengths, batch_size, c.seed, 0))
        total = epochs * per_epoch
        if c.max_steps is not None:
            total = min(total, c.max_steps)
        epoch, index, step, micro = 0, 0, 0, c.micro_batches
        order = None
        if payload is not None:
            trainer.load_state_dict(payload["trainer"])
            epoch, index, step = int(payload["epoch"]), int(payload["index"]), int(payload["step"])
            order = [list(b) for b in payload["order"]] or None
            micro = int(payload.get("micro", micro))
            ckpt.set_rng_state(payload["rng"])
        self.emit("phase", name=phase, epochs=epochs, steps=total, batch_size=batch_size, precision=amp.name)
        self.say(
            "info",
            f"{phase}: {len(items)} items, batch {batch_size}, {per_epoch} steps per epoch, {amp.name}",
        )
        window_t, window_steps, last_emit = time.time(), 0, 0.0
        losses: dict[str, float] = {}
        while epoch < epochs and step < total:
            if order is None:
                order = epoch_batches(lengths, batch_size, c.seed, epoch)
            while index < len(order) and step < total:
                share = rank_share(order[index], self.dist.rank, self.dist.world)
                batch = collate([items[i] for i in share]).to(self.device)
                losses, micro = self._step_with_oom_retry(trainer, batch, step, micro)
                step += 1
                index += 1
                window_steps += 1
                now = time.time()
                if now - last_emit >= PROGRESS_EVERY_S or step == total or index == len(order):
                    rate = window_steps / max(now - window_t, 1e-9)
                    self.emit(
                        "progress",
                        phase=phase,
                        epoch=epoch + 1,
                        epochs=epochs,
                        step=step,
                        total_steps=total,
                        losses=losses,
                        lr=trainer.lr,
                        steps_per_s=round(rate, 3),
                        eta_s=round((total - step) / rate, 1) if rate > 0 else None,
                        gpu_mem_mb=self._gpu_mem(),
                        gpu_name=self._gpu_name(),
                    )
                    last_emit = now
                    if now - window_t > 10:
                        window_t, window_steps = now, 0
                every = c.checkpoint_every
                if every and step % every == 0 and index < len(order) and step < total:
                    self._checkpoint(phase, trainer, epoch, index, step, order, micro)
                if _stop_everywhere(self.stop_requested, self.dist, self.device):
                    path = self._checkpoint(phase, trainer, epoch, index, step, order, micro)
                    self.emit("cancelled", phase=phase, step=step, checkpoint=str(path) if path else None)
                    return False
            if index >= len(order):  # a whole epoch
                trainer.end_epoch()
                epoch, index, order = epoch + 1, 0, None
                self._end_of_epoch(phase, trainer, base, epoch, step)
                self._checkpoint(phase, trainer, epoch, index, step, order, micro)
                if _stop_everywhere(self.stop_requested, self.dist, self.device):
                    self.emit(
                        "cancelled",
                        phase=phase,
                        step=step,
                        checkpoint=str(ckpt.checkpoints(self.ckpt_dir)[-1]),
                    )
                    return False
        if index:  # stopped by --max-steps inside an epoch: keep what it learnt
            trainer.end_epoch()
            self._end_of_epoch(phase, trainer, base, epoch + 1, step)
        self._final_losses[phase] = losses
        if self.dist.main:
            self._write_final(phase, trainer, base)
        return True

    def _step_with_oom_retry(self, trainer, batch, step: int, micro: int) -> tuple[dict[str, float], int]:
        while True:
            try:
                return trainer.step(batch, step, parts=micro), micro
            except torch.OutOfMemoryError:
                if micro >= len(batch):
                    raise
                micro *= 2
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.say(
                    "warning",
                    "Out of GPU memory: retrying the step with half the batch "
                    f"(parts of {max(1, len(batch) // micro)}).",
                )

    def _checkpoint(self, phase, trainer, epoch, index, step, order, micro) -> Path | None:
        if not self.dist.main:
            return None
        payload = {
            "phase": phase,
            "epoch": epoch,
            "index": index,
            "step": step,
            "order": order if order is not None else [],
            "micro": micro,
            "trainer": trainer.state_dict(),
            "rng": ckpt.rng_state(),
            "config": self.config.to_dict(),
        }
        path = ckpt.save(self.ckpt_dir, phase, payload)
        self.emit("checkpoint", phase=phase, epoch=epoch, step=step, path=str(path))
        return path

    # ------------------------------------------------------------------ weights and samples
    def _native(self, phase: str, trainer, base, epoch: int, step: int, dtype=torch.float16):
        from engine.weights import native
        from engine.weights.configs import gpt_config_to_dict, sovits_config_to_dict

        if phase == "sovits":
            g = trainer.net_g
            weight = {
                k: v.detach().to("cpu", dtype)
                for k, v in g.state_dict().items()
                if not k.startswith("enc_q.")
            }
            config = sovits_config_to_dict(g.config, name=self.config.voice, base=base.config)
            return native.NativeWeights(
                "sovits", weight, config, f"{epoch}epoch_{step}iteration", g.config.version
            )
        m = trainer.model
        weight = {k: v.detach().to("cpu", dtype) for k, v in m.state_dict().items()}
        return native.NativeWeights(
            "gpt", weight, gpt_config_to_dict(m.config, base=base.config), f"GPT-e{epoch}"
        )

    def _end_of_epoch(self, phase: str, trainer, base, epoch: int, step: int) -> None:
        if not self.dist.main:
            return
        from engine.weights import native

        folder = self.train_dir / EPOCHS_DIR
        w = self._native(phase, trainer, base, epoch, step)
        native.save(folder / f"{phase}-epoch-{epoch}.safetensors", w)
        if self.config.keep_epochs > 0:
            kept = sorted(folder.glob(f"{phase}-epoch-*.safetensors"), key=_epoch_of)
            for old in kept[: -self.config.keep_epochs]:
                old.unlink(missing_ok=True)
        if self.config.samples and not self.stop_requested:
            self._sample(phase, epoch, w)

    def _write_final(self, phase: str, trainer, base) -> None:
        from engine.weights import native

        if phase == "sovits":
            native.save(
                self.train_dir / SOVITS_FINAL,
                self._native(phase, trainer, base, self.config.sovits_epochs, 0),
            )
        else:
            native.save(
                self.train_dir / "gpt-final.safetensors",
                self._native(phase, trainer, base, self.config.gpt_epochs, 0),
            )

    def _language(self) -> str:
        langs = [getattr(it, "language", "en") for it in self.data.items]
        top = max(set(langs), key=langs.count) if langs else "auto"
        return top if top in ("zh", "en") else "auto"

    def _sample(self, phase: str, epoch: int, w) -> None:
        """Speak the fixed sentence with this epoch's weights; a failure is only a warning."""
        try:
            wav_path, similarity, seconds, text = self._synthesise_sample(phase, epoch, w)
        except Exception as exc:  # noqa: BLE001 - a sample must never stop training
            log.exception("sample failed")
            self.say("warning", f"No sample for {phase} epoch {epoch}: {exc}")
            return
        self._last_similarity[phase] = similarity
        self.emit(
            "sample",
            phase=phase,
            epoch=epoch,
            text=text,
            wav=str(wav_path),
            similarity=similarity,
            seconds=seconds,
        )

    def _synthesise_sample(self, phase: str, epoch: int, w):
        import soundfile as sf

        from engine.synth import Models, Synthesizer, SynthParams
        from engine.voice import Voice
        from engine.weights.load import Weights, build_gpt, build_sovits, read_weights

        def weights(nw, path: Path) -> Weights:
            return Weights({k: v.float() for k, v in nw.weight.items()}, nw.config, nw.info, nw.version, path)

        if phase == "sovits":
            sovits = build_sovits(weights(w, Path("sovits.safetensors")), self.device)
            gpt = build_gpt(read_weights(self.pretrained.gpt, "gpt"), self.device).float()
        else:
            gpt = build_gpt(weights(w, Path("gpt.safetensors")), self.device)
            final = self.train_dir / SOVITS_FINAL
            sovits = build_sovits(
                read_weights(final if final.is_file() else self.pretrained.sovits, "sovits"), self.device
            ).float()
        if self._ssl is None:
            from engine.models.ssl import SslModel

            self._ssl = SslModel.load(self.pretrained.hubert, self.device)
        language = self._language()
        ref = self.data.reference
        voice = Voice.zero_shot(ref.wav, ref.text, language)
        models = Models(gpt, sovits, self._ssl, self.pretrained.bert, device=self.device)
        synth = Synthesizer(voice, models=models)
        text = self.config.sample_text or SAMPLE_TEXT.get(language, SAMPLE_TEXT["en"])
        audio = synth.synthesize(
            text, SynthParams(seed=self.config.seed, max_steps=self.config.sample_max_steps)
        )
        path = self.train_dir / SAMPLES_DIR / f"{phase}-epoch-{epoch}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), audio, 32000, subtype="PCM_16")
        return path, self._similarity(audio, ref.wav), round(len(audio) / 32000, 3), text

    def _similarity(self, audio, ref_wav: Path) -> float | None:
        try:
            import soundfile as sf

            from engine.train.similarity import speaker_similarity

            ref, sr = sf.read(str(ref_wav), dtype="float32")
            return round(float(speaker_similarity(audio, 32000, ref, sr)), 4)
        except Exception as exc:  # noqa: BLE001 - the score is a nicety
            log.warning("no speaker similarity: %s", exc)
            return None

    # ------------------------------------------------------------------ export
    def _export(self) -> None:
        """voice.json + weights + reference.wav in the voice folder."""
        from engine.voice import VOICE_FILE, Voice

        c = self.config
        folder = self.voice_dir
        weights: dict[str, Path | None] = {"gpt": None, "sovits": None}
        for phase, name in (("sovits", SOVITS_FINAL), ("gpt", "gpt-final.safetensors")):
            src = self.train_dir / name
            if src.is_file() and getattr(c, f"{phase}_epochs") > 0:
                dst = folder / f"{phase}.safetensors"
                shutil.copyfile(src, dst.with_suffix(".tmp"))
                dst.with_suffix(".tmp").replace(dst)
                weights[phase] = dst
        ref = self.data.reference
        ref_dst = folder / "reference.wav"
        shutil.copyfile(ref.wav, ref_dst)
        extra: dict[str, Any] = {}
        if (folder / VOICE_FILE).is_file():
            try:
                extra = dict(read_json(folder / VOICE_FILE))
            except (StudioError, ValueError):
                extra = {}
        for key in ("name", "version", "language", "reference", "weights"):
            extra.pop(key, None)
        extra["training"] = {
            "sessions": list(c.sessions),
            "config": c.to_dict(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds_of_speech": round(float(self.data.seconds), 1),
            "takes": len(self.data.items),
            "left_out": [[k, r] for k, r in self.data.skipped],
            "reference_take": getattr(ref, "key", None),
        }
        from engine.train.epochs import list_epochs

        kept = {phase: list_epochs(folder, phase) for phase in ("sovits", "gpt") if weights.get(phase)}
        extra["epochs"] = {phase: epochs[-1].epoch for phase, epochs in kept.items() if epochs}
        extra["metrics"] = {"final_losses": self._final_losses, "similarity": self._last_similarity}
        extra["consent"] = list(getattr(self.data, "consent", []))  # issue 14: the consent takes used
        extra.setdefault("created", time.time())  # what the voices list shows (kept on a re-train)
        extra["training_seconds"] = round(float(self.data.seconds), 1)
        voice = Voice(
            name=c.voice,
            reference_wav=ref_dst,
            reference_text=ref.text,
            language=self._language(),
            gpt_path=weights["gpt"],
            sovits_path=weights["sovits"],
            folder=folder,
            extra=extra,
        )
        voice.save(folder)

    # ------------------------------------------------------------------ device info
    def _gpu_name(self) -> str | None:
        if self.device.type != "cuda":
            return None
        return torch.cuda.get_device_name(self.device)

    def _gpu_mem(self) -> float | None:
        if self.device.type != "cuda":
            return None
        return round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)


def _barrier() -> None:
    import torch.distributed as td

    td.barrier()


def _epoch_of(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1
