"""PAGE XML: real Transkribus and eScriptorium exports, and files written the way they write."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.page import read_page
from pipeline.input.transcripts.schemas import validate
from pipeline.input.transcripts.sniff import parse_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"
TRANSKRIBUS = DATA / "transkribus-page2013-0002.xml"
ESCRIPTORIUM = DATA / "escriptorium-page2019-0003.xml"
NS13 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
HTR_CREATOR = (
    "prov=READ-COOP:name=PyLaia@TranskribusPlatform:version=0.7.6:model_id=36202:lm=none"
    ":date=12_10_2022_15:06\n"
    "prov=University of Rostock/Institute of Mathematics/CITlab:name=de.uros.citlab.module."
    "baseline2polygon.B2PSeamMultiOriented:v=2.6.7\n"
    "prov=READ-COOP:name=TrHtr:version=0.0.5:model_id=44522:date=03_11_2022_14:56"
)


def _read(path: Path):  # type: ignore[no-untyped-def]
    return read_page(parse_xml(path.read_bytes(), path.name), path.name)


def _transkribus(
    *,
    status: str = "DONE",
    creator: str = HTR_CREATOR,
    width: str = "2000",
    order: tuple[str, ...] = ("r1", "r2"),
    regions: str = "",
) -> bytes:
    """A PAGE 2013 file as Transkribus writes one: custom attributes, region text repeats lines."""
    refs = "".join(
        f'<RegionRefIndexed index="{index}" regionRef="{ref}"/>' for index, ref in enumerate(order)
    )
    regions = regions or (
        '<TextRegion id="r2" custom="readingOrder {index:1;}"><Coords points="0,500 900,500 900,900'
        ' 0,900"/><TextLine id="r2l1" custom="readingOrder {index:0;}"><Coords points="10,510'
        ' 800,510 800,560 10,560"/><Baseline points="10,550 800,550"/><TextEquiv><Unicode>둘째 '
        "줄</Unicode></TextEquiv></TextLine><TextEquiv><Unicode>둘째 줄</Unicode></TextEquiv>"
        "</TextRegion>"
        '<TextRegion id="r1" custom="readingOrder {index:0;}"><Coords points="0,0 900,0 900,400'
        ' 0,400"/><TextLine id="r1l1" custom="readingOrder {index:0;} person {offset:0;'
        ' length:3;}"><Coords points="10,10 800,10 800,60 10,60"/><Baseline points="10,50'
        ' 800,50"/><TextEquiv><Unicode>첫째 줄</Unicode></TextEquiv></TextLine><TextLine'
        ' id="r1l2"><Coords points="10,110 800,110 800,160 10,160"/><TextEquiv><Unicode>'
        "또 한 줄</Unicode></TextEquiv></TextLine><TextEquiv><Unicode>첫째 줄\r\n또 한 줄"
        "</Unicode></TextEquiv></TextRegion>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PcGts xmlns="{NS13}">'
        f"<Metadata><Creator>{creator}</Creator><Created>2022-02-08T11:27:17.990+01:00</Created>"
        "<LastChange>2022-11-08T13:38:02.902+01:00</LastChange>"
        f'<TranskribusMetadata docId="1" pageId="2" pageNr="1" status="{status}"/></Metadata>'
        f'<Page imageFilename="f017r.jpg" imageWidth="{width}" imageHeight="3000">'
        f'<ReadingOrder><OrderedGroup id="ro1" caption="Regions reading order">{refs}'
        f"</OrderedGroup></ReadingOrder>{regions}</Page></PcGts>"
    ).encode()


def test_transkribus_export_reads_each_line_once_with_its_own_text() -> None:
    transcript = _read(TRANSKRIBUS)
    root = etree.parse(str(TRANSKRIBUS)).getroot()
    expected = [
        unicodedata.normalize("NFC", line.findtext(f"{{{NS13}}}TextEquiv/{{{NS13}}}Unicode") or "")
        for line in root.iter(f"{{{NS13}}}TextLine")
    ]
    assert transcript.format == "page-2013"
    assert len(transcript.lines) == 35
    assert [line.text for line in transcript.lines] == expected
    assert transcript.lines[0].text == "Basler"
    assert not any("\r" in line.text or "\n" in line.text for line in transcript.lines)
    assert transcript.image_file == "0002.jpg"
    assert transcript.image_size == (2923, 3605)
    assert transcript.warnings == ()


def test_transkribus_export_geometry_is_the_lines_polygon_and_baseline() -> None:
    first = _read(TRANSKRIBUS).lines[0]
    assert first.id == "region_1665579736232_64l1"
    assert first.polygon[0] == (680.0, 348.0) and len(first.polygon) == 18
    assert first.baseline[0] == (692.0, 339.0) and len(first.baseline) == 9
    assert first.box == (680.0, 263.0, 916.0, 362.0)


def test_transkribus_done_page_is_human_with_the_htr_model_that_made_the_first_pass() -> None:
    provenance = _read(TRANSKRIBUS).provenance
    assert provenance.kind == "human"
    assert provenance.software == "TrHtr 0.0.5"  # the latest engine line, not the first listed
    assert provenance.model == "44522"
    assert provenance.creator == ""  # the person is not named in the file
    assert provenance.date == "2022-11-08T13:38:02.902+01:00"


def test_escriptorium_export_has_polygons_baselines_and_names_itself() -> None:
    transcript = _read(ESCRIPTORIUM)
    assert transcript.format == "page-2019"
    assert len(transcript.lines) == 19
    assert all(line.polygon and len(line.baseline) >= 2 for line in transcript.lines)
    assert transcript.lines[0].text == "Janvier 1742"
    assert transcript.lines[0].baseline == ((3560.0, 490.0), (5083.0, 504.0))
    assert transcript.provenance.creator == "escriptorium"
    assert transcript.provenance.software == "escriptorium"
    assert transcript.provenance.kind == "human"
    assert transcript.image_file == "0003.jpg" and transcript.image_size == (5680, 4180)


@pytest.mark.parametrize(
    ("status", "creator", "kind"),
    [
        pytest.param("GT", HTR_CREATOR, "human", id="ground-truth"),
        pytest.param("FINAL", HTR_CREATOR, "human", id="final"),
        pytest.param("DONE", HTR_CREATOR, "human", id="done"),
        pytest.param("NEW", HTR_CREATOR, "htr", id="new-after-htr"),
        pytest.param("IN_PROGRESS", HTR_CREATOR, "htr", id="in-progress-after-htr"),
        pytest.param("IN_PROGRESS", "Kim Minji", "human", id="typed-by-hand"),
        pytest.param("NEW", "Tesseract 5.3.0", "ocr", id="ocr-engine"),
    ],
)
def test_transkribus_status_and_creator_decide_the_kind(
    status: str, creator: str, kind: str
) -> None:
    root = parse_xml(_transkribus(status=status, creator=creator), "f017r.xml")
    provenance = read_page(root, "f017r.xml").provenance
    assert provenance.kind == kind
    if kind == "htr":
        assert (provenance.software, provenance.model) == ("TrHtr 0.0.5", "44522")
        assert provenance.creator == "READ-COOP"
    if creator == "Kim Minji":
        assert (provenance.creator, provenance.software) == ("Kim Minji", "")
    if kind == "ocr":
        assert provenance.software == provenance.creator == "Tesseract 5.3.0"


def test_fixture_follows_the_schema_as_transkribus_does() -> None:
    assert validate(parse_xml(_transkribus(), "f017r.xml")) == []


def test_regions_follow_the_reading_order_and_region_text_is_not_read() -> None:
    transcript = read_page(parse_xml(_transkribus(), "f017r.xml"), "f017r.xml")
    assert [line.text for line in transcript.lines] == ["첫째 줄", "또 한 줄", "둘째 줄"]
    assert transcript.lines[1].baseline == ()
    reordered = read_page(parse_xml(_transkribus(order=("r2", "r1")), "a.xml"), "a.xml")
    assert [line.id for line in reordered.lines] == ["r2l1", "r1l1", "r1l2"]
    unordered = read_page(parse_xml(_transkribus(order=()), "a.xml"), "a.xml")
    assert [line.id for line in unordered.lines] == ["r2l1", "r1l1", "r1l2"]  # document order


def _one_line(line_body: str) -> bytes:
    return _transkribus(
        order=("r1",),
        regions=(
            '<TextRegion id="r1"><Coords points="0,0 9,0 9,9 0,9"/><TextLine id="l1">'
            f'<Coords points="1,1 8,1 8,8 1,8"/>{line_body}</TextLine></TextRegion>'
        ),
    )


def test_the_primary_reading_its_confidence_and_nfc_text() -> None:
    decomposed = unicodedata.normalize("NFD", "한글")
    body = (
        '<TextEquiv index="2" conf="0.4"><Unicode>다른 읽기</Unicode></TextEquiv>'
        f'<TextEquiv index="1" conf="0.87"><Unicode>{decomposed}</Unicode></TextEquiv>'
    )
    line = read_page(parse_xml(_one_line(body), "a.xml"), "a.xml").lines[0]
    assert line.text == "한글" and line.text == unicodedata.normalize("NFC", line.text)
    assert line.confidence == pytest.approx(0.87)


def test_words_give_the_text_only_when_the_line_has_none() -> None:
    words = "".join(
        f'<Word id="w{n}"><Coords points="1,1 2,1 2,2 1,2"/><TextEquiv index="2"><Unicode>?'
        f'</Unicode></TextEquiv><TextEquiv index="1"><Unicode>{text}</Unicode></TextEquiv></Word>'
        for n, text in enumerate(["인물", "전기"])
    )
    line = read_page(parse_xml(_one_line(words), "a.xml"), "a.xml").lines[0]
    assert line.text == "인물 전기" and line.confidence is None
    both = words + "<TextEquiv><Unicode>인물전기</Unicode></TextEquiv>"
    assert read_page(parse_xml(_one_line(both), "a.xml"), "a.xml").lines[0].text == "인물전기"


def test_a_line_without_text_is_left_out_and_said_so() -> None:
    transcript = read_page(parse_xml(_one_line(""), "f017r.xml"), "f017r.xml")
    assert transcript.lines == ()
    assert transcript.warnings == ("f017r.xml: 1 lines without text left out",)


@pytest.mark.parametrize(
    ("width", "shown"),
    [pytest.param("0", "'0'", id="zero"), pytest.param("", "missing", id="missing")],
)
def test_a_missing_or_zero_image_size_is_one_line_naming_the_file(width: str, shown: str) -> None:
    data = _transkribus(width=width)
    if not width:
        data = data.replace(b' imageWidth=""', b"")
    with pytest.raises(TranscriptError) as info:
        read_page(parse_xml(data, "f017r.xml"), "f017r.xml")
    message = str(info.value)
    assert message == (f"f017r.xml: Page/@imageWidth is {shown}: the image size must be given")
    assert "\n" not in message


def test_unreadable_points_name_the_file_and_line() -> None:
    bad = _one_line("<Baseline points='1,1 x'/><TextEquiv><Unicode>a</Unicode></TextEquiv>")
    with pytest.raises(TranscriptError, match=r"^a\.xml: line l1: points are not"):
        read_page(parse_xml(bad, "a.xml"), "a.xml")


def test_a_file_that_is_not_page_is_refused() -> None:
    with pytest.raises(TranscriptError, match=r"^x\.xml: not PAGE 2013/2019"):
        read_page(etree.fromstring(b"<alto/>"), "x.xml")


def test_nested_reading_order_groups_are_followed_by_index() -> None:
    data = _transkribus().replace(
        b'<RegionRefIndexed index="0" regionRef="r1"/><RegionRefIndexed index="1" regionRef="r2"/>',
        b'<OrderedGroupIndexed id="g1" index="0"><RegionRefIndexed index="1" regionRef="r1"/>'
        b'<RegionRefIndexed index="0" regionRef="r2"/></OrderedGroupIndexed>',
    )
    root = parse_xml(data, "a.xml")
    assert validate(root) == []
    assert [line.id for line in read_page(root, "a.xml").lines] == ["r2l1", "r1l1", "r1l2"]
