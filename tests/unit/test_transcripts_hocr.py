"""hOCR transcriptions: a page written by real tesseract, OCRopus-style HTML, bad files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.hocr import read_hocr
from pipeline.input.transcripts.model import Transcript
from pipeline.ocr import hocr
from pipeline.samples import HEADER_PHRASE, generate_volume

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def read(text: str, source: str = "p.hocr") -> Transcript:
    return read_hocr(etree.fromstring(text.encode(), PARSER), source)


@pytest.mark.tesseract
def test_a_page_written_by_tesseract_reads_back_with_its_boxes(
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
        ["tesseract", str(image), str(tmp_path / "p001"), "-l", "kor", "hocr"],
        check=True,
        capture_output=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    raw = (tmp_path / "p001.hocr").read_bytes()
    t = read_hocr(etree.fromstring(raw, PARSER), "p001.hocr")
    expected = hocr.parse(raw.decode("utf-8"))
    assert t.format == "hocr"
    assert t.image_size == (1240, 1754) == (expected.width, expected.height)
    assert t.image_file == "p001.tif"
    assert [line.box for line in t.lines] == [line.bbox for line in expected.lines]
    assert len(t.lines) >= 5
    # Tesseract splits Korean words into syllables: look for the phrase without spaces.
    assert any(HEADER_PHRASE in "".join(line.text.split()) for line in t.lines)
    assert t.provenance.kind == "ocr"
    assert t.provenance.software.startswith("tesseract ")
    for line in t.lines:
        assert line.language == "ko"
        assert line.confidence is not None
        assert 0.3 < line.confidence <= 1
        assert len(line.baseline) == 2
        assert line.box is not None
        assert line.box[0] <= line.baseline[0][0] < line.baseline[1][0] <= line.box[2]


OCROPUS = """<html><head><meta name="ocr-system" content="ocropus 1.0"/></head><body>
<div class="ocr_page" title="bbox 0 0 2000 3000; image &quot;C:\\scans\\f017r.png&quot;">
 <span class="ocr_header" title="bbox 100 200 500 240; baseline 0.01 -5" lang="ru">Глава  I</span>
 <span class="ocr_line" title="bbox 100 300 900 340"><span class="ocr_line">ин</span>ner</span>
 <span class="ocr_caption" xml:lang="ko" title="bbox 10 10 20 20"> </span>
 <p lang="kor"><span class="ocr_textfloat" title="bbox 1 2 3 4">가</span></p>
</div></body></html>"""


def test_ocropus_style_html_without_namespace_or_words() -> None:
    t = read(OCROPUS)
    assert t.image_size == (2000, 3000)
    assert t.image_file == "f017r.png"
    assert t.provenance.software == "ocropus 1.0"
    header, line, floating = t.lines
    assert (header.text, header.language, header.box) == ("Глава I", "ru", (100, 200, 500, 240))
    assert header.baseline == ((100, 235), (500, 239))
    assert header.confidence is None
    # An inner line is part of its outer line; an empty caption is left out.
    assert (line.text, line.baseline) == ("инner", ())
    assert (floating.text, floating.language) == ("가", "ko")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("<html><body/></html>", "0 hOCR ocr_page elements", id="no-page"),
        pytest.param(
            '<html><div class="ocr_page" title="bbox 0 0 9 9"/>'
            '<div class="ocr_page" title="bbox 0 0 9 9"/></html>',
            "2 hOCR ocr_page elements",
            id="two-pages",
        ),
        pytest.param(
            '<html><div class="ocr_page" title="image &quot;a.png&quot;"/></html>',
            "no bbox with the image size",
            id="no-size",
        ),
        pytest.param(
            '<html><div class="ocr_page" title="bbox 0 0 0 0"/></html>',
            "no bbox with the image size",
            id="zero-size",
        ),
        pytest.param(
            '<html><div class="ocr_page" title="bbox 0 0 9 9">'
            '<span class="ocr_line" title="bbox 1 2 x 4">a</span></div></html>',
            "bbox '1 2 x 4' is not four numbers",
            id="bad-bbox",
        ),
        pytest.param(
            '<html><div class="ocr_page" title="bbox 0 0 9 9">'
            '<span class="ocr_line" title="bbox 1 2 3 4"><span class="ocrx_word" '
            'title="bbox 1 2 3 4; x_wconf high">a</span></span></div></html>',
            "x_wconf 'high' is not a number",
            id="bad-confidence",
        ),
    ],
)
def test_bad_files_are_one_line_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        read(text)
    assert str(caught.value).startswith("p.hocr: ")
    assert message in str(caught.value)
