"""``pipeline review-export``: pages for correction in eScriptorium or Transkribus.

The folder written is a Transkribus document folder, which eScriptorium imports too::

    DIR/f017r.jpg          the page image (the image service's full/max JPEG, copied)
    DIR/page/f017r.xml     PAGE XML 2019: OCR lines with box polygons, text and confidence

Transkribus opens the folder as a document, reading each image's PAGE file from ``page/``
under the same stem; in eScriptorium the images are uploaded first and ``page/`` (as a ZIP)
is imported as "Transcriptions (XML)", which matches each file to its image by
``imageFilename``. Their PAGE export after correction names the same image, so it matches the
page when dropped into ``transcriptions/VOLUME/`` as it is.

Coordinates are those of the exported image (the canvas scaled to it). The date written is the
master's modification time: the same volume exports to the same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.archive.page_lines import (
    PageFacts,
    exporting,
    ocr_lines,
    ocr_provenance,
    page_facts,
    write_export,
)
from pipeline.config import Config
from pipeline.errors import JobInputError
from pipeline.input.transcripts.geometry import bounds
from pipeline.input.transcripts.model import Line, Transcript
from pipeline.input.transcripts.page_writer import page_xml
from pipeline.layout import Layout
from pipeline.ocr.geometry import Affine

log = logging.getLogger(__name__)

PAGE_FOLDER = "page"


@dataclass(frozen=True)
class ReviewExport:
    """What ``review-export`` wrote: the page ids, and one line per page it could not export."""

    folder: Path
    pages: tuple[str, ...]
    problems: tuple[str, ...]


def iso_date(mtime_ns: int) -> str:
    """A file time as an ISO 8601 UTC date and time (``2026-12-03T17:00:00Z``)."""
    when = datetime.fromtimestamp(mtime_ns // 1_000_000_000, tz=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scaled(line: Line, scale: Affine) -> Line:
    polygon = tuple(scale.point(x, y) for x, y in line.polygon)
    return Line(
        text=line.text,
        box=bounds(polygon),
        polygon=polygon,
        id=line.id,
        confidence=line.confidence,
    )


def review_page(facts: PageFacts, lines: tuple[Line, ...]) -> tuple[Transcript, str]:
    """The PAGE transcript of a page's OCR lines on its exported image, and that image's name.

    Raises:
        JobInputError: The page has no image service or OCR result.
    """
    if facts.tiles is None or facts.ocr is None:
        raise JobInputError(f"{facts.item.page}: not built ('pipeline run' first)")
    tiles, ocr = facts.tiles, facts.ocr
    size = (tiles.full_width or tiles.width, tiles.full_height or tiles.height)
    canvas_w, canvas_h = facts.canvas
    scale = Affine(a=size[0] / canvas_w, e=size[1] / canvas_h)
    name = f"{facts.item.page}{Path(tiles.full).suffix or '.jpg'}"
    transcript = Transcript(
        source=f"{facts.item.page}.xml",
        format="page-2019",
        lines=tuple(_scaled(line, scale) for line in lines),
        provenance=ocr_provenance(ocr, iso_date(facts.ingest.mtime_ns)),
        image_file=name,
        image_size=size,
    )
    return transcript, name


def _selected(facts: PageFacts, all_pages: bool) -> bool:
    return all_pages or (facts.ocr is not None and facts.ocr.needs_review)


def _export_page(layout: Layout, facts: PageFacts, dest: Path) -> str:
    """Write one page's image and PAGE file; a problem line instead when it has none to give.

    Raises:
        OSError: A file cannot be read or written.
    """
    page = facts.item.page
    if facts.tiles is None or facts.ocr is None or not facts.ocr.engine:
        return f"{page}: no image or OCR to export ('pipeline run' first)"
    source = layout.image_dir(facts.item.volume, page) / facts.tiles.full
    if not source.is_file():
        return f"{layout.rel(source)}: missing ('pipeline verify --repair')"
    transcript, image = review_page(facts, ocr_lines(layout, facts.ocr))
    write_export(dest / image, source.read_bytes())
    xml = page_xml(transcript, created=transcript.provenance.date)
    write_export(dest / PAGE_FOLDER / f"{page}.xml", xml)
    return ""


def export_review(cfg: Config, volume_id: str, dest: Path, *, all_pages: bool) -> ReviewExport:
    """Write the pages held for review (or all pages) of a built volume to ``dest``.

    Args:
        cfg: The configuration (scans and output folders).
        volume_id: The volume.
        dest: The folder to write to (created; files already there with the same names are
            replaced).
        all_pages: Every page with OCR, not only those held for review.

    Returns:
        The pages written and the problems (a page not built, or without OCR).

    Raises:
        ConfigError: ``dest`` is, holds or is inside the scans, transcriptions or output
            folder.
        JobInputError: No volume folder or state store, or a job is running.
    """
    written: list[str] = []
    problems: list[str] = []
    with exporting(cfg, volume_id, dest) as (layout, state, volume):
        for facts in page_facts(state, volume):
            if _selected(facts, all_pages):
                problem = _export_page(layout, facts, dest)
                (problems if problem else written).append(problem or facts.item.page)
    log.info("review export of %s: %d pages to %s", volume_id, len(written), dest)
    return ReviewExport(folder=dest, pages=tuple(written), problems=tuple(problems))
