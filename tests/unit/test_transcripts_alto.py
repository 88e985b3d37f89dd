"""ALTO transcriptions: the real eScriptorium and ABBYY exports, units, provenance, bad files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.alto import read_alto
from pipeline.input.transcripts.geometry import to_canvas
from pipeline.input.transcripts.hocr import read_hocr
from pipeline.input.transcripts.model import Transcript
from pipeline.samples import generate_volume
from tests.conftest import DATA

EXAMPLES = DATA / "transcripts"
ESCRIPTORIUM_ALTO = "escriptorium-alto4-0003.xml"
ESCRIPTORIUM_PAGE = "escriptorium-page2019-0003.xml"
ABBYY = "abbyy-alto2-PPN750717092-00000780.xml"
PAGE_NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
ALTO_NS = {
    2: "http://www.loc.gov/standards/alto/ns-v2#",
    3: "http://www.loc.gov/standards/alto/ns-v3#",
    4: "http://www.loc.gov/standards/alto/ns-v4#",
}


def read_example(name: str) -> Transcript:
    return read_alto(etree.fromstring((EXAMPLES / name).read_bytes()), name)


def alto(body: str, *, version: int = 4, unit: str = "pixel", description: str = "") -> Transcript:
    text = (
        f'<alto xmlns="{ALTO_NS[version]}"><Description><MeasurementUnit>{unit}</MeasurementUnit>'
        f"{description}</Description><Layout>{body}</Layout></alto>"
    )
    return read_alto(etree.fromstring(text.encode()), "made.xml")


def test_escriptorium_alto4_has_its_19_lines_with_polygons_and_baselines() -> None:
    t = read_example(ESCRIPTORIUM_ALTO)
    assert t.format == "alto-4"
    assert t.source == ESCRIPTORIUM_ALTO
    assert (t.image_file, t.image_size) == ("0003.jpg", (5680, 4180))
    assert len(t.lines) == 19
    first = t.lines[0]
    assert first.id == "eSc_line_ffdbc1a6"
    assert first.text == "Janvier 1742"
    assert first.box == (3554, 348, 3554 + 1526, 348 + 233)
    assert first.baseline == ((3560, 490), (5083, 504))
    assert first.polygon[:2] == ((3557, 487), (3554, 553))
    for line in t.lines:
        assert len(line.polygon) >= 3
        assert len(line.baseline) >= 2
        assert line.box is not None
        assert 0 <= line.box[0] < line.box[2] <= 5680
        assert 0 <= line.box[1] < line.box[3] <= 4180


def test_escriptorium_alto4_text_equals_its_page_export_line_by_line() -> None:
    page = etree.parse(str(EXAMPLES / ESCRIPTORIUM_PAGE))
    expected = [
        str(u.text or "")
        for u in page.iterfind(".//pc:TextLine/pc:TextEquiv/pc:Unicode", namespaces=PAGE_NS)
    ]
    assert len(expected) == 19
    assert [line.text for line in read_example(ESCRIPTORIUM_ALTO).lines] == expected


def test_escriptorium_alto4_names_the_tool_from_its_ids_as_its_page_export_does() -> None:
    provenance = read_example(ESCRIPTORIUM_ALTO).provenance
    assert (provenance.kind, provenance.software, provenance.creator) == (
        "human",
        "escriptorium",
        "",
    )


def test_abbyy_alto2_with_a_byte_order_mark_reads_all_60_lines_with_the_running_head() -> None:
    raw = (EXAMPLES / ABBYY).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    t = read_example(ABBYY)
    assert t.format == "alto-2"
    assert len(t.lines) == 60
    # The running head sits in TopMargin, outside PrintSpace, and comes first.
    assert [line.text for line in t.lines[:2]] == ["676", "1896. Dezember 15."]
    assert t.lines[1].box == (988, 164, 988 + 459, 164 + 53)
    assert t.image_file == ""
    assert t.image_size == (2217, 3629)
    assert all(line.language == "de" for line in t.lines)


def test_abbyy_soft_hyphens_become_the_hyphen_the_page_shows() -> None:
    texts = [line.text for line in read_example(ABBYY).lines]
    assert not any("\u00ad" in text for text in texts)
    for part1, part2 in (
        ("Ventilations-", "schachtes,"),
        ("Frei-", "legung"),
        ("Her-", "stellung"),
        ("Kriegs-", "kammer"),
        ("Ab-", "rundung"),
    ):
        n = next(i for i, text in enumerate(texts) if text.endswith(" " + part1))
        assert texts[n + 1].startswith(part2 + " ") or texts[n + 1] == part2


def test_abbyy_provenance_and_word_confidences() -> None:
    t = read_example(ABBYY)
    assert t.provenance.kind == "ocr"
    assert t.provenance.software == "ABBYY FineReader Engine 11"
    assert t.provenance.date == "2016-08-18"
    assert t.lines[0].confidence == pytest.approx(0.4199999869)
    assert t.lines[1].confidence == pytest.approx((0.8339999914 + 0.4650000036 + 0.4833333194) / 3)


def test_alto3_single_number_baseline_is_a_y_value_across_the_line() -> None:
    t = alto(
        '<Page WIDTH="1000" HEIGHT="800"><PrintSpace><TextBlock>'
        '<TextLine ID="l1" HPOS="100" VPOS="200" WIDTH="300" HEIGHT="40" BASELINE="232">'
        '<String CONTENT="가나" WC="0.5"/><SP/><String CONTENT="다" WC="1"/></TextLine>'
        "</TextBlock></PrintSpace></Page>",
        version=3,
    )
    (line,) = t.lines
    assert t.format == "alto-3"
    assert line.text == "가나 다"
    assert line.baseline == ((100, 232), (400, 232))
    assert line.confidence == pytest.approx(0.75)
    assert line.polygon == ()


def test_alto4_baseline_as_comma_separated_points() -> None:
    t = alto(
        '<Page WIDTH="1000" HEIGHT="800"><TextLine BASELINE="10,50 200,55">'
        '<String CONTENT="a"/></TextLine></Page>'
    )
    assert t.lines[0].baseline == ((10, 50), (200, 55))
    assert t.lines[0].box is None


@pytest.mark.tesseract
def test_tesseract_alto_reads_the_same_lines_as_its_hocr(
    tmp_path: Path, nanum_fonts: None, tesseract_kor: None
) -> None:
    generate_volume(
        tmp_path / "scans",
        volume_id="vol-1",
        pages=1,
        seed=3,
        fonts=["print"],
        conditions=["clean"],
    )
    image = tmp_path / "scans" / "vol-1" / "p001.tif"
    subprocess.run(
        ["tesseract", str(image), str(tmp_path / "p001"), "-l", "kor", "alto", "hocr"],
        check=True,
        capture_output=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    from_alto = read_alto(etree.parse(str(tmp_path / "p001.xml"), parser).getroot(), "p001.xml")
    from_hocr = read_hocr(etree.parse(str(tmp_path / "p001.hocr"), parser).getroot(), "p001.hocr")
    assert from_alto.format == "alto-3"
    assert from_alto.provenance.kind == "ocr"
    assert from_alto.provenance.software.startswith("tesseract")
    assert from_alto.image_size == from_hocr.image_size == (1240, 1754)
    assert from_alto.image_file == "p001.tif"
    assert len(from_alto.lines) >= 5
    assert [line.box for line in from_alto.lines] == [line.box for line in from_hocr.lines]
    assert [line.text for line in from_alto.lines] == [line.text for line in from_hocr.lines]


def test_comma_separated_polygon_and_box_from_it_when_the_line_has_none() -> None:
    t = alto(
        '<Page WIDTH="1000" HEIGHT="800"><PrintSpace><TextBlock><TextLine>'
        '<Shape><Polygon POINTS="10,20 110,22 108,60 12,58"/></Shape>'
        '<String CONTENT="a"/></TextLine></TextBlock></PrintSpace></Page>'
    )
    (line,) = t.lines
    assert line.polygon == ((10, 20), (110, 22), (108, 60), (12, 58))
    assert line.box == (10, 20, 110, 60)


@pytest.mark.parametrize(
    ("unit", "page", "line"),
    [
        pytest.param("mm10", (2100, 2970), (1050, 1485, 210, 297), id="mm10"),
        pytest.param("inch1200", (9920, 14030), (4960, 7015, 992, 1403), id="inch1200"),
    ],
)
def test_physical_units_land_on_the_same_spot_of_the_canvas(
    unit: str, page: tuple[int, int], line: tuple[int, int, int, int]
) -> None:
    x, y, w, h = line
    t = alto(
        f'<Page WIDTH="{page[0]}" HEIGHT="{page[1]}"><PrintSpace><TextBlock>'
        f'<TextLine HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}"><String CONTENT="a"/>'
        "</TextLine></TextBlock></PrintSpace></Page>",
        unit=unit,
    )
    assert t.image_size is not None
    # The line starts at the middle of the page and spans a tenth of it, whatever the unit.
    on_canvas = to_canvas(t, (1240, 1754))
    box = on_canvas.lines[0].box
    assert box == pytest.approx((620, 877, 620 + 124, 877 + 175.4), abs=1)
    assert on_canvas.warnings == ()


def test_processing_step_that_generated_the_text_names_the_software() -> None:
    processing = (
        "<Processing><processingCategory>preOperation</processingCategory>"
        "<processingSoftware><softwareName>ScanTailor</softwareName></processingSoftware>"
        "</Processing>"
        "<Processing><processingCategory>contentGeneration</processingCategory>"
        "<processingDateTime>2024-05-01T10:00:00</processingDateTime>"
        "<processingSoftware><softwareName>kraken</softwareName>"
        "<softwareVersion>5.2</softwareVersion></processingSoftware></Processing>"
    )
    t = alto('<Page WIDTH="10" HEIGHT="10"/>', description=processing)
    assert t.provenance.kind == "htr"
    assert t.provenance.software == "kraken 5.2"
    assert t.provenance.date == "2024-05-01T10:00:00"
    assert t.lines == ()


def test_a_pixel_file_without_a_page_size_is_in_master_pixels_with_a_warning() -> None:
    t = alto(
        '<Page><TextLine HPOS="1" VPOS="2" WIDTH="3" HEIGHT="4">'
        '<String CONTENT="a"/></TextLine></Page>'
    )
    assert t.image_size is None
    assert t.lines[0].box == (1, 2, 4, 6)
    assert t.warnings == (
        "made.xml: the ALTO Page declares no size: coordinates taken as the master's",
    )


def test_a_file_without_provenance_is_taken_as_ocr() -> None:
    t = alto('<Page WIDTH="10" HEIGHT="10"/>')
    assert (t.provenance.kind, t.provenance.software) == ("ocr", "")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: alto('<Page WIDTH="9" HEIGHT="9"><TextLine HPOS="x"/></Page>'),
            "TextLine has HPOS='x', not a number",
            id="bad-number",
        ),
        pytest.param(
            lambda: alto('<Page WIDTH="9" HEIGHT="9"/><Page WIDTH="9" HEIGHT="9"/>'),
            "2 ALTO Page elements",
            id="two-pages",
        ),
        pytest.param(lambda: alto(""), "0 ALTO Page elements", id="no-page"),
        pytest.param(
            lambda: alto("<Page/>", unit="mm10"), "declares no WIDTH and HEIGHT", id="no-size"
        ),
        pytest.param(
            lambda: alto('<Page WIDTH="9" HEIGHT="9"/>', unit="cm"),
            "MeasurementUnit 'cm'",
            id="unit",
        ),
        pytest.param(
            lambda: alto(
                '<Page WIDTH="9" HEIGHT="9"><TextLine><Shape><Polygon POINTS="1 2 3"/></Shape>'
                '<String CONTENT="a"/></TextLine></Page>'
            ),
            "odd count of numbers",
            id="odd-polygon",
        ),
        pytest.param(
            lambda: read_alto(etree.fromstring(b"<alto/>"), "made.xml"),
            "not ALTO 2, 3 or 4",
            id="no-namespace",
        ),
    ],
)
def test_bad_files_are_one_line_naming_the_file(make: object, message: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        make()  # type: ignore[operator]
    text = str(caught.value)
    assert text.startswith("made.xml: ")
    assert message in text
    assert "\n" not in text
