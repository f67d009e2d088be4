"""A fresh clone passes on its own: no file reads anything outside the repository.

Two checks. The static one reads every Python file of tests/, engine/, tui/, bench/ and scripts/ and
fails on absolute paths into a developer's machine (``/work/...``, ``shared/spec``) and on
``Path(__file__)`` walks that climb above the repository root. The dynamic one copies the files a
clone would hold (``git ls-files`` of tracked plus not-ignored files) into an empty temporary folder,
with nothing beside it, and runs there every test that reads the test data: they must pass without a
single skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "engine", "tui", "bench", "scripts")
FORBIDDEN = (
    re.compile(r"""["']/work/"""),  # the development machine's own folders
    re.compile(r"""["'/]shared["']?\s*/\s*["']?spec"""),  # the team's spec folder beside the checkout
    re.compile(r"""["']shared/"""),
)
PARENTS = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent)+)\b")
DATA_REF = re.compile(r"""(\.parent|\.parents\[\d+\])\s*/\s*["']data["']|["']tests/data/""")
# the tests that open files under tests/data, run in the isolated copy (plus any file naming tests/data)
DATA_TESTS = (
    "tests/test_foundation.py",
    "tests/models/test_sovits_manifest.py",
    "tests/models/test_t2s_model.py::test_v2_state_dict_equals_manifest",
)


def clone_files() -> list[str]:
    """The repository files a clone would hold: tracked plus untracked files git does not ignore."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in out.split("\0") if name and (ROOT / name).is_file()})


def python_files() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def escapes_root(path: Path, source: str) -> list[str]:
    """The ``Path(__file__)`` walks in ``source`` that leave the repository (``path`` is the file)."""
    depth = len(path.relative_to(ROOT).parts)  # parents[depth - 1] is the root, parents[depth] is outside
    found = [m.group(0) for m in PARENTS.finditer(source) if int(m.group(1)) >= depth]
    found += [m.group(0) for m in PARENT_CHAIN.finditer(source) if m.group(1).count(".parent") > depth]
    return found


def test_no_file_reads_outside_the_repository() -> None:
    problems = []
    for path in python_files():
        if path == Path(__file__).resolve():
            continue  # this file names the patterns it looks for
        source = path.read_text(encoding="utf-8")
        for pattern in FORBIDDEN:
            problems += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in pattern.finditer(source)]
        problems += [f"{path.relative_to(ROOT)}: {walk}" for walk in escapes_root(path, source)]
    makefile = (ROOT / "Makefile").read_text()
    problems += [f"Makefile: {m.group(0)!r}" for m in FORBIDDEN[0].finditer(makefile)]
    assert problems == []


def test_the_scanner_catches_the_old_mistakes(tmp_path) -> None:
    """The patterns above do flag what the tests used to do (so the check above can fail)."""
    manifest = ROOT / "tests" / "models" / "test_sovits_manifest.py"
    # the old lines, assembled here so this file itself holds no path that leaves the repository
    shared, work = "sha" + "red", "/wo" + "rk"
    old = f'MANIFEST = Path(__file__).resolve().parents[3] / "{shared}" / "spec" / "manifest-s2-v2.json"'
    assert escapes_root(manifest, old) and any(p.search(old) for p in FORBIDDEN)
    assert any(p.search(f'MANIFEST = Path("{work}/{shared}/spec/manifest-s1-v2.json")') for p in FORBIDDEN)
    foundation = ROOT / "tests" / "test_foundation.py"
    assert escapes_root(foundation, 'Path(__file__).resolve().parents[2] / "x"')
    assert escapes_root(foundation, "Path(__file__).resolve().parent.parent.parent")
    assert not escapes_root(foundation, 'Path(__file__).resolve().parents[1] / "engine"')
    assert not escapes_root(manifest, 'Path(__file__).resolve().parents[2] / "engine"')


def test_test_data_is_part_of_a_clone() -> None:
    files = clone_files()
    data = [name for name in files if name.startswith("tests/data/")]
    assert {"tests/data/manifest-s1-v2.json.gz", "tests/data/manifest-s2-v2.json.gz"} <= set(data)
    assert "tests/data/symbols-v2.json" in data
    assert not any(name.startswith(".venv/") for name in files)


def data_tests() -> list[str]:
    """DATA_TESTS plus every other test file that names tests/data."""
    chosen = []
    for test in DATA_TESTS:  # a test renamed since: run its whole file
        file, _, name = test.partition("::")
        chosen.append(test if not name or f"def {name}(" in (ROOT / file).read_text() else file)
    named = {t.split("::")[0] for t in chosen}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in named or path == Path(__file__).resolve():
            continue
        if DATA_REF.search(path.read_text(encoding="utf-8")):
            chosen.append(rel)
    return chosen


def test_a_clone_alone_in_an_empty_folder_runs_the_data_tests(tmp_path) -> None:
    clone = tmp_path / "lonely" / "timbre"  # nothing beside it: no shared/, no spec/
    for name in clone_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    report = tmp_path / "report.xml"
    env = dict(os.environ, PYTHONPATH=str(clone), HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    code = "import engine, sys; sys.exit(0 if engine.__file__.startswith(sys.argv[1]) else 1)"
    assert subprocess.run([sys.executable, "-c", code, str(clone)], cwd=clone, env=env).returncode == 0
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        + data_tests(),
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] >= 10 and counts["failures"] == counts["errors"] == counts["skipped"] == 0, counts


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
