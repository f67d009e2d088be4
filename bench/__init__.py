"""Benchmarks (`make bench`): each `bench/bench_*.py` has `main() -> None` and prints ratios."""
