"""``timbre say``: speak text in a voice (or zero-shot from a reference clip) into a WAV or the speakers."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# --play streams below the sentence by default (as engine.utterance.STREAM_CHUNK_TOKENS, which the
# Speak screen uses; importing it here would load the engine before the CLI needs it)
PLAY_CHUNK_TOKENS = 24
PRECISION_CHOICES = ("auto", "fast", "fp32", "fp16", "bf16")  # engine.models.runtime.PRECISION_CHOICES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``say`` subcommand."""
    parser = subparsers.add_parser(
        "say",
        help="speak text in a voice and write a WAV",
        description="Synthesise TEXT with a trained voice (--voice) or zero-shot from a 3–10 s clip (--ref).",
    )
    parser.add_argument("text", nargs="?", help="what to say ('-' or nothing: read standard input)")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--voice", help="a voice in the studio's voices/ folder")
    who.add_argument("--ref", type=Path, help="reference clip (3–10 s, mono, ≥ 16 kHz) for zero-shot")
    parser.add_argument("--ref-text", help="the exact words spoken in --ref")
    parser.add_argument(
        "--ref-lang", choices=("zh", "en", "auto"), default="auto", help="language of --ref-text"
    )
    parser.add_argument(
        "--lang", choices=("zh", "en", "auto"), help="language of TEXT (default: the voice's)"
    )
    parser.add_argument("-o", "--out", type=Path, help="output WAV (default: say.wav, or none with --play)")
    parser.add_argument(
        "--play",
        action="store_true",
        help="play while synthesising (sentence by sentence); with no output device the audio goes to "
        "voices/NAME/speak/ and the commands to hear it elsewhere are printed",
    )
    parser.add_argument(
        "--output-device", help="output device index or name for --play (default: the default)"
    )
    parser.add_argument("--seed", type=int, help="random seed for reproducible output")
    parser.add_argument("--top-k", type=int, default=15, help="sample among the k likeliest tokens (15)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass, (0, 1] (1)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (1)")
    parser.add_argument(
        "--repetition-penalty", type=float, default=1.35, help="penalty on repeated tokens (1.35)"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.25–4 (1)")
    parser.add_argument("--noise-scale", type=float, default=0.5, help="voice variation, >= 0 (0.5)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds of silence between sentences")
    parser.add_argument(
        "--split", default="punctuation", help="sentence split method (see `timbre phonemes`)"
    )
    parser.add_argument("--max-steps", type=int, help="cap on semantic tokens per sentence (default 1500)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: cuda when a GPU is usable)")
    parser.add_argument(
        "--precision",
        choices=PRECISION_CHOICES,
        help="how the GPT and SoVITS compute (default auto: fp16 on a GPU, the int8/bf16 fast path on a "
        "CPU with bf16 instructions, else fp32; fp32 = the reference's exact numerics; also "
        "$TIMBRE_PRECISION)",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="CPU only: faster GPT decoding with int8 weights (output differs slightly from fp32)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads for torch (default: $TIMBRE_THREADS, else torch's choice; 1 is often "
        "fastest on a busy machine)",
    )
    parser.add_argument(
        "--chunk-tokens",
        type=_chunk_tokens,
        metavar="N",
        help="stream each sentence in parts of N semantic tokens (16–32 is good; first audio sooner); "
        f"0 = whole sentences (default: {PLAY_CHUNK_TOKENS} with --play, whole sentences otherwise)",
    )
    parser.set_defaults(func=run)


def _chunk_tokens(value: str) -> int:
    """argparse type of --chunk-tokens: 0 (whole sentences) or a whole number of at least 4."""
    n = int(value)
    if n != 0 and n < 4:
        raise argparse.ArgumentTypeError("must be 0 (whole sentences) or at least 4")
    return n


def _stream_parts(args: argparse.Namespace) -> int | None:
    """The chunk_tokens to stream with: --chunk-tokens, else parts when playing, whole sentences otherwise."""
    if args.chunk_tokens is None:
        return PLAY_CHUNK_TOKENS if args.play else None
    return args.chunk_tokens or None


def run(args: argparse.Namespace) -> int:
    """Synthesise and write the WAV, reporting progress on stderr."""
    from engine.errors import TimbreError
    from engine.text.input_text import prepare_text
    from tui.commands.phonemes import read_text

    # valid UTF-8, terminal escape sequences removed, within the length limit (issue 13)
    text = prepare_text(read_text(args.text))
    if args.ref_text is not None:
        args.ref_text = prepare_text(args.ref_text, what="--ref-text")
    if args.ref is not None and not (args.ref_text or "").strip():
        raise TimbreError(
            "--ref needs --ref-text: the exact words spoken in the clip.", 'Add --ref-text "…".'
        )
    try:
        from engine.synth import SynthParams
    except ImportError as exc:  # pragma: no cover - broken install
        raise TimbreError(f"The synthesis engine cannot be imported: {exc}") from exc
    try:
        params = SynthParams(
            top_k=args.top_k,
            top_p=args.top_p,
            temperature=args.temperature,
            repetition_penalty=args.repetition_penalty,
            speed=args.speed,
            noise_scale=args.noise_scale,
            seed=args.seed,
            pause_s=args.pause,
            language=args.lang,
            split_method=args.split,
            max_steps=args.max_steps,
        )
    except ValueError as exc:
        raise TimbreError(f"Bad setting: {exc}.", "See `timbre say --help`.") from exc
    return _speak(args, text, params)


def _speak(args: argparse.Namespace, text: str, params) -> int:
    import numpy as np

    from engine.audio.watermark import write_synthetic_wav
    from engine.synth import SAMPLE_RATE, Synthesizer, check_text, check_transcript
    from engine.usage_log import record_voice_use
    from engine.voice import Voice

    if args.voice:
        voice = Voice.load(args.voice, args.home)
    else:
        voice = Voice.zero_shot(args.ref, args.ref_text, args.ref_lang)
    check_transcript(voice)  # the quick checks come before the slow model loading
    check_text(text, params.language or voice.language, params.split_method)
    if args.out is None and not args.play:
        args.out = Path("say.wav")
    if args.out is not None:
        _check_writable(args.out)
    started = time.perf_counter()
    synth = Synthesizer(
        voice, device=args.device, precision=args.precision, int8=args.int8, threads=args.threads
    )
    loaded = time.perf_counter()
    where = str(synth.models.device)
    if synth.models.device.type == "cpu":
        import torch

        n = torch.get_num_threads()
        where += f", {n} thread{'s' if n != 1 else ''}"
    where += f", {synth.models.precision}" + (", int8 decode" if args.int8 else "")
    print(f"models loaded in {loaded - started:.1f} s ({where})", file=sys.stderr)
    if synth.models.device.type == "cpu" and args.threads is None:
        from engine.models.runtime import busy_cpu_tip

        tip = busy_cpu_tip()
        if tip:
            print(tip, file=sys.stderr)
    if args.play:
        return _play(args, synth, voice, text, params, loaded)
    chunks = []
    first = None
    for chunk in synth.stream(text, params, chunk_tokens=_stream_parts(args)):
        first = first if first is not None else time.perf_counter() - loaded
        chunks.append(chunk.audio)
        print(
            f"  [{chunk.index + 1}] {chunk.text.lstrip('。.')}  ({len(chunk.audio) / SAMPLE_RATE:.1f} s)",
            file=sys.stderr,
        )
    audio = np.concatenate(chunks)
    try:
        write_synthetic_wav(args.out, audio, SAMPLE_RATE)  # issue 14: LIST/INFO "synthetic, by Timbre"
    except OSError as exc:
        from engine.errors import TimbreError

        raise TimbreError(f"Cannot write {args.out}: {exc.strerror or exc}.", "Choose another -o.") from exc
    record_voice_use(voice, text, args.out)  # issue 14: local usage log (no text, no audio)
    spent = time.perf_counter() - loaded
    seconds = len(audio) / SAMPLE_RATE
    print(
        f"wrote {args.out} ({seconds:.1f} s of audio in {spent:.1f} s, RTF {spent / max(seconds, 1e-9):.2f}, "
        f"first audio after {first:.2f} s)",
        file=sys.stderr,
    )
    return 0


def _output_device(spec: str | None):
    """The --output-device as an index (None: the default)."""
    if spec is None:
        return None
    from engine.audio.stream_player import list_output_devices
    from engine.errors import AudioError

    devices = list_output_devices()
    if spec.isdigit():
        return int(spec)
    matches = [d for d in devices if spec.lower() in d.name.lower()]
    if len(matches) != 1:
        listing = "; ".join(d.label() for d in devices) or "none"
        raise AudioError(f"No single output device matches {spec!r}.", f"Output devices: {listing}.")
    return matches[0].index


def _play(args: argparse.Namespace, synth, voice, text: str, params, loaded: float) -> int:
    """Stream the speech to the output device (or a file when there is none); -o also writes it."""
    from engine.audio.playback import remote_commands
    from engine.audio.watermark import write_synthetic_wav
    from engine.studio import Studio
    from engine.synth import SAMPLE_RATE
    from engine.usage_log import record_voice_use
    from engine.utterance import speak
    from engine.voice import speak_dir

    device = _output_device(args.output_device)

    def progress(utt, chunk) -> None:
        audio = getattr(chunk, "audio", chunk)
        label = getattr(chunk, "text", "").lstrip("。.")
        print(f"  [{utt.pieces}] {label}  ({len(audio) / SAMPLE_RATE:.1f} s)", file=sys.stderr)

    out_dir = speak_dir(voice, Studio.locate(args.home))
    utt = speak(
        synth.stream(text, params, chunk_tokens=_stream_parts(args)), text, voice=voice.name,
        output=device, out_dir=out_dir, on_piece=progress, started=loaded,
    )  # fmt: skip
    if args.out is not None:
        write_synthetic_wav(args.out, utt.audio, SAMPLE_RATE)  # issue 14: LIST/INFO metadata
        print(f"wrote {args.out}", file=sys.stderr)
    record_voice_use(voice, text, args.out or (None if utt.played else utt.path))  # issue 14: usage log
    if utt.played:
        print(f"played ({utt.stats()})", file=sys.stderr)
    elif utt.path is not None:
        print(f"{utt.note or 'no output device'}: wrote {utt.path} ({utt.stats()})", file=sys.stderr)
        print("to hear it on your own computer:", file=sys.stderr)
        for line in remote_commands(utt.path):
            print(f"  {line}", file=sys.stderr)
    return 0


def _check_writable(out: Path) -> None:
    """Fail now, not after synthesis, when ``out`` cannot be written."""
    import os

    from engine.errors import TimbreError

    folder = out.parent if str(out.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TimbreError(f"Cannot create {folder}: {exc.strerror}.", "Choose another -o.") from exc
    if out.is_dir() or not os.access(folder, os.W_OK):
        raise TimbreError(f"Cannot write {out}.", "Choose a writable file path with -o.")
