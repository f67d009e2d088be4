"""Finding, describing and downloading the pretrained files (no network: HF_HUB_OFFLINE is set)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import huggingface_hub
import pytest

from engine.errors import ModelError
from engine.weights import download as dl
from engine.weights import locate, registry
from tui.cli import main

REVISION = "0123456789abcdef0123456789abcdef01234567"


def _fill(root: Path, parts=("gpt", "sovits", "sovits-d", "hubert", "bert")) -> Path:
    """Put placeholder files for ``parts`` in ``root``, laid out like the HF repo."""
    for key in parts:
        for f in registry.part(key).files:
            path = root / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    return root


def _hf_cache(cache: Path, parts) -> Path:
    repo = cache / "models--lj1995--GPT-SoVITS"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(REVISION)
    _fill(repo / "snapshots" / REVISION, parts)
    return cache


def test_registry_names_the_official_v2_files():
    paths = {f.path for p in registry.PARTS for f in p.files}
    assert "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt" in paths
    assert {"gsv-v2final-pretrained/s2G2333k.pth", "gsv-v2final-pretrained/s2D2333k.pth"} <= paths
    assert "chinese-hubert-base/pytorch_model.bin" in paths
    assert "chinese-roberta-wwm-ext-large/tokenizer.json" in paths
    assert registry.part("gpt").files[0].sha256.startswith("732f94e6")
    assert registry.part("sovits-d").optional and not registry.part("bert").optional
    with pytest.raises(KeyError):
        registry.part("nope")


def test_missing_files_give_one_error_naming_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(tmp_path / "empty"))
    with pytest.raises(locate.PretrainedMissingError) as info:
        locate.locate(cache_dir=str(tmp_path / "no-cache"))
    err = info.value
    assert "timbre models download" in err.hint and "TIMBRE_PRETRAINED" in err.hint
    for title in ("GPT", "SoVITS generator", "chinese-hubert-base", "chinese-roberta"):
        assert title in err.message


def test_a_local_folder_laid_out_like_the_repo_is_found(tmp_path, monkeypatch):
    root = _fill(tmp_path / "pre", ("gpt", "sovits", "hubert", "bert"))
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(root))
    paths = locate.locate(cache_dir=str(tmp_path / "no-cache"))
    assert paths.gpt == root / registry.part("gpt").files[0].path
    assert (
        paths.hubert == root / "chinese-hubert-base" and paths.bert == root / "chinese-roberta-wwm-ext-large"
    )
    found = {f.key: f for f in locate.status(cache_dir=str(tmp_path / "no-cache"))}
    assert found["sovits-d"].path is None and found["gpt"].source == locate.PRETRAINED_ENV
    # a transformers folder missing its weights does not count
    (root / "chinese-hubert-base" / "pytorch_model.bin").unlink()
    assert locate.find("hubert", cache_dir=str(tmp_path / "no-cache")).path is None
    (root / "chinese-hubert-base" / "model.safetensors").write_bytes(b"x")
    assert locate.find("hubert", cache_dir=str(tmp_path / "no-cache")).path is not None


def test_files_in_the_huggingface_cache_are_found(tmp_path, monkeypatch):
    monkeypatch.delenv(locate.PRETRAINED_ENV, raising=False)
    cache = _hf_cache(tmp_path / "hub", ("gpt", "sovits", "hubert", "bert"))
    paths = locate.locate(cache_dir=str(cache))
    snap = cache / "models--lj1995--GPT-SoVITS" / "snapshots" / REVISION
    assert paths.sovits == snap / "gsv-v2final-pretrained" / "s2G2333k.pth"
    assert paths.bert == snap / "chinese-roberta-wwm-ext-large"
    assert locate.find("gpt", cache_dir=str(cache)).source == "huggingface cache"
    with pytest.raises(locate.PretrainedMissingError, match="discriminator"):
        locate.locate(("sovits-d",), cache_dir=str(cache))


def test_download_verifies_sha256_and_reports_offline(tmp_path, monkeypatch):
    good = tmp_path / "file.bin"
    good.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    dl.verify(good, digest)
    dl.verify(good, None)
    with pytest.raises(ModelError, match="damaged"):
        dl.verify(good, "0" * 64)
    # offline (HF_HUB_OFFLINE=1 in the tests): a clear error naming the command
    with pytest.raises(ModelError, match="no connection") as info:
        dl.download(["hubert"], cache_dir=str(tmp_path / "cache"), progress=False)
    assert "timbre models download" in info.value.hint

    fetched = []

    def fake_download(repo_id, filename, **kwargs):
        fetched.append((repo_id, filename, kwargs.get("local_dir")))
        target = Path(kwargs["local_dir"]) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not the real file")
        return str(target)

    server = {}  # what the (fake) server reports as each file's LFS sha256

    def fake_metadata(url, **kwargs):
        name = next((k for k in server if url.endswith(k)), None)
        if name is None:
            raise OSError("no metadata")
        return huggingface_hub.HfFileMetadata(commit_hash=None, etag=f'"{server[name]}"', location=url,
                                              size=None, xet_file_data=None)  # fmt: skip

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", fake_metadata)
    fake_sha = hashlib.sha256(b"not the real file").hexdigest()
    server["pytorch_model.bin"] = fake_sha
    paths = dl.download(["hubert"], local_dir=tmp_path / "pre", progress=False)
    assert [p.name for p in paths] == ["config.json", "preprocessor_config.json", "pytorch_model.bin"]
    assert all(r == registry.REPO_ID and d == tmp_path / "pre" for r, _, d in fetched)
    server["pytorch_model.bin"] = "f" * 64  # the server's hash wins, and this content does not match it
    with pytest.raises(ModelError, match="damaged"):
        dl.download(["hubert"], local_dir=tmp_path / "pre", progress=False)
    with pytest.raises(ModelError, match="damaged"):  # no server hash: the registry's known sha256 is used
        dl.download(["gpt"], local_dir=tmp_path / "pre", progress=False)


def test_models_status_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(tmp_path / "nothing"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "no-cache"))
    assert main(["models", "status"]) == 1
    out = capsys.readouterr().out
    assert "MISSING" in out and "timbre models download" in out
    _fill(tmp_path / "nothing", ("gpt", "sovits", "hubert", "bert"))
    assert main(["models", "status"]) == 0
    assert "MISSING" not in capsys.readouterr().out
    assert main(["models", "download", "nonsense"]) == 2
    assert "Unknown part" in capsys.readouterr().err


def test_models_download_skips_parts_already_in_the_pretrained_folder(tmp_path, monkeypatch, capsys):
    root = _fill(tmp_path / "pre", ("gpt", "sovits", "hubert", "bert"))
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(root))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "no-cache"))
    assert main(["models", "download"]) == 0  # offline, yet nothing needs fetching
    assert capsys.readouterr().out.count("already in TIMBRE_PRETRAINED") == 4
    assert main(["models", "download", "--with-discriminator"]) == 2  # s2D is not there: offline error
    captured = capsys.readouterr()
    assert "s2D2333k.pth" in captured.err and "no connection" in captured.err
    assert "Traceback" not in captured.err
