"""Transcriptions on the canvas: scale, EXIF orientation (checked with libvips), clipping."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pyvips
from lxml import etree

from pipeline.input.transcripts.alto import read_alto
from pipeline.input.transcripts.geometry import to_canvas
from pipeline.input.transcripts.model import Line, Point, Provenance, Transcript
from tests.conftest import DATA

ESCRIPTORIUM_ALTO = DATA / "transcripts" / "escriptorium-alto4-0003.xml"
STORED = (40, 30)  # the stored pixels of the tiny master
BOX = (5, 3, 12, 9)  # a mark on the stored pixels, x0 y0 x1 y1 (pixel edges)


def transcript(*lines: Line, size: tuple[int, int] | None = STORED) -> Transcript:
    return Transcript(
        source="t.xml",
        format="page-2019",
        lines=lines,
        provenance=Provenance(kind="human"),
        image_size=size,
    )


def upright_mark(orientation: int) -> tuple[tuple[int, int], tuple[float, ...]]:
    """Where libvips' autorot puts the mark: the upright size and the mark's box on it."""
    image = pyvips.Image.black(*STORED).draw_rect(
        255, BOX[0], BOX[1], BOX[2] - BOX[0], BOX[3] - BOX[1], fill=True
    )
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    upright = image.autorot()
    left, top, width, height = upright.find_trim(threshold=128, background=[0])
    return (upright.width, upright.height), (left, top, left + width, top + height)


def half(points: tuple[Point, ...]) -> tuple[Point, ...]:
    return tuple((round(x / 2), round(y / 2)) for x, y in points)


def flat(points: tuple[Point, ...]) -> list[float]:
    return [v for point in points for v in point]


def test_a_half_size_transcription_maps_onto_the_full_canvas_within_a_pixel() -> None:
    full = read_alto(etree.fromstring(ESCRIPTORIUM_ALTO.read_bytes()), "0003.xml")
    assert full.image_size == (5680, 4180)
    halved = replace(
        full,
        image_size=(2840, 2090),
        lines=tuple(
            replace(line, polygon=half(line.polygon), baseline=half(line.baseline), box=None)
            for line in full.lines
        ),
    )
    mapped = to_canvas(halved, (5680, 4180))
    assert mapped.image_size == (5680, 4180)
    assert mapped.warnings == ()
    for got, want in zip(mapped.lines, full.lines, strict=True):
        assert got.text == want.text
        assert flat(got.polygon) == pytest.approx(flat(want.polygon), abs=1)
        assert flat(got.baseline) == pytest.approx(flat(want.baseline), abs=1)
        xs = [x for x, _ in want.polygon]
        ys = [y for _, y in want.polygon]
        assert got.box == pytest.approx((min(xs), min(ys), max(xs), max(ys)), abs=1)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_pixel_coordinates_land_where_autorot_puts_them(orientation: int) -> None:
    canvas, expected = upright_mark(orientation)
    line = Line(text="a", box=BOX)
    mapped = to_canvas(transcript(line), canvas, orientation, stored=True)
    assert mapped.lines[0].box == pytest.approx(expected)
    # A transcription of a half-size copy of the stored pixels lands on the same spot.
    small = Line(text="a", box=tuple(v / 2 for v in BOX))  # type: ignore[arg-type]
    mapped = to_canvas(transcript(small, size=(20, 15)), canvas, orientation, stored=True)
    assert mapped.lines[0].box == pytest.approx(expected)
    assert mapped.warnings == ()


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_swapped_proportions_tell_that_the_stored_pixels_were_transcribed(
    orientation: int,
) -> None:
    canvas, expected = upright_mark(orientation)
    x0, y0, x1, y1 = BOX
    polygon = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    line = Line(text="a", polygon=polygon, box=BOX, baseline=((x0, y1), (x1, y1)))
    mapped = to_canvas(transcript(line), canvas, orientation).lines[0]
    assert mapped.box == pytest.approx(expected)
    assert len(mapped.polygon) == 4
    assert len(mapped.baseline) == 2


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_coordinates_are_only_scaled(orientation: int) -> None:
    canvas, _ = upright_mark(orientation)
    line = Line(text="a", box=(2, 2, 6, 8))
    small = transcript(line, size=(canvas[0] // 2, canvas[1] // 2))
    mapped = to_canvas(small, canvas, orientation)
    assert mapped.lines[0].box == pytest.approx((4, 4, 12, 16))


def test_lines_outside_the_image_are_clipped_with_one_warning_naming_the_file() -> None:
    lines = (
        Line(text="in", box=(1, 1, 10, 10), id="l1"),
        Line(text="out", polygon=((30, 20), (45, 20), (45, 35), (30, 35)), id="l2"),
        Line(text="below", box=(0, 25, 10, 40), baseline=((0, 38), (10, 38)), id="l3"),
        Line(text="no geometry"),
    )
    mapped = to_canvas(transcript(*lines), (80, 60))
    assert [line.box for line in mapped.lines] == [
        (2, 2, 20, 20),
        (60, 40, 80, 60),
        (0, 50, 20, 60),
        None,
    ]
    assert mapped.lines[2].baseline == ((0, 60), (20, 60))
    assert mapped.lines[3] == lines[3]
    assert mapped.warnings == (
        "t.xml: 2 line(s) reach outside the image (l2, l3); clipped to the page",
    )


def test_a_box_is_derived_from_the_mapped_polygon() -> None:
    line = Line(text="a", box=(0, 0, 40, 30), polygon=((10, 10), (20, 5), (30, 15)))
    mapped = to_canvas(transcript(line), (40, 30)).lines[0]
    assert mapped.box == (10, 5, 30, 15)


def test_other_proportions_are_stretched_with_a_warning() -> None:
    mapped = to_canvas(transcript(Line(text="a", box=(0, 0, 40, 30))), (40, 40))
    assert mapped.lines[0].box == (0, 0, 40, 40)
    (warning,) = mapped.warnings
    assert warning.startswith(
        "t.xml: the transcribed image (40 x 30) does not have the proportions"
    )


def test_no_declared_size_means_canvas_pixels_and_earlier_warnings_stay() -> None:
    t = replace(transcript(Line(text="a", box=(1, 2, 3, 4)), size=None), warnings=("earlier",))
    mapped = to_canvas(t, (40, 30))
    assert mapped.lines[0].box == (1, 2, 3, 4)
    assert mapped.warnings == ("earlier",)


def test_an_orientation_outside_1_to_8_is_refused() -> None:
    with pytest.raises(ValueError, match="EXIF orientation 9 is not 1-8"):
        to_canvas(transcript(), (40, 30), 9)
