"""Benchmarks: ``make bench`` (``python -m tests.bench [NAME ...]``).

Every ``tests/bench/bench_*.py`` module exposes ``run(workdir: Path) -> list[Row]``. Each row
compares one of our stages with its peer on the same input in the same run and reports the ratio.
Results are printed as a table and written to ``bench-results/bench.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import Row, format_table

HERE = Path(__file__).parent
RESULTS = Path("bench-results")


def parse_args(argv: list[str]) -> list[str]:
    """The benchmarks to run (all by default); ``--help`` prints the usage and exits."""
    known = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Compare our stages with their peers on the same inputs (make bench). "
        f"Results are printed as a table and written to {RESULTS / 'bench.json'}.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(known)}",
    )
    names: list[str] = parser.parse_args(argv).names
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r} (known: {', '.join(known)})")
    return names or known


def main(argv: list[str]) -> int:
    names = parse_args(argv)
    rows: list[Row] = []
    for name in names:
        module = importlib.import_module(f"tests.bench.bench_{name}")
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            started = time.monotonic()
            new = module.run(Path(tmp))
            took = time.monotonic() - started
            print(f"[{name}] {len(new)} row(s) in {took:.1f} s", file=sys.stderr)
        rows += new
        print(format_table(new), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
    print("\n" + format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
