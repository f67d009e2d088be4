"""Damaged or hostile session.json files: a clear "damaged" error, never a traceback or a write outside."""

from __future__ import annotations

import json
import random
import unicodedata

import pytest

from engine.errors import StudioError
from engine.session import Session
from engine.studio import Studio


def _studio_with(tmp_path, takes, **fields):
    studio = Studio.locate(tmp_path / "studio").ensure()
    folder = studio.recordings / "s1"
    (folder / "takes").mkdir(parents=True)
    obj = {"format": 1, "language": "en", "samplerate": 16000, "takes": takes, **fields}
    (folder / "session.json").write_text(json.dumps(obj))
    return studio


GOOD = {"id": "0001", "text": "Hello there.", "status": "pending"}


@pytest.mark.parametrize(
    "take_id", ["../../x", "/tmp/evil", "..", "0001/../../../x", "", "a b", "１２", "0001\n", "0" * 7]
)
def test_take_ids_that_are_not_our_digits_are_refused(tmp_path, take_id):
    studio = _studio_with(tmp_path, [{**GOOD, "id": take_id}])
    with pytest.raises(StudioError, match="damaged"):
        Session.load(studio, "s1")


@pytest.mark.parametrize(
    "broken",
    [
        [{**GOOD, "text": 12}],
        [{**GOOD, "status": ["accepted"]}],
        [{**GOOD, "seconds": "long"}],
        [{**GOOD, "quality": [1, 2]}],
        [{**GOOD, "clip_count": True}],
        [GOOD, GOOD],  # the same id twice would write one file for two takes
        ["0001"],
        {"0001": GOOD},
    ],
)
def test_damaged_field_types_say_damaged(tmp_path, broken):
    studio = _studio_with(tmp_path, broken)
    with pytest.raises(StudioError, match="damaged"):
        Session.load(studio, "s1")


@pytest.mark.parametrize("top", [[1, 2, 3], "text", 42, None])
def test_a_session_file_that_is_not_an_object_says_damaged(tmp_path, top):
    studio = Studio.locate(tmp_path / "studio").ensure()
    folder = studio.recordings / "s1"
    folder.mkdir(parents=True)
    (folder / "session.json").write_text(json.dumps(top))
    with pytest.raises(StudioError, match="damaged"):
        Session.load(studio, "s1")


def test_fuzzed_session_files_load_or_say_damaged(tmp_path):
    rng = random.Random(7)
    studio = Studio.locate(tmp_path / "studio").ensure()
    folder = studio.recordings / "s1"
    (folder / "takes").mkdir(parents=True)
    takes = [{**GOOD, "id": f"{i:04d}", "seconds": 1.5, "quality": {"verdict": "ok"}} for i in range(1, 4)]
    base = {"format": 1, "language": "en", "samplerate": 16000, "takes": takes}
    values = [None, True, -1, 0, 1e308, "x", "../..", [], {}, [1], {"a": 1}]
    for _ in range(300):
        obj = json.loads(json.dumps(base))
        target = obj if rng.random() < 0.3 else rng.choice(obj["takes"])
        key = rng.choice(list(target))
        target[key] = rng.choice(values)
        (folder / "session.json").write_text(json.dumps(obj))
        try:
            session = Session.load(studio, "s1")
        except StudioError as exc:
            assert "damaged" in exc.message or "session" in exc.message
            continue
        for i in range(len(session.takes)):  # whatever loaded builds paths inside the session folder
            assert session.take_path(i).resolve().is_relative_to(folder.resolve())


def test_names_that_sanitise_alike_do_not_merge(tmp_path):
    studio = Studio.locate(tmp_path).ensure()
    Session.create(studio, "en", ["Hi."], device=None, samplerate=16000, script_name="t", session_id="a-b")
    for other in ("a b", "a/b", "a\nb"):
        with pytest.raises(StudioError, match="would be saved as 'a-b'"):
            Session.create(
                studio, "en", ["Hi."], device=None, samplerate=16000, script_name="t", session_id=other
            )
    nfd = unicodedata.normalize("NFD", "café")
    Session.create(studio, "en", ["Hi."], device=None, samplerate=16000, script_name="t", session_id="café")
    with pytest.raises(StudioError, match="already exists"):  # the same name typed in NFD form
        Session.create(studio, "en", ["Hi."], device=None, samplerate=16000, script_name="t", session_id=nfd)
    Session.create(
        studio, "en", ["Hi."], device=None, samplerate=16000, script_name="t", session_id="../../etc"
    )
    assert (studio.recordings / "etc").is_dir() and not (tmp_path.parent / "etc" / "session.json").exists()
