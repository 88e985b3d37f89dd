"""Background normalisation: uneven paper is evened out, even paper is left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from pipeline.imaging.working_image import Reduction
from pipeline.ocr import preprocess
from pipeline.samples import render_page

pytestmark = pytest.mark.usefixtures("nanum_fonts")

LINES = [
    "인물전기 제1권",
    "로동자 김철민",
    "력사와 리론을 공부하였다.",
    "1965년 그는 의사가 되였다.",
]
W, H = 1240, 1754


def _page(condition: str) -> pyvips.Image:
    image = render_page(
        text_lines=LINES, font="print", condition=condition, seed=3, width=W, height=H
    )
    return pyvips.Image.new_from_memory(image.tobytes(), W, H, 1, "uchar")


def test_gutter_shadow_is_evened_out() -> None:
    grey = _page("aged")
    paper = preprocess.paper_estimate(grey, 150)
    assert preprocess.unevenness(paper) > 0.4
    flat = preprocess.normalise_background(grey, paper, 150)
    assert preprocess.unevenness(preprocess.paper_estimate(flat, 150)) < 0.1
    # The text is still there, as dark against the paper as it was.
    assert flat.min() < 100


@pytest.mark.parametrize("condition", ["clean", "degraded", "faded"])
def test_even_paper_is_not_normalised(condition: str) -> None:
    assert preprocess.unevenness(preprocess.paper_estimate(_page(condition), 150)) < 0.15


def test_prepare_normalises_only_uneven_pages(tmp_path: Path) -> None:
    plan = Reduction(scale=1.0, source_dpi=150.0, declared=True, dpi=150)
    steps = {}
    for condition in ("aged", "clean"):
        prepared = preprocess.prepare(
            _page(condition),
            tmp_path / f"{condition}.png",
            plan=plan,
            canvas=(W, H),
            binarize="wolf",
            deskew=False,
            crop_border=True,
            normalize_background=True,
        )
        steps[condition] = " ".join(prepared.steps)
    assert "background normalised" in steps["aged"]
    assert "background normalised" not in steps["clean"]
