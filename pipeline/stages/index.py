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
from pipeline.records import StageRecord
from pipeline.results import IndexResult, LineBox
from pipeline.search.index import Box, Line, build_index
from pipeline.stages.spec import PageInput, StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "index"


class IndexSettings(BaseModel):
    """Whether there is text at all, and the base URL the stored ids are under."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    base_url: str


def settings(cfg: Config) -> IndexSettings:
    """Whether OCR runs, and the base URL."""
    return IndexSettings(enabled=cfg.ocr.enabled, base_url=cfg.site.base_url)


def page_lines(page: PageInput) -> list[LineBox]:
    """The lines of a page to index: its best text, line by line, with boxes on the canvas.

    The one place that says where a page's searchable text comes from: today the OCR lines,
    when they are published (text withheld for low confidence is not searchable either).

    Args:
        page: The page with its upstream results.

    Returns:
        ``(text, (x0, y0, x1, y1))`` per line, in reading order.
    """
    ocr = page.upstream.ocr
    if ocr is None or not ocr.published:
        return []
    return list(ocr.line_boxes)


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
        settings: Whether OCR runs at all.
        layout: Where the index goes, and the ids it stores.

    Returns:
        The record; its result's ``index`` is the layout-relative path or ``None``.
    """
    path = layout.search_index_path(inp.volume)
    lines = volume_lines(inp, layout) if settings.enabled else []
    if not lines:
        path.unlink(missing_ok=True)
        return StageRecord.done(NAME, inp.volume, "", IndexResult(index=None))
    digest = build_index(lines, path)
    rel = layout.rel(path)
    pages = len({line.page for line in lines})
    log.info("indexed %d lines of %d pages", len(lines), pages)
    result = IndexResult(index=rel, pages=pages, lines=len(lines))
    return StageRecord.done(NAME, inp.volume, "", result, outputs={rel: digest})


SPEC = StageSpec(
    name=NAME,
    scope="volume",
    # 3: index format 4 (the tokens next to a line break are marked): existing indexes rebuild
    version=3,
    inputs=VolumeInput,
    settings_type=IndexSettings,
    settings_for=settings,
    work=run,
    requires=("ocr",),
    writes_urls=True,
)
