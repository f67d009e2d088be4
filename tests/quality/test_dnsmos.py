"""DNSMOS (P.835 SIG/BAK/OVRL from the speechmos wheel): calibrated order, same numbers as the reference
scorer, shown in reports, ranking reference takes, and never loaded on the TUI's start-up path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from quality_audio import run

from engine.audio import dnsmos
from engine.audio.io import read_audio, resample
from engine.audio.quality import analyse_file, rank_reference_takes, rank_references

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scores(voices, tmp_path_factory):
    """DNSMOS of clean espeak-ng speech, with white noise at 20/10/5 dB, and clipped (+12 and +30 dB)."""
    d = tmp_path_factory.mktemp("dnsmos")
    heavy = d / "clipped30.wav"
    run("sox", str(voices["clean"]), str(heavy), "gain", "30")  # about 26 % of samples at the rail
    paths = {name: voices[name] for name in ("clean", "noisy20", "noisy10", "noisy5", "clipped")}
    paths["clipped30"] = heavy
    table = {name: dnsmos.score_file(p) for name, p in paths.items()}
    print("\nDNSMOS calibration (espeak-ng en-us):  SIG   BAK   OVRL")
    for name, s in table.items():
        print(f"  {name:<12} {s.sig:5.2f} {s.bak:5.2f} {s.ovrl:5.2f}")
    return SimpleNamespace(table=table, paths=paths)


def test_scores_fall_with_noise_and_heavy_clipping(scores):
    t = scores.table
    assert t["clean"].ovrl > t["noisy20"].ovrl > t["noisy10"].ovrl > t["noisy5"].ovrl
    assert t["clean"].bak > t["noisy20"].bak > t["noisy10"].bak > t["noisy5"].bak
    assert t["clean"].ovrl - t["noisy10"].ovrl > 0.5 and t["clean"].bak > 3.8  # a clear margin
    assert t["clipped30"].ovrl < t["clean"].ovrl - 0.3 and t["clipped30"].sig < t["clean"].sig - 0.2
    assert t["clipped"].ovrl < t["clean"].ovrl  # mild clipping barely shows: the rule check stays
    for s in t.values():
        assert 1.0 <= min(s.sig, s.bak, s.ovrl) and max(s.sig, s.bak, s.ovrl) <= 5.0


def test_same_numbers_as_the_reference_scorer(voices):
    """speechmos.dnsmos.run on a 16 kHz clip the reference scores in the same windows (5.4 s: two)."""
    from speechmos import dnsmos as reference  # imports librosa: fine here, never in the app

    audio = read_audio(voices["clean2"])
    x = np.clip(resample(audio.samples, audio.samplerate, dnsmos.RATE), -1, 1)[: int(5.4 * dnsmos.RATE)]
    ours = dnsmos.score(x, dnsmos.RATE)
    theirs = reference.run(x, dnsmos.RATE)
    assert ours.sig == pytest.approx(theirs["sig_mos"], abs=1e-4)
    assert ours.bak == pytest.approx(theirs["bak_mos"], abs=1e-4)
    assert ours.ovrl == pytest.approx(theirs["ovrl_mos"], abs=1e-4)


def test_report_shows_the_score_in_words(scores):
    report = analyse_file(scores.paths["noisy10"])
    check = report.get("dnsmos")
    assert check.verdict == "ok" and check.label == "Listening score"
    assert check.figure.startswith(f"{report.dnsmos['ovrl']:.1f} of 5 (")
    assert "1 bad to 5 excellent" in check.advice and "Background noise is what lowers it" in check.advice
    assert report.to_dict()["dnsmos"] == dnsmos.score_file(scores.paths["noisy10"]).to_dict()
    assert analyse_file(scores.paths["clean"], learned=False).get("dnsmos") is None

    from tui.screens.review import report_text

    take = SimpleNamespace(
        id="0001", status="recorded", seconds=8.0, speech_seconds=None, text="x", quality=report.to_dict()
    )
    shown = report_text(take).plain
    assert "Listening score: " in shown and "voice " in shown and "background " in shown


def test_reference_ranking(scores):
    p = scores.paths
    ranked = rank_reference_takes([p["noisy5"], p["clipped"], p["noisy20"], p["clean"], p["noisy10"]])
    order = [r.path for r in ranked]
    assert order[0] == p["clean"]  # best listening score and every check passes
    assert order.index(p["noisy20"]) < order.index(p["noisy10"]) < order.index(p["noisy5"])
    assert order.index(p["clipped"]) > order.index(p["noisy20"])  # its failed clipping check counts
    assert "clipping fails" in next(r.reason for r in ranked if r.path == p["clipped"])
    assert rank_references([str(p["noisy10"]), str(p["clean"])]) == [p["clean"], p["noisy10"]]


def test_check_json_and_session_lines(voices, tmp_path, capsys):
    import shutil

    from engine.session import Session
    from engine.studio import Studio
    from tui.cli import main as cli_main

    home = tmp_path / "home"
    session = Session.create(Studio(home), "en", ["a"], device=None, samplerate=32000, script_name="t")
    shutil.copy(voices["clean"], session.take_path(0))
    session.takes[0].status = "recorded"
    session.save()
    assert cli_main(["--home", str(home), "check", session.id, "--json"]) == 1  # 8 s of the 60 s goal
    data = json.loads(capsys.readouterr().out)
    assert set(data[0]["takes"][0]["dnsmos"]) == {"sig", "bak", "ovrl"}
    assert cli_main(["--home", str(home), "check", session.id]) == 1
    out = capsys.readouterr().out
    assert "listening 3." in out and "1 bad to 5 excellent" not in out  # one figure per take line


def test_the_model_loads_only_when_a_score_is_asked_for():
    code = (
        "import sys, engine.audio.quality, engine.audio.dnsmos, tui.commands.check, tui.screens.review\n"
        "print(sorted(m for m in ('onnxruntime', 'librosa', 'speechmos', 'torch') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"
    assert dnsmos.available()
