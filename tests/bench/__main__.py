"""Benchmarks: ``make bench`` (``python -m tests.bench [NAME ...]``).

Every ``tests/bench/bench_*.py`` module exposes ``run(workdir: Path) -> list[Row]``. Each row
compares one of our stages with its peer on the same input in the same run and reports the ratio.
Results are printed as a table and written to ``bench-results/bench.json``.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import Row, format_table

HERE = Path(__file__).parent
RESULTS = Path("bench-results")


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
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
