"""The run report's model: what one volume's report holds, and its versioned JSON form.

Built by :mod:`pipeline.archive.report` from the state store; ``to_dict`` gives the JSON that
``report.json`` and ``pipeline status --json`` carry (its shape is public: scripts read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.archive.report_cer import OcrAccuracy

REPORT_VERSION = 3
MAX_LISTED = 200  # items a list shows (ignored files in the JSON; every list in the HTML)
STATUSES = ("ok", "failed", "skipped", "pending")


@dataclass(frozen=True)
class IngestFacts:
    """What ingest found out about a page's master file."""

    file: str
    width: int | None
    height: int | None
    sha256: str | None
    conversions: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ReviewFacts:
    """An OCR result's confidence, whether it was held for review, and what the list shows."""

    stage: str
    confidence: float
    needs_review: bool
    published: bool | None
    words: int | None
    language: str | None
    txt: str | None  # the text and hOCR files, relative to the output folder
    hocr: str | None


@dataclass(slots=True)
class StageOutcome:
    """One stage's record of a page or of the volume, as the report shows it.

    A page's stages leave their data out (it stays in the state store: OCR's holds every line
    of text); a volume stage's is shown.
    """

    status: str
    error: str | None
    error_type: str | None
    duration_s: float
    files: int
    data: dict[str, Any] | None = None

    def page_dict(self) -> dict[str, Any]:
        """The JSON of a page stage."""
        return {
            "status": self.status,
            "error": self.error,
            "error_type": self.error_type,
            "duration_s": self.duration_s,
            "files": self.files,
        }

    def volume_dict(self) -> dict[str, Any]:
        """The JSON of a volume stage."""
        return {"status": self.status, "error": self.error, "data": self.data, "files": self.files}


@dataclass(slots=True)
class PageEntry:
    """One page in volume order: its file, overall status and each stage's outcome."""

    page: str
    file: str
    index: int
    status: str
    stages: dict[str, StageOutcome]
    ingest: IngestFacts | None = None  # set when ingest succeeded
    tiles: int | None = None  # files in the pyramid, when tiling succeeded
    ocr: ReviewFacts | None = None  # when OCR succeeded with a confidence

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the page (keys of stages that did not succeed are left out)."""
        out: dict[str, Any] = {"page": self.page, "file": self.file, "index": self.index}
        if self.ingest is not None:
            out["conversions"] = list(self.ingest.conversions)
            out.update(width=self.ingest.width, height=self.ingest.height)
            out["sha256"] = self.ingest.sha256
        if self.tiles is not None:
            out["tiles"] = self.tiles
        if self.ocr is not None:
            out["ocr_confidence"] = self.ocr.confidence
        out["status"] = self.status
        out["stages"] = {name: outcome.page_dict() for name, outcome in self.stages.items()}
        return out


@dataclass(frozen=True)
class Failure:
    """A failed record of the volume or one of its pages (or an unreadable volume)."""

    page: str
    file: str
    stage: str
    error: str
    error_type: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the failure."""
        return {
            "page": self.page,
            "file": self.file,
            "stage": self.stage,
            "error": self.error,
            "error_type": self.error_type,
        }


@dataclass(frozen=True)
class StageTally:
    """How many pages (or the volume) one stage left in each status, with its errors."""

    counts: dict[str, int]
    errors: tuple[Failure, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the tally: a count per status, then the errors by page and file."""
        errors = [{"page": e.page, "file": e.file, "error": e.error} for e in self.errors]
        return {**self.counts, "errors": errors}


@dataclass(frozen=True)
class InputFindings:
    """What the volume folder holds beyond its pages, and warnings about the masters."""

    unlisted_files: tuple[str, ...] = ()
    missing_files: tuple[str, ...] = ()
    ignored_files: tuple[str, ...] = ()
    numbering_gaps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the findings."""
        return {
            "unlisted_files": list(self.unlisted_files),
            "missing_files": list(self.missing_files),
            "ignored_files": list(self.ignored_files),
            "numbering_gaps": list(self.numbering_gaps),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ReviewPage:
    """A page held for review, as the OCR summary lists it."""

    page: str
    file: str
    confidence: float
    published: bool | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the page."""
        out = {"page": self.page, "file": self.file, "confidence": self.confidence}
        return {**out, "published": self.published}


@dataclass(frozen=True)
class OcrSummary:
    """Pages with an OCR confidence, their mean, and those held for review."""

    pages: int = 0
    mean_confidence: float | None = None
    needs_review: tuple[ReviewPage, ...] = ()
    review_list: str | None = None  # the CSV of pages to review, once written

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the summary."""
        return {
            "pages": self.pages,
            "mean_confidence": self.mean_confidence,
            "needs_review": [r.to_dict() for r in self.needs_review],
            "review_list": self.review_list,
        }


@dataclass(frozen=True)
class VolumeReport:
    """Everything known about one volume, in page order."""

    volume: str
    error: str | None
    generated: str
    pages_found: int
    input: InputFindings
    stages: dict[str, StageTally]
    volume_stages: dict[str, StageOutcome]
    colour_conversions: dict[str, list[str]]
    ocr: OcrSummary
    replay: dict[str, dict[str, Any]]
    fixity: dict[str, Any] | None
    pages: tuple[PageEntry, ...]
    failures: tuple[Failure, ...]
    built_from: str = ""  # see :func:`pipeline.archive.report.report_key`
    #: The OCR against the volume's human transcriptions, where it has any.
    ocr_accuracy: OcrAccuracy | None = None
    version: int = field(default=REPORT_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON document (``report.json``, one volume of ``status --json``)."""
        tiled = [p.tiles for p in self.pages if p.tiles is not None]
        return {
            "version": self.version,
            "built_from": self.built_from,
            "volume": self.volume,
            "error": self.error,
            "generated": self.generated,
            "pages_found": self.pages_found,
            "input": self.input.to_dict(),
            "stages": {name: tally.to_dict() for name, tally in self.stages.items()},
            "volume_stages": {k: v.volume_dict() for k, v in self.volume_stages.items()},
            "colour_conversions": self.colour_conversions,
            "tiles": {"pages": len(tiled), "files": sum(tiled)},
            "ocr": self.ocr.to_dict(),
            "replay": self.replay,
            "fixity": self.fixity,
            "pages": [p.to_dict() for p in self.pages],
            "failures": [f.to_dict() for f in self.failures],
        } | ({"ocr_accuracy": self.ocr_accuracy.to_dict()} if self.ocr_accuracy else {})
