"""The official pretrained files Timbre uses, as laid out in the Hugging Face repo ``lj1995/GPT-SoVITS``."""

from __future__ import annotations

from dataclasses import dataclass

REPO_ID = "lj1995/GPT-SoVITS"
V2_DIR = "gsv-v2final-pretrained"


@dataclass(frozen=True)
class PretrainedFile:
    """One file of the pretrained set: its path in the repo, roughly how big it is, its sha256 if known."""

    path: str
    approx_bytes: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class PretrainedPart:
    """A named piece of the pretrained set: a single file, or a folder of files (a transformers model)."""

    key: str
    title: str
    files: tuple[PretrainedFile, ...]
    folder: str | None = None
    optional: bool = False

    @property
    def approx_bytes(self) -> int | None:
        """Sum of the known sizes (None when none is known)."""
        sizes = [f.approx_bytes for f in self.files if f.approx_bytes]
        return sum(sizes) if sizes else None


GPT_V2 = PretrainedPart(
    key="gpt",
    title="GPT (text to semantic), v2",
    files=(
        PretrainedFile(
            f"{V2_DIR}/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt",
            approx_bytes=155_000_000,
            sha256="732f94e63b148066e24c7f9d2637f3374083e637635f07fbdb695dee20ddbe1f",
        ),
    ),
)
SOVITS_G_V2 = PretrainedPart(
    key="sovits",
    title="SoVITS generator, v2",
    files=(
        PretrainedFile(
            f"{V2_DIR}/s2G2333k.pth",
            approx_bytes=106_000_000,
            # from a public mirror of the file (spec §3.1)
            sha256="924fdccaa3c574bf139c25c9759aa1ed3b3f99e19a7c529ee996c2bc17663695",
        ),
    ),
)
SOVITS_D_V2 = PretrainedPart(
    key="sovits-d",
    title="SoVITS discriminator, v2 (fine-tuning only)",
    files=(PretrainedFile(f"{V2_DIR}/s2D2333k.pth", approx_bytes=93_500_000),),
    optional=True,
)


def _hf_model(key: str, title: str, folder: str, names: tuple[str, ...]) -> PretrainedPart:
    """A transformers model folder of the repo (sizes and hashes not recorded)."""
    return PretrainedPart(key, title, tuple(PretrainedFile(f"{folder}/{n}") for n in names), folder)


HUBERT = _hf_model(
    "hubert",
    "chinese-hubert-base (SSL features)",
    "chinese-hubert-base",
    ("config.json", "preprocessor_config.json", "pytorch_model.bin"),
)
ROBERTA = _hf_model(
    "bert",
    "chinese-roberta-wwm-ext-large (Mandarin BERT features)",
    "chinese-roberta-wwm-ext-large",
    ("config.json", "pytorch_model.bin", "tokenizer.json"),
)

PARTS: tuple[PretrainedPart, ...] = (GPT_V2, SOVITS_G_V2, SOVITS_D_V2, HUBERT, ROBERTA)


def part(key: str) -> PretrainedPart:
    """The registry entry called ``key`` (KeyError if there is none)."""
    for entry in PARTS:
        if entry.key == key:
            return entry
    raise KeyError(key)
