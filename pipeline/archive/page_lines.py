"""What a built volume knows of each page, read back for the exports and the correction page.

Each page's ingest, tiles and OCR results come from the state store; its OCR lines are the
ones the annotations were made from (``OcrResult.line_boxes``, canvas pixels), each with the
mean confidence of its words from the hOCR written beside them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import atomic_file, overlapping
from pipeline.input.configured import read_volume
from pipeline.input.transcripts.model import Line, Provenance
from pipeline.input.volumes import Volume
from pipeline.layout import Layout
from pipeline.lock import job_lock
from pipeline.ocr import hocr
from pipeline.records import PageItem
from pipeline.results import IngestResult, OcrResult, TilesResult
from pipeline.siteurl import layout_for
from pipeline.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageFacts:
    """One page of a built volume: the page, and the results of the stages that made it."""

    item: PageItem
    ingest: IngestResult
    tiles: TilesResult | None
    ocr: OcrResult | None

    @property
    def canvas(self) -> tuple[int, int]:
        """The canvas size: the upright master's width and height."""
        return self.ingest.width, self.ingest.height

    @property
    def master(self) -> Path:
        """The master file."""
        return Path(self.item.source)


def open_state(layout: Layout) -> StateStore:
    """The state store of a built output folder.

    Raises:
        JobInputError: Nothing has been run in this output folder.
    """
    store = StateStore.existing(layout.state_db)
    if store is None:
        raise JobInputError(f"{layout.out}: nothing has been run here yet ('pipeline run' first)")
    return store


@contextlib.contextmanager
def built_volume(cfg: Config, volume_id: str) -> Iterator[tuple[Layout, StateStore, Volume]]:
    """A volume as a run reads it, with its output folder's state store, under the job lock.

    Raises:
        ConfigError: The volume id, its descriptor or the catalogue is invalid.
        JobInputError: No volume folder, nothing run in the output folder (said before the
            lock would create it), or a job is running.
    """
    layout = layout_for(cfg)
    volume = read_volume(cfg, volume_id)
    open_state(layout).close()
    with job_lock(layout), open_state(layout) as state:
        yield layout, state, volume


def _check_apart(dest: Path, cfg: Config, layout: Layout) -> None:
    """Refuse an export folder that is, holds or is inside one the pipeline reads or writes.

    Raises:
        ConfigError: ``dest`` overlaps the scans (its files would replace masters or become
            pages), the transcriptions (they would match pages) or the output folder.
    """
    named = {
        cfg.site.scans: "the scans folder",
        cfg.site.transcriptions_dir: "the transcriptions folder",
        layout.out: "the output folder",
    }
    folder = overlapping(dest, named)
    if folder is not None:
        raise ConfigError(
            f"{dest}: an export must not contain or be inside {named[folder]} {folder}; "
            "choose another folder"
        )


@contextlib.contextmanager
def exporting(
    cfg: Config, volume_id: str, dest: Path
) -> Iterator[tuple[Layout, StateStore, Volume]]:
    """A built volume to export from, under the job lock; a file error becomes one line.

    Raises:
        ConfigError: ``dest`` is, holds or is inside the scans, transcriptions or output
            folder; or the volume id, its descriptor or the catalogue is invalid.
        JobInputError: No volume folder or state store, a job is running, or a file of the
            export (in ``dest``) cannot be written or read.
    """
    _check_apart(dest, cfg, layout_for(cfg))
    try:
        with built_volume(cfg, volume_id) as built:
            yield built
    except OSError as exc:
        where = exc.filename or dest
        raise JobInputError(
            f"{where}: cannot write the export ({exc.strerror}); choose another place"
        ) from None


def write_export(path: Path, data: bytes) -> None:
    """Write one file of an export through a temporary name: no reader sees half a file.

    Not flushed to disk file by file (as derivatives are): an export of thousands of small
    files is made again in seconds, and flushing each would take most of its time.
    """
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def page_facts(state: StateStore, volume: Volume) -> Iterator[PageFacts]:
    """The pages of a volume whose master was ingested, in volume order, with their results."""
    for item in volume.pages:
        ingest = state.get(volume.id, item.page, "ingest")
        if ingest is None or ingest.status != "ok":
            continue
        tiles = state.get(volume.id, item.page, "tiles")
        ocr = state.get(volume.id, item.page, "ocr")
        yield PageFacts(
            item=item,
            ingest=ingest.result_as(IngestResult),
            tiles=tiles.result_as(TilesResult) if tiles and tiles.status == "ok" else None,
            ocr=ocr.result_as(OcrResult) if ocr and ocr.status == "ok" else None,
        )


def _confidences(layout: Layout, ocr: OcrResult) -> dict[hocr.Box, float]:
    """Each hOCR line's mean word confidence (0-1), by its canvas box; empty without hOCR."""
    path = layout.path(ocr.hocr) if ocr.hocr else None
    if path is None or not path.is_file():
        return {}
    try:
        page = hocr.parse(path.read_text(encoding="utf-8"))
    except hocr.HocrError as exc:
        log.warning("%s: unreadable hOCR (%s); its lines are given without confidence", path, exc)
        return {}
    return {
        line.bbox: sum(w.confidence for w in line.words) / len(line.words) / 100
        for line in page.lines
        if line.words
    }


def ocr_lines(layout: Layout, ocr: OcrResult) -> tuple[Line, ...]:
    """A page's OCR lines on the canvas: text, box (and its corners as polygon), confidence.

    Args:
        layout: The output folder (for the hOCR file).
        ocr: The page's OCR result.

    Returns:
        The lines in reading order, with ids ``l1``, ``l2`` ...; a line's confidence is
        ``None`` when the hOCR is missing or has no line with its box.
    """
    confidences = _confidences(layout, ocr)
    lines = []
    for number, (text, box) in enumerate(ocr.line_boxes, start=1):
        x0, y0, x1, y1 = (float(v) for v in box)
        conf = confidences.get(box)
        lines.append(
            Line(
                text=text,
                box=(x0, y0, x1, y1),
                polygon=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                id=f"l{number}",
                confidence=None if conf is None else round(conf, 4),
            )
        )
    return tuple(lines)


def ocr_provenance(ocr: OcrResult, date: str) -> Provenance:
    """The provenance of OCR text: the engine (``tesseract 5.x``) as creator and software."""
    engine = ocr.engine or "tesseract"
    return Provenance(kind="ocr", creator=engine, software=engine, date=date)
