"""Index: every line's text of a volume -> its full-text search index (SQLite FTS5).

The index is published with the site beside the manifest; the query engine
(:mod:`pipeline.search.query`) reads it. It holds canvas and manifest ids, so a new base URL
rebuilds it; otherwise it is rebuilt only when a page's lines change (the fingerprint covers
the upstream results the lines come from).
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.layout import Layout
from pipeline.ocr.chosen import shown_text
from pipeline.records import StageRecord
from pipeline.results import IndexResult, LineBox
from pipeline.search.index import Box, Line, build_index
from pipeline.stages.partial import held_back
from pipeline.stages.spec import PageInput, StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "index"


class IndexSettings(BaseModel):
    """The base URL the stored ids are under, and whether a volume with failed pages is indexed."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    #: ``--allow-partial``: index the pages that are there (else the index waits, as the
    #: manifest does).
    allow_partial: bool = False


def settings(cfg: Config) -> IndexSettings:
    """The base URL and ``--allow-partial`` (a page's text comes from its records)."""
    return IndexSettings(base_url=cfg.site.base_url, allow_partial=cfg.manifest.allow_partial)


def page_lines(page: PageInput) -> list[LineBox]:
    """The lines of a page to index: its best text, line by line, with boxes on the canvas.

    The one place that says where a page's searchable text comes from: the page's chosen
    text (a transcription when precedence picked it, else the OCR), when it is published
    (OCR text withheld for low confidence is not searchable either). A line without a box
    (a plain-text transcription) stands for the whole canvas, as its annotation does; line
    numbers are those of the page's annotations.

    Args:
        page: The page with its upstream results.

    Returns:
        ``(text, (x0, y0, x1, y1))`` per line, in reading order.
    """
    text = shown_text(page.upstream.ocr, page.upstream.transcription)
    if text is None:
        return []
    ingest = page.upstream.ingest
    whole = (0, 0, ingest.width, ingest.height) if ingest else (0, 0, 1, 1)
    return [(line.text, line.box or whole) for line in text.lines]


def volume_lines(inp: VolumeInput, layout: Layout) -> list[Line]:
    """Every line of a volume's pages to index, in canvas order.

    Args:
        inp: The volume and its pages.
        layout: Gives the canvas and manifest ids.

    Returns:
        The lines; a page's ``seq`` is its position among all the volume's pages.
    """
    position = {page: i for i, page in enumerate(inp.order or [p.item.page for p in inp.pages])}
    manifest = layout.manifest_id(inp.volume)
    found: list[Line] = []
    for page in sorted(inp.pages, key=lambda p: position.get(p.item.page, len(position))):
        canvas = layout.canvas_id(inp.volume, page.item.page)
        for number, (text, (x0, y0, x1, y1)) in enumerate(page_lines(page), start=1):
            if not text.strip():
                continue
            box = Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))
            found.append(
                Line(
                    volume=inp.volume,
                    page=page.item.page,
                    seq=position.get(page.item.page, len(position)),
                    canvas=canvas,
                    manifest=manifest,
                    line=number,
                    box=box,
                    text=text,
                )
            )
    return found


def run(inp: VolumeInput, settings: IndexSettings, layout: Layout) -> StageRecord:
    """Write the volume's search index, or remove a stale one when it has no text.

    Args:
        inp: The volume and its pages' OCR results.
        settings: The base URL of the stored ids, and ``--allow-partial``.
        layout: Where the index goes, and the ids it stores.

    Returns:
        The record; its result's ``index`` is the layout-relative path, or ``None`` when the
        volume has no text, or while pages of it have failed (unless ``--allow-partial``), as
        for its manifest: the collection's search never finds a volume the site does not show.
    """
    path = layout.search_index_path(inp.volume)
    missing = held_back(inp, path, allow_partial=settings.allow_partial, what="search index")
    if missing is not None:
        return StageRecord.done(NAME, inp.volume, "", IndexResult(index=None, missing=missing))
    lines = volume_lines(inp, layout)
    if not lines:
        path.unlink(missing_ok=True)
        return StageRecord.done(NAME, inp.volume, "", IndexResult(index=None))
    digest = build_index(lines, path, base_url=layout.base_url)
    rel = layout.rel(path)
    pages = len({line.page for line in lines})
    log.info("indexed %d lines of %d pages", len(lines), pages)
    result = IndexResult(index=rel, pages=pages, lines=len(lines), missing=list(inp.missing))
    return StageRecord.done(NAME, inp.volume, "", result, outputs={rel: digest})


SPEC = StageSpec(
    name=NAME,
    scope="volume",
    # 3: a page's chosen text (transcription or OCR); 4: index format 4 (the tokens next to a
    # line break are marked): existing indexes rebuild; 5: index format 5 (the base URL).
    version=5,
    inputs=VolumeInput,
    settings_type=IndexSettings,
    settings_for=settings,
    work=run,
    requires=("ocr",),
    uses=("ingest", "transcription"),
    writes_urls=True,
)
