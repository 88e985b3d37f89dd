"""The review list: pages OCR held for review (low confidence), as CSV for staff.

Built from a volume's report (:func:`pipeline.archive.report.build_report`), which reads what
the OCR stage recorded.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from pipeline.archive.report_model import VolumeReport
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout

COLUMNS = (
    "page_number",
    "page",
    "file",
    "stage",
    "confidence",
    "words",
    "language",
    "published",
    "text",
    "hocr",
)


def review_entries(report: VolumeReport) -> list[dict[str, Any]]:
    """The pages of a volume report held for review, in page order, as rows of the list."""
    out = []
    for entry in report.pages:
        facts = entry.ocr
        if facts is None or not facts.needs_review:
            continue
        out.append(
            {
                "page_number": entry.index + 1,
                "page": entry.page,
                "file": entry.file,
                "stage": facts.stage,
                "confidence": facts.confidence,
                "words": facts.words,
                "language": facts.language,
                "published": facts.published,
                "text": facts.txt,
                "hocr": facts.hocr,
            }
        )
    return out


def render_csv(entries: list[dict[str, Any]]) -> str:
    """CSV with a header row; file paths are relative to the output folder."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({k: "" if entry.get(k) is None else entry[k] for k in COLUMNS})
    return buffer.getvalue()


def write_review_list(layout: Layout, volume_id: str, report: VolumeReport) -> Path | None:
    """Write ``<work>/reports/<volume>-review.csv`` when any page needs review.

    A list left from an earlier run is removed once nothing needs review any more.

    Returns:
        Its path, or ``None`` when nothing needs review.
    """
    path = layout.review_list_path(volume_id)
    entries = review_entries(report)
    if not entries:
        path.unlink(missing_ok=True)
        return None
    write_text_atomic(path, render_csv(entries))
    return path
