"""PAGE and ALTO checked against the shipped XSDs, offline, tolerating what real exports do."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from lxml import etree

from pipeline.input.transcripts import schemas
from pipeline.input.transcripts.schemas import alto_schema_name, load, validate
from pipeline.input.transcripts.sniff import parse_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"
NS13 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
ALTO = "http://www.loc.gov/standards/alto/ns-v{}#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _root(name: str) -> etree._Element:
    return parse_xml((DATA / name).read_bytes(), name)


@pytest.mark.parametrize(
    "name",
    [
        "transkribus-page2013-0002.xml",
        "escriptorium-page2019-0003.xml",
        "escriptorium-alto4-0003.xml",
        "abbyy-alto2-PPN750717092-00000780.xml",
    ],
)
def test_real_exports_validate(name: str) -> None:
    assert validate(_root(name)) == []


def test_transkribus_metadata_is_tolerated_on_a_copy_and_said_at_debug_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = _root("transkribus-page2013-0002.xml")
    schema = load("pagecontent-2013-07-15.xsd")
    assert not schema.validate(root)  # the schema itself forbids the element
    with caplog.at_level(logging.DEBUG, logger=schemas.__name__):
        assert validate(root) == []
    assert "TranskribusMetadata" in caplog.text
    assert root.find(f"{{{NS13}}}Metadata/{{{NS13}}}TranskribusMetadata") is not None


def test_problems_are_one_line_each_with_the_line_number_and_capped() -> None:
    root = _root("escriptorium-page2019-0003.xml")
    page = root[1]
    page.set("imageWidth", "wide")
    assert validate(root) == [
        "line 9: Element '{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}Page',"
        " attribute 'imageWidth': 'wide' is not a valid value of the atomic type 'xs:int'."
        " (pagecontent-2019-07-15.xsd)"
    ]
    for line in root.iter("{*}TextLine"):
        line.set("bogus", "1")
    problems = validate(root)
    assert len(problems) == schemas.MAX_PROBLEMS + 1
    assert problems[-1] == f"... and {20 - schemas.MAX_PROBLEMS} more schema problems"
    assert all("\n" not in problem for problem in problems)


LOC = f"{{{XSI}}}schemaLocation"


@pytest.mark.parametrize(
    ("major", "attributes", "expected"),
    [
        pytest.param(
            2, {LOC: "x http://www.loc.gov/standards/alto/alto-v2.0.xsd"}, "alto-2-0.xsd", id="2.0"
        ),
        pytest.param(2, {}, "alto-2-1.xsd", id="v2-undeclared"),
        pytest.param(
            3, {LOC: "x http://www.loc.gov/alto/v3/alto-3-0.xsd"}, "alto-3-0.xsd", id="tesseract"
        ),
        pytest.param(3, {"SCHEMAVERSION": "3.1"}, "alto-3-1.xsd", id="schemaversion-3.1"),
        pytest.param(
            4,
            {LOC: "x http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"},
            "alto-4-2.xsd",
            id="4.2",
        ),
        pytest.param(4, {"SCHEMAVERSION": "4.3"}, "alto-4-4.xsd", id="unshipped-minor"),
        pytest.param(4, {}, "alto-4-4.xsd", id="v4-undeclared"),
    ],
)
def test_alto_files_get_the_schema_of_their_declared_version(
    major: int, attributes: dict[str, str], expected: str
) -> None:
    root = etree.Element(f"{{{ALTO.format(major)}}}alto", attributes)
    assert alto_schema_name(root) == expected


def test_a_tidy_alto_3_validates_and_a_broken_one_does_not() -> None:
    ns = ALTO.format(3)
    text = (
        f'<alto xmlns="{ns}"><Layout><Page ID="p1" HEIGHT="100" WIDTH="100" PHYSICAL_IMG_NR="1">'
        '<PrintSpace><TextBlock ID="b1"><TextLine ID="l1" HPOS="1" VPOS="1" WIDTH="9" HEIGHT="9">'
        '<String CONTENT="인물" HPOS="1" VPOS="1" WIDTH="9" HEIGHT="9"/></TextLine></TextBlock>'
        "</PrintSpace></Page></Layout></alto>"
    )
    assert validate(etree.fromstring(text)) == []
    broken = validate(etree.fromstring(text.replace('CONTENT="인물" ', "")))
    assert len(broken) == 1 and "CONTENT" in broken[0] and broken[0].endswith("(alto-3-1.xsd)")


def test_an_unknown_root_is_a_problem_not_a_crash() -> None:
    assert validate(etree.fromstring(b"<html/>")) == [
        "not PAGE 2013/2019 or ALTO 2-4: root element html"
    ]


def test_schemas_are_parsed_once_per_process() -> None:
    assert load("alto-4-4.xsd") is load("alto-4-4.xsd")


def test_every_shipped_schema_loads_offline_and_is_listed_in_sources() -> None:
    sources = (schemas.SCHEMAS / "SOURCES.md").read_text(encoding="utf-8")
    names = sorted(path.name for path in schemas.SCHEMAS.glob("*.xsd"))
    assert len(names) == 9
    for name in names:
        assert f"| {name} |" in sources
        if name != "xlink.xsd":
            assert isinstance(load(name), etree.XMLSchema)


def test_transkribus_metadata_is_tolerated_in_page_2019_as_well() -> None:
    root = _root("escriptorium-page2019-0003.xml")
    metadata = root[0]
    etree.SubElement(metadata, f"{{{etree.QName(root).namespace}}}TranskribusMetadata", status="GT")
    assert not load("pagecontent-2019-07-15.xsd").validate(root)
    assert validate(root) == []
