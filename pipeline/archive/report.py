"""The per-volume run report's files: versioned JSON, an HTML page and the review list.

Written atomically at the end of every job (and after ``pipeline verify``), and rebuilt only
when what they show changed; ``pipeline status`` returns the written report while it is current.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic_core import from_json

from pipeline import __version__
from pipeline.archive.contact import contact_sheet
from pipeline.archive.report_build import build_report, collection_status, fixity_entry
from pipeline.archive.report_html import render_html
from pipeline.archive.report_model import MAX_LISTED, REPORT_VERSION
from pipeline.archive.review import write_review_list
from pipeline.fsio import write_text_atomic
from pipeline.input.volumes import Volume, page_id_for
from pipeline.layout import SAFE_ID, Layout
from pipeline.records import StageRecord
from pipeline.state import StateStore


def volume_report(
    state: StateStore | None, volume: Volume | None, volume_id: str, *, error: str | None = None
) -> dict[str, Any]:
    """The JSON of :func:`build_report`, built now."""
    key = report_key(state, volume, volume_id, error)
    return build_report(state, volume, volume_id, error=error, built_from=key).to_dict()


def report_key(
    state: StateStore | None, volume: Volume | None, volume_id: str, error: str | None
) -> str:
    """Digest what a volume's report is built from, without reading any record.

    That is the version of the volume's records in the state store, the volume folder as read
    (pages, other files), the last fixity check, the error that made the volume unreadable,
    and the version of the report and of the pipeline. A report whose ``built_from`` equals
    the digest now shows what a new one would (but its ``generated`` time).
    """
    folder = None
    if volume is not None:
        pages = [(item.page, item.source) for item in volume.pages]
        folder = [pages, volume.unlisted, volume.missing, volume.ignored[:MAX_LISTED]]
    parts = [
        REPORT_VERSION,
        __version__,
        volume_id,
        error,
        state.records_version(volume_id) if state is not None else None,
        fixity_entry(state, volume_id),
        folder,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def _current(path: Path, key: str) -> dict[str, Any] | None:
    """The report written at ``path`` if it was built from ``key`` and its page is beside it."""
    if not _built_from(path, key):
        return None
    try:
        data = from_json(path.read_bytes())  # megabytes at 10,000 pages: the Rust parser
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("built_from") == key else None


def _built_from(path: Path, key: str) -> bool:
    """Whether the report at ``path`` (and its page) was written from ``key``.

    Reads only the start of the file: :func:`report_json` sorts the keys, so ``built_from``
    comes first.
    """
    start = report_json({"built_from": key})[:-2]  # without the closing brace and newline
    try:
        with path.open(encoding="utf-8") as fh:
            if fh.read(len(start) + 1) != start + ",":
                return False
    except (OSError, UnicodeDecodeError):  # none yet, or unreadable: build a new one
        return False
    return html_file(path).is_file()


def write_volume_report(
    layout: Layout,
    state: StateStore,
    volume: Volume | None,
    *,
    volume_id: str | None = None,
    error: str | None = None,
) -> Path:
    """Write ``<work>/reports/<volume>.json``, its HTML page and review list; return the JSON path.

    A report still current (see :func:`report_key`) is left as it is. A volume whose folder
    name is not a safe id (it failed for that reason) is reported under a derived safe name,
    like a page id.
    """
    vid = volume.id if volume else str(volume_id)
    path = report_file(layout, vid)
    key = report_key(state, volume, vid, error)
    if _built_from(path, key):
        return path
    report = build_report(state, volume, vid, error=error, built_from=key)
    if volume is not None:
        listed = write_review_list(layout, vid, report)
        review = replace(report.ocr, review_list=str(listed) if listed else None)
        report = replace(report, ocr=review)
    data = report.to_dict()
    if volume is not None:
        sheet = contact_sheet(layout, state, volume, list(report.pages))
        data["contact_sheet"] = [page.to_dict() for page in sheet]
    write_text_atomic(path, report_json(data))
    write_text_atomic(html_file(path), render_html(data))
    return path


def report_json(report: dict[str, Any]) -> str:
    """The text of a report file: compact JSON with sorted keys and a trailing newline.

    Compact, because a volume of 10,000 pages makes megabytes that the standard library
    indents in pure Python, several times slower than it writes them compact (the HTML page
    is the one for people; ``python -m json.tool`` indents the file).
    """
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def report_file(layout: Layout, volume_id: str) -> Path:
    """Return where a volume's JSON report goes (any volume id, safe or not)."""
    return layout.report_path(volume_id if SAFE_ID.match(volume_id) else page_id_for(volume_id))


def html_file(report_path: Path) -> Path:
    """Return the HTML rendering's path beside a JSON report."""
    return report_path.with_suffix(".html")


def status_report(
    layout: Layout,
    state: StateStore | None,
    volumes: Sequence[Volume],
    broken: Sequence[StageRecord],
) -> dict[str, Any]:
    """Build what ``pipeline status --json`` prints: the report of every selected volume.

    Each volume's report is the one the last job wrote when still current, else one built now;
    nothing is written.

    Args:
        layout: Where the reports are.
        state: The state store, or ``None`` when nothing has run in the output folder yet.
        volumes: The volumes found.
        broken: Failure records of volumes whose folder or descriptor could not be read.

    """
    out = [_latest(layout, state, None, rec.volume, rec.error) for rec in broken]
    for volume in volumes:
        latest = _latest(layout, state, volume, volume.id, None)
        if volume.sources:
            latest["metadata_sources"] = dict(volume.sources)
        out.append(latest)
    return {"version": REPORT_VERSION, "volumes": out, "collection": collection_status(state)}


def _latest(
    layout: Layout,
    state: StateStore | None,
    volume: Volume | None,
    volume_id: str,
    error: str | None,
) -> dict[str, Any]:
    """The written report of a volume while current, else one built now."""
    key = report_key(state, volume, volume_id, error)
    written = _current(report_file(layout, volume_id), key)
    if written is not None:
        return written
    return build_report(state, volume, volume_id, error=error, built_from=key).to_dict()
