"""A transcription file's format from its content, and the one-line errors for unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.sniff import decode, detect, parse_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"

# As tesseract 5 writes hOCR (XHTML 1.0 Transitional), shortened.
HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract 5.3.0' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word'/>
 </head>
 <body>
  <div class='ocr_page' id='page_1' title='image "f017r.png"; bbox 0 0 1240 1754; ppageno 0'>
   <span class='ocr_line' id='line_1_1' title="bbox 100 100 400 140; baseline 0 -8">
    <span class='ocrx_word' id='word_1_1' title='bbox 100 100 170 140; x_wconf 93'>인물</span>
   </span>
  </div>
 </body>
</html>
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("transkribus-page2013-0002.xml", "page-2013"),
        ("escriptorium-page2019-0003.xml", "page-2019"),
        ("escriptorium-alto4-0003.xml", "alto-4"),
        ("abbyy-alto2-PPN750717092-00000780.xml", "alto-2"),  # starts with a byte-order mark
    ],
)
def test_real_exports_are_told_apart_by_content(name: str, expected: str) -> None:
    data = (DATA / name).read_bytes()
    assert detect(data, name) == expected
    assert detect(data, "renamed.txt") == expected  # the name plays no part


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(HOCR.encode(), "hocr", id="tesseract-hocr"),
        pytest.param(
            b"<!DOCTYPE html><html><body><div class=ocr_page><p class='ocr_page x'>a<br></div>",
            "hocr",
            id="html-hocr-not-xml",
        ),
        pytest.param(
            b'<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"/>', "alto-3", id="alto-3"
        ),
        pytest.param("인물 전기\n둘째 줄\n".encode(), "text", id="plain-text"),
        pytest.param("\ufeff인물 전기\n".encode(), "text", id="text-with-bom"),
        pytest.param(b"", "text", id="empty"),
    ],
)
def test_hocr_alto_and_plain_text_are_detected(data: bytes, expected: str) -> None:
    assert detect(data, "f017r") == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            "Caf\u00e9 line\n".encode("latin-1"),
            "f017r.txt: not UTF-8 text: byte 0xe9 at offset 3 (save the file as UTF-8)",
            id="latin-1",
        ),
        pytest.param(
            b'<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
            b"<Page></PcGts>",
            "f017r.txt: malformed XML: Opening and ending tag mismatch: Page line 1 and PcGts",
            id="malformed",
        ),
        pytest.param(
            b'<mets xmlns="http://www.loc.gov/METS/"/>',
            "f017r.txt: root element mets in namespace http://www.loc.gov/METS/ is not"
            " PAGE 2013/2019, ALTO 2-4, hOCR or plain text",
            id="other-xml",
        ),
        pytest.param(
            b"<html><body><p>no hOCR here</p></body></html>",
            "f017r.txt: root element html is not PAGE 2013/2019, ALTO 2-4, hOCR or plain text",
            id="html-without-hocr",
        ),
    ],
)
def test_unreadable_files_are_one_line_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(TranscriptError) as info:
        detect(data, "f017r.txt")
    assert str(info.value).startswith(message)  # libxml2 adds the column
    assert "\n" not in str(info.value)


def test_parse_xml_reads_a_bom_and_refuses_malformed_xml_in_one_line() -> None:
    abbyy = DATA / "abbyy-alto2-PPN750717092-00000780.xml"
    assert abbyy.read_bytes().startswith(b"\xef\xbb\xbf")
    assert parse_xml(abbyy.read_bytes(), abbyy.name).tag.endswith("}alto")
    with pytest.raises(TranscriptError, match=r"^a\.xml: malformed XML: .*line 1") as info:
        parse_xml(b"<PcGts><Page></PcGts>", "a.xml")
    assert "\n" not in str(info.value)


def test_entities_are_not_expanded_nor_fetched() -> None:
    evil = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><alto>&e;</alto>'
    assert (parse_xml(evil, "a.xml").text or "") == ""


def test_decode_strips_the_byte_order_mark() -> None:
    assert decode("\ufeff첫째 줄".encode(), "a.txt") == "첫째 줄"
