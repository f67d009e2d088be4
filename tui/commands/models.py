"""``timbre models status|download|export|import|make-tiny``: pretrained files and official exports."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "models",
        help="show, download or export model weights",
        description="Pretrained GPT-SoVITS v2 files (Hugging Face lj1995/GPT-SoVITS) and voice exports.",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    status = actions.add_parser("status", help="show which pretrained files are present and where")
    status.set_defaults(func=run_status)
    download = actions.add_parser(
        "download",
        help="download the pretrained files (about 2 GB; resumes, verifies sha256)",
        description="Download from Hugging Face into its cache, or into --to DIR (for TIMBRE_PRETRAINED).",
    )
    download.add_argument(
        "parts", nargs="*", help="parts to fetch (gpt, sovits, sovits-d, hubert, bert); default all"
    )
    download.add_argument(
        "--to", type=Path, help="a folder laid out like the HF repo instead of the HF cache"
    )
    download.add_argument("--with-discriminator", action="store_true", help="also fetch s2D (fine-tuning)")
    download.set_defaults(func=run_download)
    export = actions.add_parser(
        "export",
        help="write a voice's weights in the official formats (.ckpt + .pth for the GPT-SoVITS WebUI)",
    )
    export.add_argument("--voice", required=True, help="voice name")
    export.add_argument("-o", "--out", type=Path, help="output folder (default: voices/NAME/export)")
    export.set_defaults(func=run_export)
    imp = actions.add_parser(
        "import",
        help="make a voice from official GPT-SoVITS v2 weights (.ckpt + .pth, e.g. trained in the WebUI)",
    )
    imp.add_argument("--voice", required=True, help="name of the new voice")
    imp.add_argument("--gpt", type=Path, required=True, help="the GPT weights (.ckpt)")
    imp.add_argument("--sovits", type=Path, required=True, help="the SoVITS weights (.pth)")
    imp.add_argument("--ref", type=Path, required=True, help="a 3–10 s reference clip of the voice")
    imp.add_argument("--ref-text", required=True, help="the exact words spoken in --ref")
    imp.add_argument("--lang", choices=("zh", "en", "auto"), default="auto", help="language of the voice")
    imp.set_defaults(func=run_import)
    tiny = actions.add_parser(
        "make-tiny",
        help="write TINY random-weight pretrained files (for trying Timbre with no download)",
        description="Write TINY-config HuBERT, BERT, GPT, SoVITS G and D in the official layout; "
        "then set TIMBRE_PRETRAINED=DIR. Their audio is noise: for tests and trying the tools only.",
    )
    tiny.add_argument("dir", type=Path, help="the folder to write (created if missing)")
    tiny.add_argument("--seed", type=int, default=0, help="random seed of the weights (default 0)")
    tiny.set_defaults(func=run_make_tiny)
    parser.set_defaults(func=run_status)


def _size(n: int | None) -> str:
    return f"~{n / 1e6:,.0f} MB" if n else "?"


def run_status(args: argparse.Namespace) -> int:
    """Print each pretrained part with where it was found."""
    from engine.weights.locate import DOWNLOAD_HINT, PRETRAINED_ENV, local_root, status
    from engine.weights.registry import REPO_ID, part

    root = local_root()
    print(f"Pretrained files ({REPO_ID}); {PRETRAINED_ENV}={root if root else '(not set)'}")
    missing = 0
    for found in status():
        entry = part(found.key)
        mark = "ok     " if found.path else ("absent " if entry.optional else "MISSING")
        missing += found.path is None and not entry.optional
        where = f"{found.path} ({found.source})" if found.path else _size(entry.approx_bytes)
        print(f"  {mark} {entry.key:9} {entry.title}: {where}")
    if missing:
        print(f"\n{missing} required part(s) missing. {DOWNLOAD_HINT}")
        return 1
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download (and verify) the chosen parts."""
    from engine.weights.download import download
    from engine.weights.registry import PARTS

    known = [p.key for p in PARTS]
    parts = list(args.parts) or [p.key for p in PARTS if not p.optional]
    if args.with_discriminator and "sovits-d" not in parts:
        parts.append("sovits-d")
    unknown = [p for p in parts if p not in known]
    if unknown:
        from engine.errors import ModelError

        raise ModelError(f"Unknown part(s): {', '.join(unknown)}.", f"Choose from: {', '.join(known)}.")
    if args.to is None:  # parts already in $TIMBRE_PRETRAINED need no download
        from engine.weights.locate import PRETRAINED_ENV, find

        present = [f for f in map(find, parts) if f.path and f.source == PRETRAINED_ENV]
        for found in present:
            print(f"ok  {found.path} (already in {PRETRAINED_ENV})")
        parts = [p for p in parts if p not in {f.key for f in present}]
    for path in download(parts, local_dir=args.to) if parts else []:
        print(f"ok  {path}")
    if args.to:
        print(f"\nSet TIMBRE_PRETRAINED={args.to.resolve()} to use this folder.")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export a fine-tuned voice as <name>.ckpt and <name>.pth."""
    from engine.errors import ModelError
    from engine.voice import Voice
    from engine.weights.convert import export_official

    voice = Voice.load(args.voice, args.home)
    if voice.folder is None or voice.gpt_path is None or voice.sovits_path is None:
        raise ModelError(f"The voice {voice.name!r} has no fine-tuned weights to export.", "Train it first.")
    out = args.out or voice.folder / "export"
    for path in export_official(voice.folder, out, voice.name):
        print(f"wrote {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Convert official weights into a new voice folder with its reference clip and voice.json."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from engine.errors import StudioError
    from engine.studio import Studio
    from engine.synth import check_reference
    from engine.voice import Voice
    from engine.weights.convert import import_official
    from engine.weights.load import load_gpt, load_sovits

    studio = Studio.locate(args.home).ensure()
    folder = studio.voice_dir(args.voice)
    if (folder / "voice.json").exists():
        raise StudioError(f"A voice called {folder.name!r} already exists.", "Choose another --voice name.")
    check_reference(args.ref)
    # refuse files that do not load before writing anything
    load_sovits(args.sovits)
    load_gpt(args.gpt)
    # build the whole voice in a hidden folder beside it and move it into place at the end, so a failure
    # (a full disk, an interrupt) never leaves half a voice behind
    staging = Path(tempfile.mkdtemp(prefix=f".import-{folder.name}-", dir=studio.voices))
    try:
        gpt, sovits = import_official(args.gpt, args.sovits, staging)
        reference = staging / ("reference" + (args.ref.suffix or ".wav"))
        shutil.copyfile(args.ref, reference)
        voice = Voice(folder.name, reference, args.ref_text, args.lang, gpt, sovits, staging)
        voice.save()
        if folder.exists():  # an empty or voice-less leftover folder of that name
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    print(f"voice {folder.name!r} created in {folder} (voice.json)")
    return 0


def run_make_tiny(args: argparse.Namespace) -> int:
    """Write the TINY pretrained folder and say how to use it."""
    from engine.weights.locate import PRETRAINED_ENV
    from engine.weights.tiny import make_tiny

    folder = make_tiny(args.dir, seed=args.seed).resolve()
    print(f"wrote TINY pretrained files to {folder}")
    print(f"Set {PRETRAINED_ENV}={folder} to use them (random weights: the audio is noise).")
    return 0
