"""Assemble a PDF with pikepdf: one JPEG per page, an invisible text layer, bookmarks, metadata.

The text of each line sits on the line's box (canvas pixels scaled to the page) in render mode
3 (invisible), stretched horizontally (``Tz``) so that it spans the box: selecting a line in a
reader highlights the handwriting under it. The bytes depend on the inputs only: no dates, and
the file identifier is a digest of the content (``deterministic_id``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator

from pipeline.pdf.font import advance, glyphless_font

#: A content-stream operation: operands (numbers pikepdf converts, names, strings), operator.
Op = tuple[list[Any], Operator]

FONT = Name.F0
IMAGE = Name.Im0
COLOUR_SPACES = {1: Name.DeviceGray, 3: Name.DeviceRGB}
#: A line box this many times taller than wide holds a vertical line of text.
VERTICAL_RATIO = 1.5


@dataclass(frozen=True)
class TextLine:
    """A line of text, its box on the canvas (``(x0, y0, x1, y1)`` in pixels, y down), language."""

    text: str
    box: tuple[int, int, int, int]
    lang: str = ""


@dataclass(frozen=True)
class PageImage:
    """A baseline or progressive JPEG, embedded as it is (``DCTDecode``)."""

    jpeg: bytes
    width: int
    height: int
    bands: int


@dataclass(frozen=True)
class Page:
    """One page: its image, its size in points, its canvas size and its lines."""

    image: PageImage
    size: tuple[float, float]
    canvas: tuple[int, int]
    lines: tuple[TextLine, ...] = ()


@dataclass(frozen=True)
class Bookmark:
    """An outline entry opening ``page`` (0-based), with nested entries."""

    title: str
    page: int
    children: tuple[Bookmark, ...] = ()


@dataclass(frozen=True)
class DocumentInfo:
    """The document's title, author, keywords, language (BCP 47) and reading direction."""

    title: str
    author: str = ""
    keywords: str = ""
    lang: str = ""
    right_to_left: bool = False


def _num(value: float) -> Decimal:
    """A number as written in content streams: two decimals, the same bytes every time."""
    return Decimal(f"{value:.2f}")


def _utf16(text: str) -> pikepdf.String:
    """The text as Identity-H codes: its UTF-16BE code units (the ToUnicode CMap's inverse)."""
    return pikepdf.String(text.encode("utf-16-be"))


def _line_ops(text: str, box: tuple[float, float, float, float], height: float) -> list[Op]:
    """Show ``text`` over a box given in points (y down), filling it; nothing if it is empty.

    A box taller than wide holds a vertical line (``kor_vert``): its text runs down the
    column, rotated as tesseract's own PDF does, so that selecting it follows the column.
    """
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return []
    vertical = y1 - y0 > VERTICAL_RATIO * (x1 - x0)
    # The font size is the box's thickness; the stretch makes the text span its length.
    size, length = (x1 - x0, y1 - y0) if vertical else (y1 - y0, x1 - x0)
    stretch = 100 * length / (advance(text) / 1000 * size)
    # Horizontal: the baseline on the box's bottom edge, the glyphs (0 to 1000) fill the box.
    # Vertical: the baseline down the left edge from the top, the glyphs reaching right.
    matrix = [0, -1, 1, 0, x0, height - y0] if vertical else [1, 0, 0, 1, x0, height - y1]
    return [
        ([FONT, _num(size)], Operator("Tf")),
        ([_num(stretch)], Operator("Tz")),
        ([_num(v) for v in matrix], Operator("Tm")),
        ([_utf16(text)], Operator("Tj")),
    ]


