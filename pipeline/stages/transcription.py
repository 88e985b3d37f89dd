"""Transcription: a page's human or HTR text file -> lines on the canvas, with provenance.

The file is the one the volume's transcription folder holds for the page (matched when the
volumes are read: :mod:`pipeline.input.transcripts.folder`); it is read whatever its format,
mapped from the image it describes to the canvas (honouring the master's EXIF orientation),
and its provenance is taken from the file, with the volume's ``[transcription]`` overrides.
``transcriptions.precedence`` decides whether it wins over the page's OCR; when it does, the
page's published ALTO, hOCR and text are written from it. The file is only ever read; its
name, size and modification time are in this stage's fingerprint, and its sha256 in the
result, so a changed file redoes this stage and what depends on it, never tesseract.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.fsio import sha256_bytes, write_texts_atomic
from pipeline.input.transcripts.geometry import to_canvas
from pipeline.input.transcripts.model import Line, Provenance, Transcript
from pipeline.input.transcripts.read import parse_transcript, read_bytes
from pipeline.layout import OCR_SUFFIXES, Layout
from pipeline.ocr import cer, tesseract, text_files
from pipeline.ocr.chosen import line_language
from pipeline.records import PageItem, StageRecord, TranscriptFile
from pipeline.results import (
    IngestResult,
    OcrResult,
    TextKind,
    TextLine,
    TextProvenance,
    TranscriptionResult,
)
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "transcription"
KINDS: tuple[TextKind, ...] = ("human", "htr", "ocr")
BORROWED = "no boxes in the file: line boxes borrowed from the OCR, line by line ({count} lines)"
WHOLE_PAGE = "no boxes in the file: its lines target the whole page"


class TranscriptionSettings(BaseModel):
    """Which text wins, and whether the OCR under a transcription is published too."""

    model_config = ConfigDict(frozen=True)

    precedence: list[TextKind]
    machine_layer: bool


def settings(cfg: Config) -> TranscriptionSettings:
    """The ``[transcriptions]`` section."""
    return TranscriptionSettings(
        precedence=list(cfg.transcriptions.precedence),
        machine_layer=cfg.transcriptions.machine_layer,
    )


def wins(kind: TextKind, precedence: Sequence[TextKind], ocr: OcrResult | None) -> bool:
    """Whether a transcription of ``kind`` is shown instead of the page's OCR.

    A kind that ``precedence`` does not list is never shown; a listed one wins over OCR that
    is not listed, ranks lower, or has no text to show (switched off, blank or withheld);
    a file of kind ``ocr`` wins over the page's own OCR (someone put it there).
    """
    if kind not in precedence:
        return False
    if "ocr" not in precedence or ocr is None or not ocr.line_boxes or not ocr.published:
        return True
    return precedence.index(kind) <= precedence.index("ocr")


def provenance_of(said: Provenance, found: TranscriptFile) -> TextProvenance:
    """The file's provenance, with what the volume's descriptor says instead."""
    kind = found.kind if found.kind in KINDS else said.kind
    return TextProvenance(
        kind=kind,
        creator=found.creator or said.creator,
        software=said.software,
        model=said.model,
        date=found.date or said.date,
    )


def _points(line: Line) -> str | None:
    """The polygon as stored: PAGE XML's ``x,y x,y`` (see :class:`TextLine`)."""
    # Points are on the canvas (clipped, never negative): int(v + 0.5) rounds them, quickly.
    return " ".join(f"{int(x + 0.5)},{int(y + 0.5)}" for x, y in line.polygon) or None


def canvas_lines(
    transcript: Transcript, item: PageItem, ocr: OcrResult | None
) -> tuple[list[TextLine], str]:
    """The transcript's lines (already on the canvas) as result lines, and how they were placed.

    A line's language is the file's, else the page language whose script dominates it. Lines
    without boxes (plain text) borrow the OCR's boxes when the counts agree, and target the
    whole canvas otherwise; the note says which.
    """
    tags = tesseract.language_tags("+".join(item.ocr_languages))
    lines = [
        TextLine(
            text=line.text,
            box=tuple(round(v) for v in line.box) if line.box else None,  # type: ignore[arg-type]
            polygon=_points(line),
            language=line.language or line_language(line.text, tags),
            confidence=line.confidence,
        )
        for line in transcript.lines
    ]
    if not lines or any(line.box for line in lines):
        return lines, ""
    boxes = [box for _, box in ocr.line_boxes] if ocr is not None else []
    if boxes and len(boxes) == len(lines):
        borrowed = [
            line.model_copy(update={"box": box}) for line, box in zip(lines, boxes, strict=True)
        ]
        return borrowed, BORROWED.format(count=len(lines))
    return lines, WHOLE_PAGE


