"""Importing one long recording with its transcript lines: one take per line, cut at the likeliest ends of
sentences (pauses, and each line's length from its phone count), with a confidence; a clear fallback."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from quality_audio import run

from engine.audio.importer import import_files, line_weights
from engine.audio.slicer import AlignmentFailed, Envelope, align_lines
from engine.session import Session
from engine.studio import Studio
from tui.cli import main as cli_main

RATE = 32000
# 16 sentences of very different lengths, several with commas (espeak-ng pauses ~0.18 s there)
LINES = [
    "The morning light came through the window and woke me up early.",
    "Could you pass me the book that is lying on the kitchen table?",
    "We usually go for a short walk by the river after dinner.",
    "Yes.",
    "My brother bought a new bicycle, and he rides it to work every day.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
    "It was late.",
    "The rainbow is a division of white light into many beautiful colors.",
    "These take the shape of a long round arch, with its path high above, and two ends beyond the horizon.",
    "There is, according to legend, a boiling pot of gold at one end.",
    "People look, but no one ever finds it.",
    "Thank you very much.",
    "When a man looks for something beyond his reach, his friends say he is looking for the pot of gold.",
    "Throughout the centuries people have explained the rainbow in various ways.",
    "Some have accepted it as a miracle without physical explanation.",
    "Hello there, my friend.",
]


def reading(folder, lines, voice="en-us", seed=0, gaps=(0.25, 0.6)):
    """espeak-ng reads each line; the lines are joined by pauses of 0.25–0.6 s. Returns the file and
    the (start, end) seconds of each line's speech."""
    rng = np.random.default_rng(seed)
    parts, truth, t = [np.zeros(RATE // 2, np.float32)], [], 0.5
    for i, line in enumerate(lines):
        raw, wav = folder / f"l{i}_raw.wav", folder / f"l{i}.wav"
        run("espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), line)
        run("sox", str(raw), "-r", str(RATE), str(wav), "gain", "-3")
        x, _ = sf.read(str(wav), dtype="float32")
        voiced = np.flatnonzero(np.abs(x) > 1e-3)
        x = x[voiced[0] : voiced[-1] + 1]
        truth.append((t, t + x.size / RATE))
        gap = np.zeros(int(rng.uniform(*gaps) * RATE), np.float32)
        parts += [x, gap]
        t += (x.size + gap.size) / RATE
    y = np.concatenate(parts) + rng.normal(0, 1e-3, sum(p.size for p in parts)).astype(np.float32)
    path = folder / f"reading_{voice}_{seed}.wav"
    sf.write(str(path), y, RATE, subtype="PCM_16")
    return path, truth


def landed(cuts, truth):
    """Per line: its take holds all of its speech and none of its neighbours'."""
    out = []
    for i, ((a, b), (s, e)) in enumerate(zip(cuts, truth, strict=True)):
        prev_end = truth[i - 1][1] if i else -1.0
        next_start = truth[i + 1][0] if i + 1 < len(truth) else 1e9
        out.append(a <= s + 0.02 and b >= e - 0.02 and a >= prev_end - 0.02 and b <= next_start + 0.02)
    return out


@pytest.fixture
def session(tmp_path):
    return Session.create(Studio(tmp_path / "studio"), "en", [], device=None, samplerate=0, script_name="i")


@pytest.mark.parametrize(("voice", "seed"), [("en-us", 0), ("en-gb+f3", 1)])
def test_long_reading_lands_each_line_on_its_take(tmp_path, session, voice, seed):
    path, truth = reading(tmp_path, LINES, voice, seed)
    transcript = tmp_path / "lines.txt"
    transcript.write_text("\n".join(LINES) + "\n")
    result = import_files(session, [path], transcripts=transcript)
    assert not result.errors
    imported = result.files[0]
    assert imported.alignment is not None and len(imported.take_ids) == len(LINES)
    right = landed(imported.cuts, truth)
    assert sum(right) >= 0.9 * len(LINES), [i for i, ok in enumerate(right) if not ok]
    assert [t.text for t in session.takes] == LINES
    note = result.notes[0]
    assert "one per transcript line" in note and "confidence" in note and "least sure" in note
    assert np.mean(imported.alignment.confidence) >= 0.5
    # the default slicer joins short sentences into 2-12 s takes: the old count check gave up
    assert len(import_files(session, [path]).take_ids) != len(LINES)


def test_mandarin_reading(tmp_path, tmp_path_factory):
    zh = [
        "今天早上我六点就醒了，窗外的小鸟一直在叫。",
        "请帮我把桌子上的那本书递过来，谢谢你。",
        "好的。",
        "周末我们打算去海边走走，顺便吃点新鲜的鱼。",
        "这家小饭馆的红烧肉特别好吃，价格也不贵。",
        "你好。",
        "我每天骑自行车上班，路上大概要二十分钟。",
        "明天可能会下雨，出门记得带伞。",
        "他说话的声音很小，我几乎听不清楚。",
        "谢谢大家。",
        "图书馆周一到周五开放，周末休息。",
        "我们明年春天想去南方旅行，看看那里的花。",
    ]
    path, truth = reading(tmp_path, zh, "cmn-latn-pinyin", 2)
    x, sr = sf.read(str(path), dtype="float32")
    env = Envelope(sr)
    env.add(x)
    alignment = align_lines(env.levels_db(), line_weights(zh, "zh"))
    assert sum(landed(alignment.spans, truth)) >= 0.9 * len(zh)


def test_lines_that_cannot_fit_fall_back_with_a_clear_message(tmp_path, session, capsys):
    path, _ = reading(tmp_path, LINES[:12], "en-us", 3)
    many = tmp_path / "many.txt"  # 40 lines for 12 sentences: far too few pauses
    many.write_text("\n".join(LINES * 2 + LINES[:8]) + "\n")
    result = import_files(session, [path], transcripts=many)
    assert result.files[0].alignment is None and result.take_ids
    note = next(n for n in result.notes if "could not be matched" in n)
    assert "40 transcript lines" in note and "cut at pauses" in note and "without text" in note
    assert all(t.text == "" for t in session.takes)
    few = tmp_path / "few.txt"  # two short lines for 40 s of speech
    few.write_text("Yes.\nNo.\n")
    home = str(tmp_path / "home")
    code = cli_main(["--home", home, "import", str(path), "--transcripts", str(few), "--no-check"])
    out = capsys.readouterr().out
    assert code == 0 and "could not be matched" in out and "too long for 2 lines" in out


def test_align_lines_on_generated_levels():
    """Three 'sentences' of 1, 2 and 3 s with a 0.2 s pause inside the last; pauses of 0.4 s between."""
    hop = 0.01
    loud, quiet = np.full(1, -20.0), np.full(1, -80.0)

    def run_of(level, seconds):
        return np.repeat(level, int(round(seconds / hop)))

    levels = np.concatenate(
        [run_of(quiet, 0.3), run_of(loud, 1.0), run_of(quiet, 0.4), run_of(loud, 2.0), run_of(quiet, 0.4)]
        + [run_of(loud, 1.4), run_of(quiet, 0.2), run_of(loud, 1.4), run_of(quiet, 0.3)]
    )
    alignment = align_lines(levels, [10, 20, 30])
    starts = [round(a, 2) for a, _ in alignment.spans]
    assert starts == [0.1, 1.5, 3.9]  # each line starts 0.2 s before its speech
    assert min(alignment.confidence) > 0.8 and alignment.seconds_per_phone == pytest.approx(0.1, rel=0.05)
    with pytest.raises(AlignmentFailed, match="fewer than"):
        align_lines(levels, [1] * 6)
