"""``pipeline export-gt``: line images and their text from human transcriptions, for HTR training.

For every page whose transcription (as the last run read it) is a person's (kind ``human``),
each line with a position becomes two files with the same stem, the layout tesstrain
(``*.png`` + ``*.gt.txt``) and kraken's ``ketos train`` (its default ``path`` format) read::

    DIR/f017r_001.png      the master cut along the line's polygon, outside it white, grey
    DIR/f017r_001.gt.txt   the line's text, NFC, one line
    DIR/index.csv          image, text, page, line, source (one row per line)

Lines are numbered in reading order from 1. The same volume and transcriptions give the same
bytes.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.archive.line_images import line_image, png_bytes, upright_grey
from pipeline.archive.page_lines import PageFacts, exporting, page_facts, write_export
from pipeline.config import Config
from pipeline.errors import ScanError
from pipeline.input.transcripts.model import Point
from pipeline.input.volumes import Volume
from pipeline.results import TextLine, TranscriptionResult
from pipeline.state import StateStore

log = logging.getLogger(__name__)

INDEX = "index.csv"
COLUMNS = ("image", "text", "page", "line", "source")


@dataclass(frozen=True)
class GtExport:
    """What ``export-gt`` wrote: line count, pages, notes (pages left out) and problems."""

    folder: Path
    lines: int
    pages: tuple[str, ...]
    notes: tuple[str, ...]
    problems: tuple[str, ...]


def _polygon(line: TextLine) -> tuple[Point, ...]:
    points = line.points
    if points:
        return tuple((float(x), float(y)) for x, y in points)
    if line.box is None:
        return ()
    x0, y0, x1, y1 = (float(v) for v in line.box)
    return (x0, y0), (x1, y0), (x1, y1), (x0, y1)


def _human_pages(
    state: StateStore, volume: Volume
) -> Iterator[tuple[PageFacts, TranscriptionResult]]:
    """The pages whose transcription, as the last run read it, is a person's."""
    for facts in page_facts(state, volume):
        rec = state.get(volume.id, facts.item.page, "transcription")
        if rec is None or rec.status != "ok":
            continue
        result = rec.result_as(TranscriptionResult)
        if result.file and result.provenance and result.provenance.kind == "human":
            yield facts, result


def _page_rows(
    facts: PageFacts, result: TranscriptionResult, dest: Path, max_pixels: int
) -> list[dict[str, str]]:
    """Write one page's line images and texts; its rows of the index.

    Raises:
        ScanError: The master cannot be read.
    """
    grey = upright_grey(facts.master, max_pixels=max_pixels, unit_floats=facts.ingest.unit_floats)
    rows = []
    for number, line in enumerate(result.lines, start=1):
        image = line_image(grey, _polygon(line)) if line.text.strip() else None
        if image is None:
            continue
        stem = f"{facts.item.page}_{number:03d}"
        write_export(dest / f"{stem}.png", png_bytes(image))
        write_export(dest / f"{stem}.gt.txt", f"{line.text}\n".encode())
        rows.append(
            {
                "image": f"{stem}.png",
                "text": line.text,
                "page": facts.item.page,
                "line": str(number),
                "source": result.file or "",
            }
        )
    return rows


def _index(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export_gt(cfg: Config, volume_id: str, dest: Path) -> GtExport:
    """Write line images and texts of a built volume's human-transcribed pages to ``dest``.

    Args:
        cfg: The configuration (scans and output folders, ``ingest.max_pixels``).
        volume_id: The volume.
        dest: The folder to write to (created; files with the same names are replaced).

    Returns:
        What was written, pages left out (no positions in the file) and pages that failed
        (a master that cannot be read).

    Raises:
        ConfigError: ``dest`` is, holds or is inside the scans, transcriptions or output
            folder.
        JobInputError: No volume folder or state store, or a job is running.
    """
    rows: list[dict[str, str]] = []
    pages: list[str] = []
    notes: list[str] = []
    problems: list[str] = []
    with exporting(cfg, volume_id, dest) as (_layout, state, volume):
        for facts, result in _human_pages(state, volume):
            if result.note:
                notes.append(f"{result.file}: {result.note}; no line images")
                continue
            try:
                rows.extend(_page_rows(facts, result, dest, cfg.ingest.max_pixels))
            except ScanError as exc:
                problems.append(f"{facts.master.name}: {exc}")
                continue
            pages.append(facts.item.page)
        if rows or pages:
            write_export(dest / INDEX, _index(rows).encode())
    log.info("ground truth of %s: %d lines, %d pages to %s", volume_id, len(rows), len(pages), dest)
    return GtExport(dest, len(rows), tuple(pages), tuple(notes), tuple(problems))
