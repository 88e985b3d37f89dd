"""Plain-text transcriptions: line endings, byte-order mark, blank lines, NFC, empty files."""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.input.transcripts.plain import read_plain


def test_crlf_bom_and_blank_lines_give_one_line_per_written_line() -> None:
    raw = "\ufeff인물전기 제1권\r\n\r\n김 철수는\r\n   \r\n평양에서 태어났다.\r\n".encode()
    t = read_plain(raw.decode("utf-8"), "p001.txt")
    assert [line.text for line in t.lines] == ["인물전기 제1권", "김 철수는", "평양에서 태어났다."]
    assert t.format == "text"
    assert t.source == "p001.txt"
    assert t.warnings == ()


def test_lf_and_no_final_newline_read_the_same() -> None:
    with_newline = read_plain("첫째 줄\n둘째 줄\n", "a.txt")
    without = read_plain("첫째 줄\n둘째 줄", "a.txt")
    assert with_newline.lines == without.lines
    assert len(with_newline.lines) == 2


def test_lines_are_nfc_without_geometry_and_made_by_a_human() -> None:
    decomposed = unicodedata.normalize("NFD", "한글 Ёлка")
    t = read_plain(decomposed + "\n", "a.txt")
    (line,) = t.lines
    assert line.text == unicodedata.normalize("NFC", "한글 Ёлка")
    assert (line.box, line.polygon, line.baseline) == (None, (), ())
    assert (t.provenance.kind, t.provenance.creator) == ("human", "")
    assert t.image_size is None


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n\r\n", "  \n\t\n"])
def test_an_empty_file_is_a_blank_page_with_a_warning(text: str) -> None:
    t = read_plain(text, "p002.txt")
    assert t.lines == ()
    assert t.warnings == ("p002.txt: empty transcription: a blank page?",)
