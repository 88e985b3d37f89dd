"""The contact sheet of a volume's report: every page's thumbnail in order, with what QA checks.

Each page shows its label, size, the conversions ingest applied, its OCR confidence and review
flag, and whether a transcription file exists for it. Pages whose shape is far from the
volume's usual one (a spread among single pages, a fold-out) are marked wide or tall.

Upside-down pages are marked from the orientation the OCR stage detected (tesseract's
``--psm 0`` on the page's OCR image) for the pages it held for review: a page read upside down
gives tesseract nothing it recognises, so its confidence always falls under the review
threshold. Building the sheet runs no tool. A page is marked when the detection says 180 (or
90, 270) degrees with a confidence of at least 2.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.archive.report_model import PageEntry
from pipeline.iiif.text import first_text
from pipeline.input.volumes import Volume
from pipeline.layout import Layout
from pipeline.results import OcrResult, TilesResult
from pipeline.state import StateStore

#: A page this many times wider (or taller) than the volume's median shape is an outlier.
OUTLIER_RATIO = 1.4
#: Orientation confidence from which tesseract's "rotated" is believed.
MIN_ORIENTATION_CONFIDENCE = 2.0


@dataclass(frozen=True)
class ContactPage:
    """One page of the contact sheet."""

    page: str
    label: str
    thumbnail: str | None  # relative to the report's folder, so the report works offline
    width: int | None
    height: int | None
    conversions: tuple[str, ...]
    confidence: float | None
    needs_review: bool
    transcription: bool
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the page."""
        return {
            "page": self.page,
            "label": self.label,
            "thumbnail": self.thumbnail,
            "width": self.width,
            "height": self.height,
            "conversions": list(self.conversions),
            "ocr_confidence": self.confidence,
            "needs_review": self.needs_review,
            "transcription": self.transcription,
            "flags": list(self.flags),
        }


def transcribed_pages(volume: Volume) -> set[str]:
    """The pages that a transcription file belongs to, as the volume was read.

    The files are in the volume's folder under ``site.transcriptions``, matched by page id,
    master stem or the image named inside.
    """
    return {item.page for item in volume.pages if item.transcript is not None}


def shape_flags(entries: list[PageEntry]) -> dict[str, str]:
    """``wide`` or ``tall`` for each page whose aspect ratio is far from the volume's median."""
    ratios = {
        e.page: e.ingest.width / e.ingest.height
        for e in entries
        if e.ingest is not None and e.ingest.width and e.ingest.height
    }
    if len(ratios) < 3:
        return {}
    median = statistics.median(ratios.values())
    out = {}
    for page, ratio in ratios.items():
        if ratio > median * OUTLIER_RATIO:
            out[page] = f"wide ({ratio:.2f} vs {median:.2f} in this volume)"
        elif ratio < median / OUTLIER_RATIO:
            out[page] = f"tall ({ratio:.2f} vs {median:.2f} in this volume)"
    return out


def rotation_flag(ocr: OcrResult) -> str | None:
    """Say a page is likely upside down (or sideways), from the orientation OCR recorded."""
    if ocr.orientation_error is not None:
        return f"orientation not measured: {ocr.orientation_error}"
    degrees, confidence = ocr.orientation, ocr.orientation_confidence
    if not degrees or confidence is None or confidence < MIN_ORIENTATION_CONFIDENCE:
        return None
    what = "upside down" if degrees == 180 else f"turned {degrees} degrees"
    return f"likely {what} (orientation confidence {confidence:.1f})"


def contact_sheet(
    layout: Layout, state: StateStore, volume: Volume, entries: list[PageEntry]
) -> list[ContactPage]:
    """Build a volume's contact sheet, in page order.

    Args:
        layout: The output folder (thumbnails are linked relative to the report's folder).
        state: The state store (each page's tile record names its thumbnail, its OCR record
            the orientation detected).
        volume: The volume.
        entries: The report's pages, in order.

    Returns:
        One entry per page.
    """
    report_dir = layout.report_path(volume.id).parent
    transcribed = transcribed_pages(volume)
    shapes = shape_flags(entries)
    labels = {item.page: first_text(item.label) for item in volume.pages}
    out = []
    for entry in entries:
        rec = state.get(volume.id, entry.page, "tiles")
        tiles = rec.result_as(TilesResult) if rec is not None and rec.status == "ok" else None
        service = layout.image_dir(volume.id, entry.page)
        thumb = None
        if tiles is not None and tiles.thumbnail is not None:
            thumb = Path(os.path.relpath(service / tiles.thumbnail.path, report_dir)).as_posix()
        flags = [shapes[entry.page]] if entry.page in shapes else []
        ocr = state.get(volume.id, entry.page, "ocr")
        flag = rotation_flag(ocr.result_as(OcrResult)) if ocr and ocr.status == "ok" else None
        flags += [flag] if flag else []
        facts = entry.ingest
        out.append(
            ContactPage(
                page=entry.page,
                label=labels.get(entry.page, entry.page),
                thumbnail=thumb,
                width=facts.width if facts else None,
                height=facts.height if facts else None,
                conversions=facts.conversions if facts else (),
                confidence=entry.ocr.confidence if entry.ocr else None,
                needs_review=bool(entry.ocr and entry.ocr.needs_review),
                transcription=entry.page in transcribed,
                flags=tuple(flags),
            )
        )
    return out
