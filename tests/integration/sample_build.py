"""A sample volume built through every stage (real tesseract), for the transcription tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from tests.conftest import config_at, have_nanum_fonts, have_tesseract, require

VOLUME = "vol-1"
# Every page is held for review: no sample page reaches this confidence.
HOLD_ALL = {"review_confidence": 99.9}


def build_sample(root: Path, *, pages: int, **sections: Any) -> Path:
    """Generate ``pages`` printed sample pages under ``root/scans`` and run every stage.

    Args:
        root: The workspace (``scans/``, ``out/``).
        pages: How many pages.
        **sections: Configuration sections for the run (``ocr`` defaults to :data:`HOLD_ALL`).

    Returns:
        ``root``.
    """
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    require(have_nanum_fonts(), "fonts-nanum not installed")
    generate_volume(
        root / "scans", volume_id=VOLUME, pages=pages, seed=5, width=700, height=990,
        fonts=["print"],
    )  # fmt: skip
    report = run_job(config_at(root, **{"ocr": HOLD_ALL, **sections}))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    return root