def _write_files(
    layout: Layout,
    item: PageItem,
    lines: list[TextLine],
    ingest: IngestResult,
    made: TextProvenance,
    note: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Write the page's published ALTO, hOCR and text from the transcription.

    Returns:
        The record's outputs (path -> sha256) and the layout-relative path of each kind.
    """
    documents = text_files.text_documents(
        lines,
        width=ingest.width,
        height=ingest.height,
        image=Path(item.source).name,
        provenance=made,
        note=note,
    )
    paths = {kind: layout.transcription_path(item.volume, item.page, kind) for kind in documents}
    written = write_texts_atomic({paths[kind]: text for kind, text in documents.items()})
    files = {kind: layout.rel(path) for kind, path in paths.items()}
    return {files[kind]: written[path] for kind, path in paths.items()}, files


def measure_ocr(kind: TextKind, lines: list[TextLine], ocr: OcrResult | None) -> dict[str, int]:
    """The OCR's edits against a human transcription, and its length (none for other text).

    Only where the page has both: human text, and OCR that ran (a blank OCR page against
    a transcribed one is all edits).
    """
    if kind != "human" or ocr is None or not ocr.language or not lines:
        return {}
    reference = "\n".join(line.text for line in lines)
    edits, length = cer.errors(reference, "\n".join(text for text, _ in ocr.line_boxes))
    return {"ocr_edits": edits, "reference_chars": length}


def _remove_files(layout: Layout, item: PageItem) -> None:
    """The page's text is no longer a transcription's: its published files go."""
    for kind in OCR_SUFFIXES:
        layout.transcription_path(item.volume, item.page, kind).unlink(missing_ok=True)


def run(inp: PageInput, settings: TranscriptionSettings, layout: Layout) -> StageRecord:
    """Read the page's transcription file onto the canvas; publish it if it wins.

    Raises:
        TranscriptError: The file cannot be read, is malformed or invalid, or lacks what a page
            needs (the message names the file).
    """
    item, found = inp.item, inp.item.transcript
    if found is None:
        _remove_files(layout, item)
        return StageRecord.done(NAME, item.volume, item.page, TranscriptionResult())
    ingest = inp.upstream.ingest or IngestResult()
    # Read once: what is parsed is what the digest names.
    data = read_bytes(Path(found.path))
    transcript = parse_transcript(data, found.name)
    mapped = to_canvas(transcript, (ingest.width, ingest.height), ingest.orientation)
    made = provenance_of(mapped.provenance, found)
    lines, note = canvas_lines(mapped, item, inp.upstream.ocr)
    for warning in mapped.warnings:
        log.warning("%s/%s [%s]: %s", item.volume, item.page, NAME, warning)
    chosen = wins(made.kind, settings.precedence, inp.upstream.ocr)
    measured = measure_ocr(made.kind, lines, inp.upstream.ocr)
    outputs: dict[str, str] = {}
    files: dict[str, str] = {}
    if chosen:
        outputs, files = _write_files(layout, item, lines, ingest, made, note)
    else:
        _remove_files(layout, item)
    result = TranscriptionResult(
        file=found.name,
        sha256=sha256_bytes(data),
        format=transcript.format,
        provenance=made,
        lines=lines,
        chosen=chosen,
        machine_layer=settings.machine_layer,
        note=note,
        warnings=list(mapped.warnings),
    )
    # Written only when there is something to say (no published files, no OCR to measure).
    result = result.model_copy(update={**measured, **files})
    return StageRecord.done(NAME, item.volume, item.page, result, outputs=outputs)


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=1,
    inputs=PageInput,
    settings_type=TranscriptionSettings,
    settings_for=settings,
    work=run,
    requires=("ingest",),
    # The OCR decides nothing but whether it has text to lose to the file, and lends its
    # boxes to a plain-text file: an OCR rerun redoes this cheap stage, never the reverse.
    uses=("ocr",),
    item_fields=("ocr_languages",),
    reads_transcript=True,
    # A page without a file changes nothing downstream (existing output stays current).
    empty_is_absent=True,
)
