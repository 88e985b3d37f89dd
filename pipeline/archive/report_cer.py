"""The report's measure of our own OCR: its CER against human transcriptions, and the gate's record.

Where a page has both a human transcription and OCR, the ``transcription`` stage records the
edits from the transcription to the OCR's text and the transcription's length (white space
removed, NFC: :mod:`pipeline.ocr.cer`). The report gives each such page's CER, the volume's
(all edits over all characters), and how the confidence gate did: pages whose CER is above
:data:`GATE_CER` that were not held for review slipped through it; pages held for review with
a CER at or below it were held needlessly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.ocr.cer import rate
from pipeline.records import StageRecord
from pipeline.results import OcrResult, TranscriptionResult

#: Above this CER (percent), a page's OCR should have been held for review.
GATE_CER = 10.0


@dataclass(frozen=True)
class MeasuredPage:
    """One page's OCR measured against its human transcription."""

    page: str
    file: str
    edits: int
    characters: int
    held: bool  # held for review by the confidence gate
    confidence: float | None

    @property
    def cer(self) -> float:
        """The page's CER in percent."""
        return rate(self.edits, self.characters)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the page."""
        return {
            "page": self.page,
            "file": self.file,
            "cer": self.cer,
            "edits": self.edits,
            "characters": self.characters,
            "confidence": self.confidence,
            "held_for_review": self.held,
        }


@dataclass(frozen=True)
class OcrAccuracy:
    """The volume's OCR against its human transcriptions, page by page."""

    pages: tuple[MeasuredPage, ...]

    @property
    def cer(self) -> float:
        """The volume's CER in percent: all edits over all characters."""
        return rate(sum(p.edits for p in self.pages), sum(p.characters for p in self.pages))

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the measure (``ocr_accuracy`` in the report)."""
        above = [p for p in self.pages if p.cer > GATE_CER]
        return {
            "pages": len(self.pages),
            "cer": self.cer,
            "edits": sum(p.edits for p in self.pages),
            "characters": sum(p.characters for p in self.pages),
            "gate_cer": GATE_CER,
            "above_gate": len(above),
            "missed_by_gate": [p.page for p in above if not p.held],
            "held_below_gate": [p.page for p in self.pages if p.held and p.cer <= GATE_CER],
            "per_page": [p.to_dict() for p in self.pages],
        }


def ocr_accuracy(
    records: Mapping[tuple[str, str], StageRecord], pages: Sequence[str], files: Mapping[str, str]
) -> OcrAccuracy | None:
    """The measure over the pages that have a human transcription and OCR, in page order.

    Args:
        records: The volume's records by (page, stage).
        pages: Its page ids in order.
        files: Each page's master file name.

    Returns:
        The measure, or ``None`` when no page has both.
    """
    measured = []
    for page in pages:
        rec = records.get((page, "transcription"))
        ocr_rec = records.get((page, "ocr"))
        if rec is None or rec.status != "ok" or ocr_rec is None or ocr_rec.status != "ok":
            continue
        found = rec.result_as(TranscriptionResult)
        if found.ocr_edits is None or found.reference_chars is None:
            continue
        ocr = ocr_rec.result_as(OcrResult)
        measured.append(
            MeasuredPage(
                page=page,
                file=files.get(page, ""),
                edits=found.ocr_edits,
                characters=found.reference_chars,
                held=ocr.needs_review,
                confidence=ocr.confidence,
            )
        )
    return OcrAccuracy(tuple(measured)) if measured else None
