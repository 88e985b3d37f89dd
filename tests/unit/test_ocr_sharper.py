"""Doubtful lines of the page's own script: which are read again, and how boxes map back."""

from __future__ import annotations

import math

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.ocr import hocr, sharper
from pipeline.ocr.geometry import Affine
from tests.unit.test_hocr_lines import KOR_ON_CYRILLIC, KOREAN, line


def test_doubtful_lines_are_unconfident_lines_of_the_page_script() -> None:
    page = hocr.Page(
        width=1240,
        height=1754,
        lines=(
            line(KOREAN[0], 93),  # confident: kept
            line(KOREAN[1], 70),
            line(KOR_ON_CYRILLIC[0], 12),  # another script: the line languages' business
            line(KOREAN[2], 87.9),
            line(KOREAN[3], 40),  # already read in another script
        ),
    )
    assert sharper.doubtful(page, "kor", below=88, skip={4}) == [1, 3]
    assert sharper.doubtful(page, "kor", below=80, skip=set()) == [1, 4]
    assert sharper.doubtful(page, "kor+rus", below=88, skip=set()) == [1, 3, 4]
    # Vertical pages are not read line by line; a model of unknown script has no own lines.
    assert sharper.doubtful(page, "kor_vert", below=88, skip=set()) == []
    assert sharper.doubtful(page, "xyz", below=88, skip=set()) == []


def test_a_box_maps_from_one_ocr_image_to_another_through_the_canvas() -> None:
    # The page at 150 dpi and at 200 dpi of a 300-dpi master, the border cropped off each.
    page = Affine(c=12, f=8).then(Affine(a=2.0, e=2.0))
    sharp = Affine(c=16, f=11).then(Affine(a=1.5, e=1.5))
    there = page.then(sharp.inverse())
    x, y = there.point(100, 50)
    assert (x, y) == pytest.approx(((100 + 12) * 2 / 1.5 - 16, (50 + 8) * 2 / 1.5 - 11))
    back = sharp.then(page.inverse())
    assert back.point(x, y) == pytest.approx((100, 50))
    # A deskewed image: the inverse of a rotation turns back.
    turn = Affine(a=math.cos(0.05), b=-math.sin(0.05), d=math.sin(0.05), e=math.cos(0.05), c=7)
    assert turn.then(turn.inverse()).point(300, 400) == pytest.approx((300, 400))
    assert hocr.map_box((100, 50, 400, 90), there, (1000, 1000)) == (
        int((100 + 12) * 2 / 1.5 - 16),
        int((50 + 8) * 2 / 1.5 - 11),
        round((400 + 12) * 2 / 1.5 - 16 + 0.499),
        round((90 + 8) * 2 / 1.5 - 11 + 0.499),
    )


def test_reread_settings_are_checked() -> None:
    cfg = load_config(None, overrides={"ocr": {"reread_dpi": 0}}, environ={})
    assert cfg.ocr.reread_dpi == 0 and cfg.ocr.reread_confidence == 0.0
    with pytest.raises(ConfigError, match="reread_confidence"):
        load_config(None, overrides={"ocr": {"reread_confidence": 120}}, environ={})
