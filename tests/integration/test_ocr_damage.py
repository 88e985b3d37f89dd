"""OCR of damaged print with real tesseract: an aged page (gutter shadow, show-through, foxing).

The page is A4 at 300 dpi in the print font, ``aged`` as ``pipeline.samples.generate`` makes it,
with the gutter on the side of the text. The bound on its character error rate comes from
``tests/bench/bench_ocr_damage.py`` (print aged pages: 9.4% on the tuning set, 3.5% on the
held-out set); this page, whose text lies in the gutter's shadow, reads at 10.6% by default
and at 8.2% with ``ocr.normalize_background``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ocr.cer import errors
from pipeline.samples.generate import generate_volume
from tests.integration.test_ocr import run_page

pytestmark = pytest.mark.tesseract

# A page of neither benchmark set.
SEED = 7
BOUND = 10.0  # normalised; without, this page reads above it


def cer(reference: str, text: str) -> float:
    """Character error rate in percent (Levenshtein distance, white space removed)."""
    edits, length = errors(reference, text)
    return 100.0 * edits / max(1, length)


def test_aged_print_in_a_gutter_shadow_is_read_once_the_paper_is_evened_out(
    tmp_path: Path, nanum_fonts: None, tesseract_kor: None
) -> None:
    scans = tmp_path / "scans"
    (page,) = generate_volume(
        scans,
        volume_id="vol-1",
        pages=1,
        seed=SEED,
        width=2480,
        height=3508,
        fonts=["print"],
        conditions=["aged"],
        write_descriptor=False,
    )
    source = scans / "vol-1" / page.file
    outputs = {}
    on = {"normalize_background": True}
    for name, settings in (("normalised", on), ("again", on), ("default", {})):
        layout, rec = run_page(tmp_path, source, name, **settings)
        outputs[name] = {k: layout.path(rec.data[k]).read_bytes() for k in ("txt", "hocr", "alto")}
    normalised = cer(page.text, outputs["normalised"]["txt"].decode("utf-8"))
    default = cer(page.text, outputs["default"]["txt"].decode("utf-8"))
    assert normalised < BOUND < default, f"CER {normalised:.1f}%, by default {default:.1f}%"
    # Same page, same settings: the same bytes.
    assert outputs["again"] == outputs["normalised"]
