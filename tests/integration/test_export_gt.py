"""export-gt: one grey line image per line, cut from the master along its box, and its text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import pyvips

from pipeline.input.transcripts.model import Line, Provenance, Transcript
from pipeline.input.transcripts.page_writer import page_xml
from pipeline.run.job import run_job
from tests.conftest import assert_clean_exit, config_at, invoke

pytestmark = [pytest.mark.slow]

VOLUME = "vol-1"
CREATED = "2026-12-03T17:00:00Z"
# Canvas boxes (x0, y0, x1, y1) of the lines of each page; p1 is transcribed at half size.
P1_LINES = {"첫째 줄": (40, 100, 520, 160), "둘째 줄": (60, 200, 380, 250)}
P2_LINES = {"돌린 면의 줄": (100, 300, 500, 340)}
SLANT = ((60.0, 400.0), (500.0, 380.0), (500.0, 440.0), (60.0, 460.0))


def _master(path: Path, orientation: int = 1) -> None:
    """A 600 x 800 (upright) grey pattern; stored turned when ``orientation`` is 6."""
    path.parent.mkdir(parents=True, exist_ok=True)
    xyz = pyvips.Image.xyz(600, 800)
    image = ((xyz[0] * 7 + xyz[1] * 3) % 251).cast("uchar").copy(interpretation="b-w")
    if orientation == 6:  # stored pixels turned 90 degrees counter-clockwise
        image = image.rot270().copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    image.write_to_file(str(path))


def _page(name: str, image: str, size: tuple[int, int], lines: tuple[Line, ...]) -> bytes:
    transcript = Transcript(
        source=name,
        format="page-2019",
        lines=lines,
        provenance=Provenance(kind="human", creator="Kim Minji"),
        image_file=image,
        image_size=size,
    )
    return page_xml(transcript, created=CREATED)


def _box_line(text: str, box: tuple[int, int, int, int], scale: float = 1.0) -> Line:
    x0, y0, x1, y1 = (v * scale for v in box)
    return Line(text=text, polygon=((x0, y0), (x1, y0), (x1, y1), (x0, y1)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gt")
    scans, texts = root / "scans" / VOLUME, root / "transcriptions" / VOLUME
    _master(scans / "p1.tif")
    _master(scans / "p2.tif", orientation=6)
    _master(scans / "p3.tif")
    texts.mkdir(parents=True)
    half = tuple(_box_line(t, b, 0.5) for t, b in P1_LINES.items())
    slant = Line(text="기운 줄", polygon=tuple((x / 2, y / 2) for x, y in SLANT))
    # Named as an export names it: the page is found by the image the file declares.
    (texts / "export_doc3_p1.xml").write_bytes(_page("p1", "p1.tif", (300, 400), (*half, slant)))
    lines = tuple(_box_line(t, b) for t, b in P2_LINES.items())
    (texts / "p2.xml").write_bytes(_page("p2", "p2.tif", (600, 800), lines))
    (texts / "p3.txt").write_text("손으로 쓴 줄\n", encoding="utf-8")
    report = run_job(config_at(root, ocr={"enabled": False}))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    return root


def _upright_grey(master: Path) -> pyvips.Image:
    """The master as a reader sees it, computed here without the pipeline's code."""
    return pyvips.Image.new_from_file(str(master)).autorot()


def _png(path: Path) -> pyvips.Image:
    image = pyvips.Image.new_from_file(str(path))
    assert (image.bands, image.format) == (1, "uchar")
    return image


def _same(a: pyvips.Image, b: pyvips.Image) -> bool:
    return bool((a.cast("int") - b.cast("int")).abs().max() == 0)


def test_line_images_are_the_master_cut_along_each_box(built: Path, tmp_path: Path) -> None:
    dest = tmp_path / "gt"
    result = invoke(built, "export-gt", VOLUME, str(dest))
    assert_clean_exit(result, 0)
    assert "exported 4 line(s) of 2 page(s)" in result.output
    assert "note: p3.txt: no boxes in the file" in result.output
    with (dest / "index.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["image"], r["page"], r["line"], r["source"]) for r in rows] == [
        ("p1_001.png", "p1", "1", "export_doc3_p1.xml"),
        ("p1_002.png", "p1", "2", "export_doc3_p1.xml"),
        ("p1_003.png", "p1", "3", "export_doc3_p1.xml"),
        ("p2_001.png", "p2", "1", "p2.xml"),
    ]
    boxes = {**P1_LINES, **P2_LINES}
    for row in rows:
        assert (dest / row["image"].replace(".png", ".gt.txt")).read_text() == row["text"] + "\n"
        if row["text"] not in boxes:
            continue
        x0, y0, x1, y1 = boxes[row["text"]]
        master = _upright_grey(built / "scans" / VOLUME / f"{row['page']}.tif")
        expected = master.crop(x0, y0, x1 - x0, y1 - y0)
        line = _png(dest / row["image"])
        # Exactly the box (scaled back to 1:1 from the half-size copy), pixel for pixel.
        assert (line.width, line.height) == (expected.width, expected.height), row
        assert _same(line, expected), row
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [r["image"] for r in rows] + [r["image"][:-4] + ".gt.txt" for r in rows] + ["index.csv"]
    )


def test_a_slanted_polygon_is_cut_with_white_outside(built: Path, tmp_path: Path) -> None:
    dest = tmp_path / "gt"
    assert_clean_exit(invoke(built, "export-gt", VOLUME, str(dest)), 0)
    line = _png(dest / "p1_003.png")
    master = _upright_grey(built / "scans" / VOLUME / "p1.tif")
    assert (line.width, line.height) == (440, 80)  # the polygon's box: 60..500 x 380..460
    crop = master.crop(60, 380, 440, 80)
    assert crop(220, 40) != [255] and line(220, 40) == crop(220, 40)  # the middle of the line
    assert line(0, 0) == [255] and line(439, 79) == [255]  # corners outside the slanted edges
    inside = line != 255
    assert _same(inside.ifthenelse(line, 0), inside.ifthenelse(crop, 0))
    assert crop(0, 0) != [255]  # the white corner was made, not found


def test_the_export_is_byte_identical(built: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert_clean_exit(invoke(built, "export-gt", VOLUME, str(tmp_path / name)), 0)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_an_unknown_volume_is_named(built: Path, tmp_path: Path) -> None:
    result = invoke(built, "export-gt", "vol-9", str(tmp_path / "gt"))
    assert_clean_exit(result, 4)
    assert "vol-9: volume folder not found" in result.output


def test_a_folder_that_cannot_be_made_is_one_line(built: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = invoke(built, "export-gt", VOLUME, str(tmp_path / "a-file" / "gt"))
    assert_clean_exit(result, 4)
    assert "a-file" in result.output and "cannot write the export" in result.output