def _text_ops(page: Page, lang: str) -> list[Op]:
    """The content-stream operations of a page's invisible text, one line at a time.

    A line in another language than the document's (``lang``) is marked with its own.
    """
    width, height = page.size
    sx, sy = width / page.canvas[0], height / page.canvas[1]
    ops: list[Op] = []
    for line in page.lines:
        text = " ".join(line.text.split())
        x0, y0, x1, y1 = line.box
        shown = _line_ops(text, (x0 * sx, y0 * sy, x1 * sx, y1 * sy), height) if text else []
        if shown and line.lang and line.lang != lang:
            span = Dictionary(Lang=pikepdf.String(line.lang))
            shown = [([Name.Span, span], Operator("BDC")), *shown, ([], Operator("EMC"))]
        ops += shown
    if not ops:
        return []
    return [([], Operator("BT")), ([3], Operator("Tr")), *ops, ([], Operator("ET"))]


def _add_page(pdf: pikepdf.Pdf, page: Page, font: pikepdf.Object | None, lang: str) -> None:
    img = page.image
    image = pikepdf.Stream(
        pdf,
        img.jpeg,
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=img.width,
        Height=img.height,
        ColorSpace=COLOUR_SPACES[img.bands],
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
    )
    width, height = page.size
    ops: list[Op] = [
        ([], Operator("q")),
        ([_num(width), 0, 0, _num(height), 0, 0], Operator("cm")),
        ([IMAGE], Operator("Do")),
        ([], Operator("Q")),
    ]
    text = _text_ops(page, lang) if font is not None else []
    resources = Dictionary(XObject=Dictionary({str(IMAGE): image}))
    if text:
        resources.Font = Dictionary({str(FONT): font})
    content = pikepdf.unparse_content_stream([*ops, *text])
    pdf.pages.append(
        pikepdf.Page(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, _num(width), _num(height)]),
                Resources=resources,
                Contents=pikepdf.Stream(pdf, content),
            )
        )
    )


def _outline_item(mark: Bookmark, pages: int) -> pikepdf.OutlineItem:
    item = pikepdf.OutlineItem(mark.title, min(mark.page, pages - 1))
    item.children.extend(_outline_item(child, pages) for child in mark.children)
    return item


def _metadata(pdf: pikepdf.Pdf, info: DocumentInfo) -> None:
    entries = {"/Title": info.title, "/Author": info.author, "/Keywords": info.keywords}
    pdf.docinfo = pdf.make_indirect(
        Dictionary({k: pikepdf.String(v) for k, v in entries.items() if v})
    )
    if info.lang:
        pdf.Root.Lang = pikepdf.String(info.lang)
    prefs = Dictionary(DisplayDocTitle=True)
    if info.right_to_left:
        prefs.Direction = Name.R2L
    pdf.Root.ViewerPreferences = prefs


def build_pdf(
    pages: Sequence[Page],
    *,
    info: DocumentInfo,
    bookmarks: Sequence[Bookmark] = (),
    font: bytes | None = None,
) -> bytes:
    """Build the document.

    Args:
        pages: The pages, in order (at least one).
        info: Title, author, language and reading direction.
        bookmarks: The outline (page numbers 0-based).
        font: The GlyphLessFont program; ``None`` makes an image-only PDF.

    Returns:
        The PDF's bytes: the same inputs give the same bytes.

    Raises:
        ValueError: No pages, or an image that is neither grey nor RGB.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    pdf = pikepdf.new()
    has_text = font is not None and any(p.lines for p in pages)
    shared = glyphless_font(pdf, font) if has_text and font is not None else None
    for page in pages:
        if page.image.bands not in COLOUR_SPACES:
            raise ValueError(f"an image of {page.image.bands} bands is neither grey nor RGB")
        _add_page(pdf, page, shared, info.lang)
    _metadata(pdf, info)
    if bookmarks:
        with pdf.open_outline() as outline:
            outline.root.extend(_outline_item(b, len(pages)) for b in bookmarks)
        pdf.Root.PageMode = Name.UseOutlines
    buffer = io.BytesIO()
    # PDF 1.4: the document's /Lang.
    pdf.save(buffer, deterministic_id=True, compress_streams=True, min_version="1.4")
    return buffer.getvalue()
