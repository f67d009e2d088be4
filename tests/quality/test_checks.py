"""Each quality check flags exactly what it should, on generated signals and on degraded espeak-ng speech."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine.audio import analysis
from engine.audio.quality import GLYPH, TakeReport, analyse_file, analyse_samples, summarise

SR = 32000
# what each degradation must flag (check key -> allowed verdicts); every other check must be ok
EXPECTED: dict[str, dict[str, set[str]]] = {
    "clean": {},
    "clean2": {},
    "noisy5": {"snr": {"fail"}, "noise_floor": {"fail"}},
    "noisy10": {"snr": {"fail"}, "noise_floor": {"fail"}},
    "noisy20": {"snr": {"warn"}, "noise_floor": {"warn"}},
    "clipped": {"clipping": {"fail"}, "peak": {"warn"}},
    "clipped_m10": {"clipping": {"warn", "fail"}},
    "phone": {"bandwidth": {"fail"}},
    "hum50": {"hum": {"warn"}},
    "hum60": {"hum": {"warn"}},
    "dc": {"dc_offset": {"warn"}},
    "silence": {"speech": {"fail"}},
    "roomtone": {"speech": {"fail"}},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_degraded_speech_flags_exactly_what_it_should(voices, name):
    report = analyse_file(voices[name])
    flagged = {c.key: c.verdict for c in report.checks if c.verdict != "ok"}
    expected = EXPECTED[name]
    assert set(flagged) == set(expected), f"{name}: {[(c.key, c.figure) for c in report.problems]}"
    for key, verdict in flagged.items():
        assert verdict in expected[key], f"{name}: {key} is {verdict}"
    for c in report.checks:  # every check has a figure and a sentence of advice
        assert c.figure and c.advice.endswith((".", "!"))


def test_noise_at_30_db_is_at_most_a_warning(voices):
    report = analyse_file(voices["noisy30"], learned=False)
    assert report.flagged() <= {"snr", "noise_floor"}
    assert report.get("snr").verdict in {"ok", "warn"}


def test_hum_family_is_named(voices):
    assert analyse_file(voices["hum50"], learned=False).get("hum").figure.startswith("50 Hz")
    assert analyse_file(voices["hum60"], learned=False).get("hum").figure.startswith("60 Hz")


def test_clean_snr_is_shown_as_above_30(voices):
    assert analyse_file(voices["clean"], learned=False).get("snr").figure == "> 30 dB"


def tone(freq: float, seconds: float, level: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_duration_limits():
    quiet = np.zeros(int(0.3 * SR), np.float32)
    for seconds, verdict in ((0.5, "fail"), (1.5, "warn"), (5.0, "ok"), (15.0, "warn"), (25.0, "fail")):
        x = np.concatenate([quiet, tone(220, seconds - 0.6), quiet])
        assert analyse_samples(x, SR, learned=False).get("duration").verdict == verdict, seconds


def test_clipping_counts_runs_on_a_generated_signal():
    x = tone(200, 2.0, level=1.5)
    x = np.clip(x, -1.0, 1.0)
    clip = analysis.clipping(x)
    assert clip.runs >= 2 * 200 * 2 - 2 and clip.level == 1.0
    assert analysis.clipping(tone(200, 2.0, level=0.9)).runs == 0
    two = np.array([0, 1.0, 1.0, 0, 0.5, 1.0, 1.0, 1.0, 0], np.float32)
    assert analysis.clipping(two).runs == 1  # a run of 2 does not count, a run of 3 does


def test_bandwidth_of_generated_noise():
    rng = np.random.default_rng(0)
    white = rng.normal(0, 0.1, SR * 3).astype(np.float32)
    assert analysis.bandwidth_hz(white, SR)[0] == SR / 2
    from scipy.signal import butter, sosfiltfilt

    low = sosfiltfilt(butter(10, 4000, fs=SR, output="sos"), white).astype(np.float32)
    bw, depth = analysis.bandwidth_hz(low, SR)
    assert 3000 < bw < 5000 and depth >= 20


def test_dc_offset_and_levels_on_generated_signal():
    x = np.concatenate([np.zeros(SR // 2, np.float32), tone(300, 3.0, 0.1), np.zeros(SR // 2, np.float32)])
    report = analyse_samples(x + 0.01, SR, learned=False)
    assert report.get("dc_offset").verdict == "warn"
    rms = report.get("rms").value
    assert rms == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.5)
    quiet = analyse_samples(x * 0.04, SR, learned=False)  # about -51 dBFS
    assert quiet.get("rms").verdict == "fail" and quiet.get("loudness").verdict == "warn"


def test_overflows_bad_samples_and_transcript():
    x = np.concatenate([np.zeros(SR // 2, np.float32), tone(300, 3.0), np.zeros(SR // 2, np.float32)])
    report = analyse_samples(x, SR, overflow_count=2, bad_samples=5, transcript="", learned=False)
    assert report.get("overflows").verdict == "fail"
    assert report.get("samples").verdict == "warn"
    assert report.get("transcript").verdict == "warn"
    assert analyse_samples(x, SR, transcript="hello", learned=False).get("transcript").verdict == "ok"


def test_low_sample_rate_is_flagged(voices, tmp_path):
    x, sr = sf.read(str(voices["clean"]), dtype="float32")
    from engine.audio.io import resample

    for rate, verdict in ((8000, "fail"), (16000, "warn"), (44100, "ok")):
        path = tmp_path / f"r{rate}.wav"
        sf.write(str(path), resample(x, sr, rate), rate)
        report = analyse_file(path, learned=False)
        assert report.get("format").verdict == verdict
        if rate == 8000:
            assert report.get("bandwidth").verdict == "fail"


def test_report_round_trips_through_json(voices):
    report = analyse_file(voices["noisy10"], transcript="text", take_id="0001", learned=False)
    data = json.loads(json.dumps(report.to_dict()))
    again = TakeReport.from_dict(data)
    assert again.verdict == report.verdict == data["verdict"] == "fail"
    assert again.flagged() == report.flagged()
    assert report.summary().startswith(GLYPH["fail"])


def test_session_summary_puts_worst_problems_first(voices):
    rows = [
        ("0001", "a", 8.0, analyse_file(voices["clean"], learned=False)),
        ("0002", "b", 8.0, analyse_file(voices["clipped"], learned=False)),
        ("0003", "", 8.0, analyse_file(voices["hum50"], learned=False)),
        ("0004", "d", 8.0, analyse_file(voices["clean2"], learned=False)),
    ]
    summary = summarise("s", rows, has_room_tone=False)
    assert summary.usable_seconds == pytest.approx(8.0145 + 6.928, abs=0.01)  # 0002 fails, 0003 has no text
    assert summary.problems[0].key == "clipping" and summary.problems[0].verdict == "fail"
    keys = {c.key: c.verdict for c in summary.checks}
    assert keys == {"total": "fail", "transcripts": "warn", "room_tone": "warn"}


def test_edges_and_speech_ratio_on_generated_signals():
    def silence(seconds):
        return np.zeros(int(seconds * SR), np.float32)

    def verdicts(x):
        report = analyse_samples(x, SR, learned=False)
        return report.get("edges").verdict, report.get("speech").verdict

    assert verdicts(np.concatenate([silence(0.3), tone(220, 4.0), silence(0.3)])) == ("ok", "ok")
    assert verdicts(np.concatenate([tone(220, 4.0), silence(0.3)])) == ("warn", "ok")  # may start mid-word
    assert verdicts(np.concatenate([silence(0.3), tone(220, 4.0)])) == ("warn", "ok")
    assert verdicts(np.concatenate([silence(3.0), tone(220, 4.0), silence(0.3)])) == ("warn", "ok")
    assert verdicts(np.concatenate([silence(4.0), tone(220, 1.0), silence(4.0)]))[1] == "warn"  # 11 % speech
    assert verdicts(np.concatenate([silence(6.0), tone(220, 0.5), silence(6.0)]))[1] == "fail"  # 4 % speech


def test_check_session_only_new_keeps_stored_reports(voices, tmp_path, monkeypatch):
    import shutil

    from engine.audio import quality
    from engine.session import Session
    from engine.studio import Studio

    session = Session.create(Studio(tmp_path), "en", ["a", ""], device=None, samplerate=SR, script_name="t")
    for index, name in enumerate(("clean", "noisy10")):
        shutil.copy(voices[name], session.take_path(index))
        session.takes[index].status = "recorded"
    first = quality.check_session(session)
    assert [t.verdict for t in first.takes] == ["ok", "fail"]
    session.set_text(1, "now typed")
    index = session.add_take("new")
    shutil.copy(voices["clipped"], session.take_path(index))
    session.takes[index].status = "recorded"
    analysed = []
    real = quality.analyse_file
    monkeypatch.setattr(quality, "analyse_file", lambda path, **kw: analysed.append(path) or real(path, **kw))
    again = quality.check_session(session, only_new=True)
    assert analysed == [session.take_path(index)]  # only the take without a report
    assert again.takes[1].get("transcript").verdict == "ok"  # the typed text is seen
    assert again.takes[1].get("snr").verdict == "fail" and again.takes[2].get("clipping").verdict == "fail"
    assert quality.check_session(session).takes[1].flagged() == again.takes[1].flagged()
