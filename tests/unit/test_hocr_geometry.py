"""Preprocessing geometry and thresholds: affine maps, Otsu, border crop, deskew, resolution."""

from __future__ import annotations

import math

import pytest
import pyvips

from pipeline.imaging import working_image as reduction
from pipeline.ocr import preprocess
from pipeline.ocr.geometry import Affine


def test_affine_then_composes_in_order() -> None:
    crop = Affine(c=10, f=20)
    up = Affine(a=4, e=2)
    both = crop.then(up)
    assert both.point(1, 1) == up.point(*crop.point(1, 1)) == (44, 42)
    assert math.isclose(Affine(a=4, e=4).scale, 4)


def test_rotation_maps_back_to_the_input() -> None:
    image = (pyvips.Image.black(400, 300) + 255).draw_rect(0, 300, 50, 10, 10, fill=True)
    turned, back = preprocess.rotate_about_centre(image.cast("uchar"), 10)
    assert (turned.width, turned.height) == (400, 300)
    cols, rows = (turned < 128).project()
    xs = preprocess._values(cols)
    ys = preprocess._values(rows)
    cx = sum(i * v for i, v in enumerate(xs)) / sum(xs) + 0.5
    cy = sum(i * v for i, v in enumerate(ys)) / sum(ys) + 0.5
    x, y = back.point(cx, cy)
    assert abs(x - 305) < 1 and abs(y - 55) < 1


def test_otsu_level_splits_two_peaks() -> None:
    counts = [0] * 256
    counts[30] = 1000
    counts[220] = 5000
    level = preprocess.otsu_level(counts)
    assert 30 <= level < 220


def page_with_lines(width: int = 800, height: int = 600) -> pyvips.Image:
    image = pyvips.Image.black(width, height) + 230
    for y in range(100, height - 100, 60):
        image = image.draw_rect(40, 120, y, width - 240, 14, fill=True)
    return image.cast("uchar")


def test_border_box_finds_the_page_inside_a_dark_border() -> None:
    page = page_with_lines()
    framed = page.embed(30, 45, page.width + 30 + 20, page.height + 45 + 10, background=[0])
    assert preprocess.border_box(framed) == (30, 45, page.width, page.height)
    assert preprocess.border_box(page) == (0, 0, page.width, page.height)


@pytest.mark.parametrize("angle", [-2.0, 1.0])
def test_estimate_skew_undoes_a_rotation(angle: float) -> None:
    turned, _ = preprocess.rotate_about_centre(page_with_lines(), angle)
    assert abs(preprocess.estimate_skew(turned) + angle) <= 0.15


def test_binarised_images_are_two_level() -> None:
    page = page_with_lines() + (pyvips.Image.xyz(800, 600)[0] / 20).cast("uchar")
    for image in (
        preprocess.binarise_wolf(page, 150),
        preprocess.binarise_sauvola(page, 150),
        preprocess.binarise_otsu(page),
    ):
        hist = preprocess.histogram(image)
        assert sum(c for i, c in enumerate(hist) if i not in (0, 255)) == 0
        assert hist[0] > 0 and hist[255] > 0


def test_source_resolution_reads_or_assumes() -> None:
    image = pyvips.Image.black(10, 10).copy(xres=600 / 25.4, yres=600 / 25.4)
    dpi, declared = reduction.source_resolution(image, 300)
    assert declared and round(dpi) == 600
    bare = pyvips.Image.black(10, 10).copy(xres=1.0, yres=1.0)  # 25 dpi: a library default
    assert reduction.source_resolution(bare, 300) == (300.0, False)


def test_wolf_keeps_faded_strokes_that_sauvola_breaks() -> None:
    faded = (page_with_lines() * 0 + 232).cast("uchar")
    for y in range(100, 500, 60):
        faded = faded.draw_rect(195, 40, y, 520, 3, fill=True)  # faint ink, 3-px strokes
    strokes = 7 * 520 * 3

    def ink(image: pyvips.Image) -> int:
        return preprocess.histogram(image)[0]

    assert ink(preprocess.binarise_wolf(faded, 150)) >= 0.9 * strokes
    assert ink(preprocess.binarise_sauvola(faded, 150)) < 0.5 * strokes
