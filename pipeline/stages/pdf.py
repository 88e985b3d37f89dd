"""PDF: a volume's reading copy, every page image with its text, invisible but searchable.

The images are the tiles stage's derivatives (re-encoded only when none has the size asked
for); the text layer comes from each page's lines (:func:`page_lines`); the bookmarks from the
volume's ranges; title, author and language from its descriptor. The manifest declares the
PDF as a ``rendering`` when this stage has built it; a PDF that cannot be built fails here,
and the manifest is built without it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config, PdfConfig
from pipeline.errors import PdfError, ScanError
from pipeline.fsio import sha256_file, write_bytes_atomic
from pipeline.iiif.image import FULL_MAX, size_path
from pipeline.iiif.ranges import RangeParts, range_parts
from pipeline.iiif.text import LangMap, first_text
from pipeline.imaging.vips import master_header
from pipeline.imaging.working_image import source_resolution
from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.ocr import tesseract
from pipeline.ocr.chosen import shown_text
from pipeline.pdf.document import Bookmark, DocumentInfo, Page, TextLine, build_pdf
from pipeline.pdf.image import Derivative, choose_derivative, page_image
from pipeline.records import PageItem, StageRecord
from pipeline.results import PdfResult, TilesResult
from pipeline.stages.partial import held_back
from pipeline.stages.spec import PageInput, StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "pdf"
POINTS_PER_INCH = 72


class PdfSettings(BaseModel):
    """What a volume's PDF depends on besides its pages' records."""

    model_config = ConfigDict(frozen=True)

    pdf: PdfConfig
    #: JPEG quality of the derivatives (one of the right size at this quality goes in as is).
    tiles_quality: int
    #: Whether pages have text at all (OCR on).
    text: bool
    #: The job's OCR languages (the document's language when a volume names none).
    languages: list[str]
    allow_partial: bool
    #: The masters' pixel limit (their headers give the page size).
    max_pixels: int


def settings(cfg: Config) -> PdfSettings:
    """The ``pdf`` section and what it takes from the tiles, OCR and manifest sections."""
    return PdfSettings(
        pdf=cfg.pdf,
        tiles_quality=cfg.tiles.quality,
        text=cfg.ocr.enabled,
        languages=cfg.ocr.languages,
        allow_partial=cfg.manifest.allow_partial,
        max_pixels=cfg.ingest.max_pixels,
    )


def check_tools(settings: PdfSettings) -> dict[str, str]:
    """A PDF with text needs tesseract's GlyphLessFont; its digest goes into the fingerprint.

    Raises:
        MissingDependencyError: The font is not installed.
    """
    if not settings.pdf.enabled or not settings.text:
        return {}
    return {"pdf.ttf": sha256_file(tesseract.glyphless_font())[:16]}


def page_lines(page: PageInput) -> list[TextLine]:
    """A page's lines for the text layer, in reading order, each with its language (BCP 47).

    The one place that says where the PDF's text comes from: the page's chosen text (a
    transcription when precedence picked it, else the OCR), when it is published (OCR text
    withheld for review stays out of the PDF too). Lines without boxes (a plain-text
    transcription) are laid over the page in equal bands, top to bottom, so that they can
    still be found and copied in reading order.
    """
    text = shown_text(page.upstream.ocr, page.upstream.transcription)
    if text is None:
        return []
    ingest = page.upstream.ingest
    width, height = (ingest.width, ingest.height) if ingest else (1, 1)
    count = len(text.lines)
    return [
        TextLine(
            line.text,
            line.box or (0, height * i // count, width, height * (i + 1) // count),
            "" if line.language == "und" else line.language,
        )
        for i, line in enumerate(text.lines)
        if line.text.strip()
    ]


def _derivatives(tiles: TilesResult) -> list[Derivative]:
    full = Derivative(FULL_MAX, tiles.full_width or tiles.width, tiles.full_height or tiles.height)
    return [full, *(Derivative(size_path((w, h)), w, h) for w, h in tiles.sizes)]


def _page_dpi(item: PageItem, settings: PdfSettings) -> float:
    """The master's resolution (its header's, else ``pdf.dpi``): the page's size in print.

    Raises:
        PdfError: The master cannot be read any more.
    """
    try:
        header = master_header(Path(item.source), max_pixels=settings.max_pixels)
    except ScanError as exc:
        raise PdfError(str(exc)) from None
    return source_resolution(header, settings.pdf.dpi)[0]


def _page(entry: PageInput, settings: PdfSettings, layout: Layout) -> Page:
    """A page of the PDF: its derivative, its size in print and its lines."""
    item, tiles = entry.item, entry.upstream.tiles
    if tiles is None or not tiles.width or not tiles.height:
        raise PdfError(f"{item.page}: the tiles record has no image size")
    cfg = settings.pdf
    chosen = choose_derivative(_derivatives(tiles), cfg.max_side)
    image = page_image(
        layout.image_dir(item.volume, item.page) / chosen.rel,
        max_side=cfg.max_side,
        quality=cfg.quality,
        keep_bytes=cfg.quality == settings.tiles_quality,
    )
    lines = page_lines(entry) if settings.text else []
    scale = POINTS_PER_INCH / _page_dpi(item, settings)
    return Page(
        image=image,
        size=(tiles.width * scale, tiles.height * scale),
        canvas=(tiles.width, tiles.height),
        lines=tuple(lines),
    )


def _bookmark(r: RangeParts, position: dict[str, int], prefer: tuple[str, ...]) -> Bookmark:
    first = r.items[0]
    start = _bookmark(first, position, prefer).page if isinstance(first, RangeParts) else None
    children = tuple(_bookmark(i, position, prefer) for i in r.items if isinstance(i, RangeParts))
    page = start if start is not None else position[str(first)]
    return Bookmark(first_text(r.label, prefer), page, children)


def bookmarks(inp: VolumeInput, pages: list[str], layout: Layout, lang: str) -> list[Bookmark]:
    """The outline: the volume's ranges over the pages in the PDF, titled in ``lang`` first.

    Args:
        inp: The volume (its descriptor's ranges and page order).
        pages: The page ids in the PDF, in order.
        layout: The layout (the ranges' canvas ids).
        lang: The document's language.

    Returns:
        One bookmark per range that has a page in the PDF, nested as the ranges are.
    """
    entries = [r.model_dump(mode="json", exclude_none=True) for r in inp.descriptor.ranges]
    present = {page: n for n, page in enumerate(pages)}
    order = list(inp.order) or pages
    ranges = range_parts(entries, order, present, inp.volume, layout)
    position = {layout.canvas_id(inp.volume, p): n for p, n in present.items()}
    prefer = (lang, lang.split("-")[0], "none", "en")
    return [_bookmark(r, position, prefer) for r in ranges]


def _text(value: LangMap | None, prefer: tuple[str, ...]) -> str:
    return first_text(value, prefer) if value else ""


def document_info(desc: Descriptor, volume: str, settings: PdfSettings) -> DocumentInfo:
    """Title, author, subjects, language and reading direction of a volume's PDF.

    The language is that of the volume's (else the job's) first OCR language.
    """
    spec = (desc.ocr_languages or settings.languages)[0]
    lang = next(iter(tesseract.language_tags(spec)), "")
    prefer = (lang, "none", "en")
    subjects = [v for vs in (desc.subject or {}).values() for v in vs]
    return DocumentInfo(
        title=_text(desc.label or desc.title, prefer) or volume,
        author=_text(desc.creator, prefer),
        keywords="; ".join(subjects),
        lang=lang,
        right_to_left=desc.viewing_direction == "right-to-left",
    )


def run(inp: VolumeInput, settings: PdfSettings, layout: Layout) -> StageRecord:
    """Write ``<volume>/<volume>.pdf`` from the pages' derivatives and lines, in page order.

    Args:
        inp: The volume: descriptor, pages with their tiles and OCR results, page order.
        settings: The stage's settings.
        layout: The output layout.

    Returns:
        The record; its result names the file: ``None`` with ``pdf.enabled`` off, or while
        pages of the volume have failed (unless ``--allow-partial``), as for its manifest.

    Raises:
        PdfError: No page has tiles, or a page's derivative or master cannot be read.
    """
    path = layout.pdf_path(inp.volume)
    # The PDF of earlier inputs goes first: should this one not be built, or fail, the site
    # holds no PDF that its manifest does not declare.
    path.unlink(missing_ok=True)
    if not settings.pdf.enabled:
        return StageRecord.done(NAME, inp.volume, "", PdfResult(pdf=None))
    missing = held_back(inp, path, allow_partial=settings.allow_partial, what="PDF")
    if missing is not None:
        return StageRecord.done(NAME, inp.volume, "", PdfResult(pdf=None, missing=missing))
    entries = [p for p in inp.pages if p.upstream.tiles is not None]
    if not entries:
        raise PdfError("no page of this volume has tiles")
    pages = [_page(p, settings, layout) for p in entries]
    info = document_info(inp.descriptor, inp.volume, settings)
    outline = bookmarks(inp, [p.item.page for p in entries], layout, info.lang)
    has_text = any(p.lines for p in pages)
    font = tesseract.glyphless_font().read_bytes() if has_text else None
    data = build_pdf(pages, info=info, bookmarks=outline, font=font)
    digest = write_bytes_atomic(path, data)
    rel = layout.rel(path)
    text_pages = sum(1 for p in pages if p.lines)
    log.debug(
        "%s: PDF of %d pages (%d with text), %d bytes",
        inp.volume,
        len(pages),
        text_pages,
        len(data),
    )
    result = PdfResult(pdf=rel, pages=len(pages), text_pages=text_pages, size=len(data))
    if inp.missing:
        result = result.model_copy(update={"missing": list(inp.missing)})
    return StageRecord.done(NAME, inp.volume, "", result, outputs={rel: digest})


SPEC = StageSpec(
    name=NAME,
    scope="volume",
    version=2,
    inputs=VolumeInput,
    settings_type=PdfSettings,
    settings_for=settings,
    work=run,
    check_tools=check_tools,
    # ingest: its digest of the master stands for the resolution read from its header.
    requires=("ingest", "tiles"),
    uses=("ocr", "transcription"),
)
