"""Text frontend speed: phonemes per second on a 10,000-character mixed text, and import time.

The import time of ``engine.text.frontend`` is measured in fresh interpreters against the baseline
``import json`` measured the same way in the same run; throughput is compared with a baseline loop
that only lower-cases and splits the same text. The 10,000-character text repeats one short passage,
so after its first copy the frontend's caches answer; a second figure uses a varied text (the built-in
prompt scripts and the golden test sentences, none repeated), measured first, which is closer to what
a person's own text costs.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from pathlib import Path

MIXED_BASE = (
    "今天是2024年3月15日，我们去Starbucks喝coffee吧！The price was $3.50 at 7:30 pm, "
    "and Dr. Smith's 21st birthday party starts at 8. 这个周末天气很好，适合出去走走。"
)


def mixed_text(chars: int = 10_000) -> str:
    """A Mandarin/English mixed text of exactly ``chars`` characters."""
    return (MIXED_BASE * (chars // len(MIXED_BASE) + 1))[:chars]


def varied_text() -> str:
    """Mandarin and English sentences, none repeated, alternating: built-in prompts and golden sets."""
    from engine.prompts import builtin_script

    golden = Path(__file__).resolve().parent.parent / "tests" / "text"

    def column(name: str, index: int) -> list[str]:
        path = golden / name
        if not path.is_file():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [line.split("\t")[index] for line in lines if line.strip() and not line.startswith("#")]

    zh = builtin_script("zh") + column("golden_zh.tsv", 1)
    en = builtin_script("en") + column("golden_en.tsv", 0)
    return "".join(a + b for a, b in itertools.zip_longest(zh, en, fillvalue=""))


def _import_seconds(statement: str, repeats: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.strip()))
    return statistics.median(runs)


def main() -> None:
    """Print throughput and import-time results with their same-run baselines."""
    from engine.text.frontend import frontend

    text = mixed_text()
    frontend("预热 warm up", "zh")  # load dictionaries once, outside the timing

    varied = varied_text()
    start = time.perf_counter()
    varied_phones = sum(len(s.phones) for s in frontend(varied, "zh"))
    varied_s = time.perf_counter() - start

    start = time.perf_counter()
    segments = frontend(text, "zh")
    elapsed = time.perf_counter() - start
    phones = sum(len(s.phones) for s in segments)

    start = time.perf_counter()
    for _ in range(20):
        baseline_tokens = len(text.lower().split())
    baseline = (time.perf_counter() - start) / 20

    print(f"mixed text: {len(text)} chars -> {len(segments)} segments, {phones} phones")
    print(
        f"frontend: {elapsed:.3f} s, {phones / elapsed:,.0f} phonemes/s, {len(text) / elapsed:,.0f} chars/s"
    )
    print(
        f"varied text: {len(varied)} chars, {varied_phones} phones in {varied_s:.3f} s, "
        f"{varied_phones / varied_s:,.0f} phonemes/s ({varied_s / len(varied) * 1e6:.1f} us/char)"
    )
    ratio = elapsed / baseline
    print(
        f"baseline lower+split ({baseline_tokens} tokens): {baseline * 1e3:.3f} ms; frontend is {ratio:,.0f}x"
    )

    first_call = "import engine.text.frontend as f; f.frontend('Hello world, 你好世界。', 'zh')"
    json_s = _import_seconds("import json")
    frontend_s = _import_seconds("import engine.text.frontend")
    first_s = _import_seconds(first_call, repeats=3)
    print(f"import json (baseline): {json_s * 1e3:.2f} ms")
    print(f"import engine.text.frontend: {frontend_s * 1e3:.2f} ms ({frontend_s / json_s:.1f}x baseline)")
    print(
        f"import + first mixed call (loads dictionaries): {first_s:.2f} s ({first_s / json_s:,.0f}x baseline)"
    )


if __name__ == "__main__":
    main()
