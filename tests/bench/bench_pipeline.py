"""Whole-pipeline throughput on a generated volume, and the cost of a no-op rerun.

Peer: the same pages through the bare tools a user would script by hand, with the same number of
processes: ``tesseract PAGE out -l kor hocr txt`` plus an in-process ``dzsave``. The no-op rerun
has no peer: its row reports seconds per page.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pipeline.config import load_config
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from tests.bench.common import Row, timed

PAGES = 8
WORKERS = os.cpu_count() or 2


def _by_hand(page: Path, out: Path) -> None:
    import pyvips

    pyvips.Image.new_from_file(str(page), access="sequential").dzsave(
        str(out / page.stem), layout="iiif3", tile_size=512
    )
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    subprocess.run(
        ["tesseract", str(page), str(out / page.stem), "-l", "kor", "hocr", "txt"],
        check=True,
        capture_output=True,
        env=env,
    )


def run(workdir: Path) -> list[Row]:
    scans = workdir / "scans"
    pages = generate_volume(scans, volume_id="bench", pages=PAGES, seed=3, width=2480, height=3508)
    cfg = load_config(
        None,
        overrides={
            "site": {"scans": str(scans), "out": str(workdir / "out")},
            "run": {"workers": WORKERS},
        },
        environ={},
    )
    ours, report = timed(lambda: run_job(cfg))
    assert not report.failures, report.failures
    noop, _ = timed(lambda: run_job(cfg))
    hand = workdir / "by-hand"
    hand.mkdir()
    files = [scans / "bench" / p.file for p in pages]
    with ProcessPoolExecutor(WORKERS) as pool:
        peer, _ = timed(lambda: list(pool.map(_by_hand, files, [hand] * len(files))))
    return [
        Row(
            f"pipeline pages/min ({PAGES} A4 300-dpi pages, {WORKERS} workers)",
            PAGES / ours * 60,
            PAGES / peer * 60,
            "p/min",
            peer_name="bare dzsave + tesseract -l kor (default settings)",
            higher_is_better=True,
        ),
        Row(
            f"no-op rerun of {PAGES} pages",
            noop,
            None,
            "s",
            note=f"{noop / PAGES * 1000:.1f} ms per page",
        ),
    ]
