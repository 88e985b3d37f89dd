"""The per-volume run report: machine-readable JSON, versioned, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.records import RECORD_VERSION
from pipeline.state import StateStore
from pipeline.volumes import Volume


def volume_report(state: StateStore, volume: Volume | None, volume_id: str) -> dict[str, Any]:
    """Everything the state store knows about one volume, in page order."""
    records = list(state.records(volume_id))
    order = {p.page: i for i, p in enumerate(volume.pages)} if volume else {}
    pages: dict[str, dict[str, Any]] = {}
    volume_stages: dict[str, Any] = {}
    for rec in records:
        entry = {
            "status": rec.status,
            "error": rec.error or None,
            "error_type": rec.error_type or None,
            "duration_s": rec.duration_s,
            "data": {k: v for k, v in rec.data.items() if k != "traceback"},
            "outputs": rec.outputs,
        }
        if rec.page:
            pages.setdefault(rec.page, {"page": rec.page, "stages": {}})["stages"][rec.stage] = entry
        else:
            volume_stages[rec.stage] = entry
    ordered = sorted(pages.values(), key=lambda p: order.get(p["page"], len(order)))
    failures = [
        {"page": rec.page, "stage": rec.stage, "error": rec.error}
        for rec in records
        if rec.status == "failed"
    ]
    return {
        "version": RECORD_VERSION,
        "volume": volume_id,
        "pages_found": len(volume.pages) if volume else 0,
        "unlisted_files": list(volume.unlisted) if volume else [],
        "stages": volume_stages,
        "pages": ordered,
        "failures": failures,
    }


def write_volume_report(
    layout: Layout, state: StateStore, volume: Volume | None, *, volume_id: str | None = None
) -> Path:
    """Write ``<work>/reports/<volume>.json`` and return its path."""
    vid = volume.id if volume else str(volume_id)
    path = layout.report_path(vid)
    data = volume_report(state, volume, vid)
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return path
