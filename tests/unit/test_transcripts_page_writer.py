"""PAGE XML 2019 writer: valid against the shipped XSD, deterministic, reads back the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pipeline.input.transcripts.model import Line, Provenance, Transcript
from pipeline.input.transcripts.page_writer import page_xml
from pipeline.input.transcripts.read import read_transcript
from pipeline.input.transcripts.schemas import PAGE_2019, load

CREATED = "2026-12-03T17:00:00Z"
NS = {"p": PAGE_2019}


def _transcript(provenance: Provenance, **extra: object) -> Transcript:
    lines = (
        Line(
            text="김일성 동지의 혁명 활동",
            box=(100.0, 200.0, 900.0, 260.0),
            polygon=((100.0, 200.0), (900.0, 210.0), (900.0, 260.0), (100.0, 250.0)),
            baseline=((100.0, 245.0), (900.0, 255.0)),
            id="line_a",
            confidence=0.91,
        ),
        Line(
            text="1934년 3월 21일",
            box=(100.0, 300.0, 700.0, 350.0),
            polygon=((100.0, 300.0), (700.0, 300.0), (700.0, 350.0), (100.0, 350.0)),
            id="l2",
            confidence=0.375,
        ),
        Line(
            text="Москва, 1956",
            box=(120.0, 400.0, 520.0, 450.0),
            polygon=((120.0, 400.0), (520.0, 400.0), (520.0, 450.0), (120.0, 450.0)),
            id="l3",
        ),
    )
    fields: dict[str, object] = {
        "source": "f017r.xml",
        "format": "page-2019",
        "lines": lines,
        "provenance": provenance,
        "image_file": "f017r.tif",
        "image_size": (1200, 1600),
    }
    fields.update(extra)
    return Transcript(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "provenance",
    [
        pytest.param(
            Provenance(kind="human", creator="Kim Minji", date="2026-12-03T18:05:00Z"), id="human"
        ),
        pytest.param(
            Provenance(
                kind="ocr", creator="tesseract 5.3.4", software="tesseract 5.3.4", date=CREATED
            ),
            id="ocr",
        ),
    ],
)
def test_written_page_is_valid_and_reads_back_identically(
    tmp_path: Path, provenance: Provenance
) -> None:
    transcript = _transcript(provenance)
    path = tmp_path / "f017r.xml"
    path.write_bytes(page_xml(transcript, created=CREATED))
    assert load("pagecontent-2019-07-15.xsd").validate(etree.parse(str(path)))
    assert read_transcript(path) == transcript


def test_the_bytes_depend_only_on_the_arguments() -> None:
    transcript = _transcript(Provenance(kind="human", creator="Kim Minji"))
    first = page_xml(transcript, created=CREATED)
    assert first == page_xml(transcript, created=CREATED)
    assert first != page_xml(transcript, created="2026-12-04T09:00:00Z")


def test_metadata_page_reading_order_and_confidence_are_written() -> None:
    transcript = _transcript(Provenance(kind="human", creator="Kim Minji"))
    root = etree.fromstring(page_xml(transcript, created=CREATED))
    assert root.findtext("p:Metadata/p:Creator", namespaces=NS) == "Kim Minji"
    assert root.findtext("p:Metadata/p:Created", namespaces=NS) == CREATED
    assert root.findtext("p:Metadata/p:LastChange", namespaces=NS) == CREATED  # no date given
    page = root.find("p:Page", NS)
    assert page is not None
    assert (page.get("imageFilename"), page.get("imageWidth"), page.get("imageHeight")) == (
        "f017r.tif",
        "1200",
        "1600",
    )
    lines = page.findall("p:TextRegion/p:TextLine", NS)
    assert [line.get("custom") for line in lines] == [
        f"readingOrder {{index:{n};}}" for n in range(3)
    ]
    confs = [line.find("p:TextEquiv", NS).get("conf") for line in lines]  # type: ignore[union-attr]
    assert confs == ["0.91", "0.375", None]
    assert lines[0].find("p:Baseline", NS) is not None and lines[1].find("p:Baseline", NS) is None
    region = page.find("p:TextRegion/p:Coords", NS)
    assert region is not None and region.get("points") == "100,200 900,200 900,450 100,450"


def test_boxes_become_polygons_and_coordinates_whole_non_negative_pixels(tmp_path: Path) -> None:
    lines = (
        Line(text="가", box=(-3.0, 10.4, 50.6, 40.0), id="1"),
        Line(text="나", box=(0.0, 50.0, 60.0, 80.0), id="1"),
    )
    transcript = _transcript(Provenance(kind="human", creator="Kim"), lines=lines)
    path = tmp_path / "p.xml"
    path.write_bytes(page_xml(transcript, created=CREATED))
    assert load("pagecontent-2019-07-15.xsd").validate(etree.parse(str(path)))
    back = read_transcript(path)
    assert back.lines[0].polygon == ((0.0, 10.0), (51.0, 10.0), (51.0, 40.0), (0.0, 40.0))
    assert [line.id for line in back.lines] == ["l1", "l2"]  # "1" is not an xsd:ID


def test_a_line_without_geometry_or_a_transcript_without_image_is_refused() -> None:
    human = Provenance(kind="human", creator="Kim")
    with pytest.raises(ValueError, match="line 1 has no polygon or box"):
        page_xml(_transcript(human, lines=(Line(text="가"),)), created=CREATED)
    with pytest.raises(ValueError, match="image's file name and size"):
        page_xml(_transcript(human, image_size=None), created=CREATED)


def test_an_empty_page_is_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "blank.xml"
    path.write_bytes(
        page_xml(_transcript(Provenance(kind="human", creator="Kim"), lines=()), created=CREATED)
    )
    assert load("pagecontent-2019-07-15.xsd").validate(etree.parse(str(path)))
    assert read_transcript(path).lines == ()
