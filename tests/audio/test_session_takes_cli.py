"""``timbre takes list|accept|reject``: making a session ready for training without the screen."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.audio.recorder import TakeResult
from engine.session import Session
from engine.studio import Studio
from tui.cli import main

RATE = 16000


@pytest.fixture
def session(tmp_path) -> Session:
    """Five prompts: 0001 and 0002 recorded, 0003 cut short by a quit, 0004 and 0005 pending."""
    studio = Studio(tmp_path / "studio")
    session = Session.create(
        studio,
        "en",
        ["A.", "B.", "C.", "D.", "E."],
        device=None,
        samplerate=RATE,
        script_name="t",
        session_id="s",
    )
    rng = np.random.default_rng(1)
    for index in range(3):
        x = np.concatenate([np.zeros(RATE // 2), 0.2 * rng.normal(size=RATE * 2), np.zeros(RATE // 2)])
        path = session.take_path(index)
        sf.write(path, x.astype(np.float32), RATE, subtype="PCM_16")
        result = TakeResult(path, len(x) / RATE, len(x), RATE, 0, 0, -6.0)
        session.record_result(index, result, interrupted="quit" if index == 2 else None)
    return session


def _run(session: Session, *argv: str) -> int:
    return main(["--home", str(session.dir.parent.parent), "takes", *argv])


def test_list_names_every_take_left_out(session, capsys):
    assert _run(session, "list", "s") == 0
    out = capsys.readouterr().out
    assert "0003  ◐ cut short" in out and "0001  ◆ to review" in out and "0004  ○ to record" in out
    assert "Training uses accepted takes only: 0 takes" in out
    assert "0001, 0002: not reviewed: accept it to train on it" in out
    assert "0003: cut short (Timbre was closed during the take)" in out
    assert "0004, 0005: not recorded yet" in out


def test_accept_all_leaves_takes_cut_short_until_named(session, capsys):
    assert _run(session, "accept", "s", "all") == 0
    out = capsys.readouterr().out
    assert "Accepted 2 takes: 0001, 0002." in out
    assert "0003 not accepted: it was cut short" in out
    stored = Session.load(Studio(session.dir.parent.parent), "s")
    assert [t.status for t in stored.takes] == ["accepted", "accepted", "recorded", "pending", "pending"]
    assert (stored.dir / "metadata.csv").read_text() == "0001|A.\n0002|B.\n"
    assert _run(session, "accept", "s", "3") == 0  # by id: accepted as it is
    assert "Training uses accepted takes only: 3 takes" in capsys.readouterr().out
    assert Session.load(Studio(session.dir.parent.parent), "s").takes[2].interrupted is None


def test_reject_and_errors(session, capsys):
    assert _run(session, "reject", "s", "0002") == 0
    assert Session.load(Studio(session.dir.parent.parent), "s").takes[1].status == "rejected"
    assert "Rejected 1 take: 0002." in capsys.readouterr().out
    assert _run(session, "accept", "s", "0004") == 1  # nothing recorded: said, and the exit status shows it
    assert "0004: Take 0004 has no recording yet" in capsys.readouterr().out
    assert _run(session, "accept", "s", "9") == 2
    assert "has no take 9" in capsys.readouterr().err
    assert _run(session, "accept", "s") == 2
    assert "Say which takes to accept" in capsys.readouterr().err
    assert _run(session, "list", "nope") == 2
    assert _run(session, "list", str(session.dir)) == 0  # a session folder works too
