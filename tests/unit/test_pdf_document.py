"""The PDF writer: text a real reader (poppler) extracts, qpdf's check, outline, metadata, bytes."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
import pyvips

from pipeline.ocr import tesseract
from pipeline.pdf.document import Bookmark, DocumentInfo, Page, PageImage, TextLine, build_pdf
from pipeline.publish.media import content_type
from tests.conftest import require

KOREAN = "인물전기 제1권 로은희는 1941년"
RUSSIAN = "Иван Петрович Сидоров"
# Canvas 1200 x 1600 px shown on a 288 x 384 pt page (x 0.24).
CANVAS = (1200, 1600)
SIZE = (288.0, 384.0)


@pytest.fixture(scope="module")
def font() -> bytes:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    return tesseract.glyphless_font().read_bytes()


@pytest.fixture(scope="module")
def poppler() -> None:
    for tool in ("pdftotext", "qpdf"):
        require(
            shutil.which(tool) is not None, f"{tool} is not installed (apt: poppler-utils, qpdf)"
        )


def _image(grey: int = 230) -> PageImage:
    jpeg = (pyvips.Image.black(300, 400) + grey).cast("uchar").jpegsave_buffer(Q=80)
    return PageImage(jpeg=jpeg, width=300, height=400, bands=1)


def _page(*lines: TextLine) -> Page:
    return Page(image=_image(), size=SIZE, canvas=CANVAS, lines=tuple(lines))


LINES = (
    TextLine(KOREAN, (100, 100, 1100, 180)),
    TextLine(RUSSIAN, (100, 300, 900, 360)),
    TextLine("김 철 수", (100, 500, 400, 560)),
)


def _write(tmp_path: Path, data: bytes, name: str = "out.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _text(path: Path, page: int) -> list[str]:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        check=True,
    )
    return [line for line in done.stdout.decode("utf-8").splitlines() if line.strip(" \f")]


def _words(path: Path) -> list[tuple[float, float, float, float, str]]:
    done = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    )
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        (float(a), float(b), float(c), float(d), w)
        for a, b, c, d, w in re.findall(pattern, done.stdout)
    ]


def test_a_reader_extracts_each_line_in_order_as_hangul_and_cyrillic(
    tmp_path: Path, font: bytes, poppler: None
) -> None:
    data = build_pdf([_page(*LINES), _page()], info=DocumentInfo(title="t"), font=font)
    path = _write(tmp_path, data)
    assert _text(path, 1) == [KOREAN, RUSSIAN, "김 철 수"]
    assert _text(path, 2) == []
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout


def test_each_line_spans_its_box_scaled_to_the_page(
    tmp_path: Path, font: bytes, poppler: None
) -> None:
    path = _write(tmp_path, build_pdf([_page(*LINES)], info=DocumentInfo(title="t"), font=font))
    words = _words(path)
    scale = SIZE[0] / CANVAS[0]
    for line in LINES:
        on_line = [w for w in words if w[4] in line.text.split()]
        x0, y0, x1, y1 = line.box
        # Its first word starts at the box's left edge, its last ends at the right one.
        first = min(on_line, key=lambda w: w[0])
        last = max(on_line, key=lambda w: w[2])
        assert first[0] == pytest.approx(x0 * scale, abs=0.5)
        assert last[2] == pytest.approx(x1 * scale, abs=0.5)
        assert first[3] == pytest.approx(y1 * scale, abs=0.5)
        assert first[1] == pytest.approx(y0 * scale, abs=0.5)


def test_same_inputs_give_the_same_bytes_and_others_another_id(font: bytes) -> None:
    info = DocumentInfo(title="인물전기", author="김철수", lang="ko")
    one = build_pdf([_page(*LINES)], info=info, font=font)
    two = build_pdf([_page(*LINES)], info=info, font=font)
    other = build_pdf([_page(*LINES[:2])], info=info, font=font)
    assert one == two
    ids = [pikepdf.open(io.BytesIO(d)).trailer.ID[0] for d in (one, other)]
    assert ids[0] != ids[1]
    assert b"CreationDate" not in one and b"ModDate" not in one


def test_pages_without_text_and_a_pdf_without_font_are_images_only(font: bytes) -> None:
    mixed = pikepdf.open(
        io.BytesIO(build_pdf([_page(*LINES), _page()], info=DocumentInfo("t"), font=font))
    )
    assert "/Font" in mixed.pages[0].Resources
    assert "/Font" not in mixed.pages[1].Resources
    bare = pikepdf.open(io.BytesIO(build_pdf([_page(*LINES)], info=DocumentInfo("t"), font=None)))
    assert "/Font" not in bare.pages[0].Resources
    assert b"BT" not in bare.pages[0].Contents.read_bytes()
    image = bare.pages[0].Resources.XObject.Im0
    assert image.Filter == pikepdf.Name.DCTDecode
    assert image.read_raw_bytes() == _image().jpeg  # the JPEG as it was, not re-encoded


def test_bookmarks_metadata_language_and_direction(font: bytes) -> None:
    marks = [
        Bookmark("의사 로은희", 0, (Bookmark("어린 시절", 1),)),
        Bookmark("로동자 김철민", 2),
    ]
    info = DocumentInfo(
        title="인물전기 제1권",
        author="편찬조",
        keywords="전기; 의사",
        lang="ko",
        right_to_left=True,
    )
    pages = [_page(*LINES), _page(), _page()]
    pdf = pikepdf.open(io.BytesIO(build_pdf(pages, info=info, bookmarks=marks, font=font)))
    with pdf.open_outline() as outline:
        top = outline.root
        assert [i.title for i in top] == ["의사 로은희", "로동자 김철민"]
        assert [i.title for i in top[0].children] == ["어린 시절"]
        targets = [top[0].destination[0], top[0].children[0].destination[0], top[1].destination[0]]
    assert [pdf.pages.index(pikepdf.Page(t)) for t in targets] == [0, 1, 2]
    assert str(pdf.docinfo.Title) == "인물전기 제1권"
    assert str(pdf.docinfo.Author) == "편찬조"
    assert str(pdf.docinfo.Keywords) == "전기; 의사"
    assert str(pdf.Root.Lang) == "ko"
    assert pdf.Root.ViewerPreferences.Direction == pikepdf.Name.R2L
    assert pdf.Root.PageMode == pikepdf.Name.UseOutlines


def test_a_line_in_another_language_is_marked_with_it(
    tmp_path: Path, font: bytes, poppler: None
) -> None:
    page = _page(
        TextLine(KOREAN, (100, 100, 900, 160), "ko"),
        TextLine(RUSSIAN, (100, 300, 900, 360), "ru"),
        TextLine("김 철 수", (100, 500, 400, 560)),
    )
    data = build_pdf([page], info=DocumentInfo("t", lang="ko"), font=font)
    pdf = pikepdf.open(io.BytesIO(data))
    ops = pikepdf.parse_content_stream(pdf.pages[0])
    names = [str(i.operator) for i in ops]
    marked = [i for i in ops if str(i.operator) == "BDC"]
    assert len(marked) == 1 and str(marked[0].operands[1].Lang) == "ru"
    # Marked inside the text object, around the Russian line's text only.
    start = names.index("BDC")
    assert names.index("BT") < start < names.index("EMC") < names.index("ET")
    assert names[start:].index("EMC") == 5  # Tf, Tz, Tm, Tj
    assert _text(_write(tmp_path, data), 1) == [KOREAN, RUSSIAN, "김 철 수"]


def test_no_pages_or_other_colour_models_are_refused(font: bytes) -> None:
    with pytest.raises(ValueError, match="at least one page"):
        build_pdf([], info=DocumentInfo("t"), font=font)
    cmyk = PageImage(jpeg=b"", width=1, height=1, bands=4)
    with pytest.raises(ValueError, match="4 bands"):
        build_pdf([Page(cmyk, SIZE, CANVAS)], info=DocumentInfo("t"), font=font)


def test_the_pdf_is_published_as_application_pdf() -> None:
    assert content_type("vol-1/vol-1.pdf") == "application/pdf"


def test_a_vertical_line_runs_down_its_column(tmp_path: Path, font: bytes, poppler: None) -> None:
    column = TextLine("인물전기", (500, 100, 580, 420))
    path = _write(tmp_path, build_pdf([_page(column)], info=DocumentInfo("t"), font=font))
    assert _text(path, 1) == ["인물전기"]
    ((x_min, y_min, x_max, y_max, word),) = _words(path)
    scale = SIZE[0] / CANVAS[0]
    assert word == "인물전기"
    assert (x_min, x_max) == (
        pytest.approx(500 * scale, abs=0.5),
        pytest.approx(580 * scale, abs=0.5),
    )
    assert (y_min, y_max) == (
        pytest.approx(100 * scale, abs=0.5),
        pytest.approx(420 * scale, abs=0.5),
    )
