"""The review list: pages a stage flagged ``needs_review`` (low OCR confidence), as CSV for staff.

Any page stage may set ``needs_review`` in its record data; the list is built from a volume's
report (:func:`pipeline.archive.report.volume_report`), so it needs nothing stage-specific
here beyond the columns it shows when present.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

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


def review_entries(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The pages of a volume report that a stage flagged ``needs_review``, in page order."""
    out = []
    for entry in report.get("pages", []):
        for stage, rec in entry.get("stages", {}).items():
            data = rec.get("data", {})
            if rec.get("status") != "ok" or not data.get("needs_review"):
                continue
            out.append(
                {
                    "page_number": int(entry.get("index", 0)) + 1,
                    "page": entry["page"],
                    "file": entry.get("file", ""),
                    "stage": stage,
                    "confidence": data.get("confidence"),
                    "words": data.get("words"),
                    "language": data.get("language"),
                    "published": data.get("published"),
                    "text": data.get("txt"),
                    "hocr": data.get("hocr"),
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


def write_review_list(layout: Layout, volume_id: str, report: dict[str, Any]) -> Path | None:
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
