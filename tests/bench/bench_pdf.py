"""The searchable PDF: build time and size per page, ours vs tesseract's own PDF renderer.

The sample volume of ``make demo`` (``sample-001``: A4 pages at 150 dpi, 1240 x 1754, from
``pipeline.samples.generate``), run through every stage with one worker. In the same run and
on the same masters:

- ours: the OCR stage (preprocessing, tesseract hOCR, line re-reading) and the pdf stage (the
  1024 px derivatives the tiles stage wrote, embedded as they are, under the OCR lines),
  timed from the stage records (OCR) and a rerun of the pdf stage alone;
- the peer: ``tesseract PAGES out -l kor pdf``, tesseract's own searchable PDF of the same
  masters (it OCRs too, so it is compared with OCR + PDF; it embeds each master at full
  resolution), one process, single-threaded as our OCR workers are.

The pdf stage alone has no peer that does the same work without OCR: its row gives the time
per page and what share of the whole run it takes.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.results import PdfResult
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.bench.common import Row, timed

PAGES = 4
VOLUME = "sample-001"


def _config(root: Path) -> Config:
    site = {"scans": str(root / "scans"), "out": str(root / "out")}
    return load_config(None, overrides={"site": site, "run": {"workers": 1}}, environ={})


def _ours(cfg: Config) -> tuple[float, float, float, PdfResult]:
    """Whole run, OCR stage (sum of its records) and pdf stage alone, in seconds."""
    whole, report = timed(lambda: run_job(cfg))
    assert not report.failures, [f.error for f in report.failures]
    with StateStore(layout_for(cfg).state_db) as state:
        ocr = sum(r.duration_s for r in state.records(VOLUME) if r.stage == "ocr")
        state.delete(VOLUME, "", "pdf")
    alone, again = timed(lambda: run_job(cfg, stages=["pdf"]))
    assert not again.failures and again.counts["ok"] == 1, again.counts
    with StateStore(layout_for(cfg).state_db) as state:
        record = state.get(VOLUME, "", "pdf")
    assert record is not None
    return whole, ocr, alone, record.result_as(PdfResult)


def _peer(masters: list[Path], out: Path) -> tuple[float, int]:
    """tesseract's searchable PDF of the masters: seconds and bytes."""
    listing = out.with_suffix(".list")
    listing.write_text("".join(f"{m}\n" for m in masters), encoding="utf-8")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    subprocess.run(
        ["tesseract", str(listing), str(out), "-l", "kor", "pdf"],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started, out.with_suffix(".pdf").stat().st_size


def run(workdir: Path, pages: int = PAGES) -> list[Row]:
    generate_volume(workdir / "scans", volume_id=VOLUME, pages=pages)
    cfg = _config(workdir)
    whole, ocr, alone, result = _ours(cfg)
    assert result.pages == pages and result.text_pages == pages
    masters = sorted((workdir / "scans" / VOLUME).glob("p*.tif"))
    peer_s, peer_bytes = _peer(masters, workdir / "tesseract")
    n = pages
    return [
        Row(
            f"searchable PDF: OCR + PDF per page ({n} A4 pages at 150 dpi)",
            (ocr + alone) / n,
            peer_s / n,
            "s",
            peer_name="tesseract PAGES out -l kor pdf (OCR and PDF in one program)",
            note=f"ours: OCR stage {ocr / n:.2f} s + pdf stage {alone / n:.3f} s per page",
        ),
        Row(
            "searchable PDF: size per page",
            result.size / n / 1024,
            peer_bytes / n / 1024,
            "KiB",
            peer_name="tesseract's PDF (master at full resolution)",
            note="ours: the 1024 px derivative (pdf.max_side), embedded as the tiles wrote it",
        ),
        Row(
            "searchable PDF: pdf stage alone per page",
            alone / n,
            None,
            "s",
            note=f"{alone / whole:.1%} of the whole run ({whole:.1f} s, all stages, 1 worker)",
        ),
    ]
