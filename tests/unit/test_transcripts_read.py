"""Reading any transcription file: the format from its content, the schema checked first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.read import read_transcript

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"

EXPECTED = {
    # file: (format, lines, declared image size, kind, software)
    "transkribus-page2013-0002.xml": ("page-2013", 35, (2923, 3605), "human", "TrHtr 0.0.5"),
    "escriptorium-page2019-0003.xml": ("page-2019", 19, (5680, 4180), "human", "escriptorium"),
    "escriptorium-alto4-0003.xml": ("alto-4", 19, (5680, 4180), "human", "escriptorium"),
    "abbyy-alto2-PPN750717092-00000780.xml": (
        "alto-2",
        60,
        (2217, 3629),
        "ocr",
        "ABBYY FineReader Engine 11",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_real_export_is_read_whatever_its_name(tmp_path: Path, name: str) -> None:
    # Renamed to something that says nothing: the content decides the format.
    copy = tmp_path / "p001.dat"
    shutil.copyfile(DATA / name, copy)
    t = read_transcript(copy)
    kind, count, size, who, software = EXPECTED[name]
    assert (t.format, len(t.lines), t.image_size) == (kind, count, size)
    assert (t.provenance.kind, t.provenance.software) == (who, software)
    assert all(line.text and line.box is not None for line in t.lines)


def test_the_two_exports_of_one_escriptorium_page_agree() -> None:
    page = read_transcript(DATA / "escriptorium-page2019-0003.xml")
    alto = read_transcript(DATA / "escriptorium-alto4-0003.xml")
    assert [line.text for line in page.lines] == [line.text for line in alto.lines]
    assert (page.provenance.kind, page.provenance.software) == ("human", "escriptorium")
    assert (alto.provenance.kind, alto.provenance.software) == ("human", "escriptorium")


def test_a_file_against_its_schema_is_one_line_naming_it(tmp_path: Path) -> None:
    text = (DATA / "escriptorium-page2019-0003.xml").read_text(encoding="utf-8")
    bad = tmp_path / "p002.xml"
    bad.write_text(text.replace("<TextLine ", '<TextLine colour="red" ', 1), encoding="utf-8")
    with pytest.raises(TranscriptError) as err:
        read_transcript(bad)
    message = str(err.value)
    assert message.startswith("p002.xml: not valid page-2019: line ") and "\n" not in message


def test_hocr_that_is_not_xml_is_read_as_html(tmp_path: Path) -> None:
    page = tmp_path / "p003.html"
    page.write_text(
        "<html><body><div class='ocr_page' title='bbox 0 0 200 100'>"
        "<span class='ocr_line' title='bbox 10 10 190 40'>"
        "<span class='ocrx_word' title='bbox 10 10 90 40; x_wconf 90'>력사의</span> "
        "<span class='ocrx_word' title='bbox 100 10 190 40; x_wconf 80'>기록<br>"
        "</span></span></div></body></html>",
        encoding="utf-8",
    )
    t = read_transcript(page)
    assert t.format == "hocr" and [line.text for line in t.lines] == ["력사의 기록"]
    assert t.lines[0].box == (10, 10, 190, 40) and t.image_size == (200, 100)


def test_plain_text_and_unreadable_files(tmp_path: Path) -> None:
    text = tmp_path / "p004.txt"
    text.write_bytes("\ufeff로동신문\r\n\r\n력사\r\n".encode())
    t = read_transcript(text)
    assert (t.format, [line.text for line in t.lines]) == ("text", ["로동신문", "력사"])
    latin = tmp_path / "p005.txt"
    latin.write_bytes("Caf\xe9".encode("latin-1"))
    with pytest.raises(TranscriptError, match=r"^p005\.txt: not UTF-8 text: byte 0xe9"):
        read_transcript(latin)
    with pytest.raises(TranscriptError, match=r"^p006\.xml: cannot read the file"):
        read_transcript(tmp_path / "p006.xml")
