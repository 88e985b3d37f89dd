"""The per-volume run report: versioned JSON plus a static HTML page, both written atomically."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.archive.review import write_review_list
from pipeline.fsio import write_text_atomic
from pipeline.input.volumes import Volume, page_id_for
from pipeline.layout import SAFE_ID, Layout
from pipeline.records import StageRecord
from pipeline.stages import STAGES
from pipeline.state import StateStore

REPORT_VERSION = 2
MAX_LISTED = 200
STATUSES = ("ok", "failed", "skipped", "pending")

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<side>[rv]?)$", re.IGNORECASE)


def conversions(ingest: dict[str, Any]) -> list[str]:
    """List what making 8-bit sRGB (or grey) derivatives changes, from a master's ingest data."""
    out = []
    if ingest.get("orientation", 1) != 1:
        out.append(f"rotated upright (EXIF orientation {ingest['orientation']})")
    if ingest.get("has_icc"):
        out.append("embedded ICC profile -> sRGB")
    if ingest.get("interpretation") == "cmyk":
        out.append("CMYK -> sRGB")
    if ingest.get("palette"):
        out.append("palette -> full colour")
    if ingest.get("format") in ("ushort", "short", "uint", "int") or ingest.get("bits") == 16:
        out.append("16-bit -> 8-bit")
    elif ingest.get("format") in ("float", "double"):
        out.append("floating point -> 8-bit")
    if ingest.get("bits") == 1:
        out.append("1-bit -> 8-bit grey")
    if ingest.get("has_alpha"):
        out.append("transparency flattened onto white")
    return out


def numbering_gaps(files: Sequence[str]) -> list[str]:
    """Find gaps in numbered file names (``p003`` then ``p005``): pages not scanned or copied."""
    series: dict[str, list[int]] = {}
    for name in files:
        match = _NUMBERED.match(Path(name).stem)
        if match:
            series.setdefault(match["prefix"], []).append(int(match["number"]))
    gaps = []
    for prefix, numbers in sorted(series.items()):
        if len(numbers) < 3:
            continue
        ordered = sorted(set(numbers))
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b - a > 1:
                lost = b - a - 1
                gaps.append(f"{prefix}{a} -> {prefix}{b}: {lost} number{'s' * (lost > 1)} missing")
    return gaps


def _stage_counts(
    records: dict[tuple[str, str], StageRecord], pages: Sequence[str], files: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in STAGES:
        if stage.SCOPE == "collection":
            continue
        keys = list(pages) if stage.SCOPE == "page" else [""]
        counts: dict[str, Any] = dict.fromkeys(STATUSES, 0)
        errors = []
        for page in keys:
            rec = records.get((page, stage.NAME))
            counts[rec.status if rec else "pending"] += 1
            if rec and rec.status == "failed":
                file = files.get(page) or rec.data.get("file", "")
                errors.append({"page": page, "file": file, "error": rec.error})
        out[stage.NAME] = {**counts, "errors": errors}
    return out


def _fixity(state: StateStore | None, volume_id: str) -> dict[str, Any] | None:
    last = state.last_run("verify") if state is not None else None
    if last is None or last[2] is None:
        return None
    summary = json.loads(last[2])
    entry = summary.get("volumes", {}).get(volume_id)
    if entry is None:
        return None
    return {"checked_at": summary.get("checked_at"), **entry}


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """A record's data as reports show it: without a traceback (that goes to the job log)."""
    if "traceback" not in data:
        return data
    return {k: v for k, v in data.items() if k != "traceback"}


def volume_report(
    state: StateStore | None, volume: Volume | None, volume_id: str, *, error: str | None = None
) -> dict[str, Any]:
    """Everything known about one volume, in page order (also ``pipeline status --json``).

    Args:
        state: The state store (``None``: nothing has run yet).
        volume: The volume as found on disk, or ``None`` when its folder could not be read.
        volume_id: Its id.
        error: Why the volume could not be read (a broken ``volume.toml``), if so.

    """
    found = state.summaries(volume_id) if state is not None else iter(())
    records: dict[tuple[str, str], StageRecord] = {}
    listed: dict[tuple[str, str], int] = {}  # how many files each record lists
    for rec, count in found:
        records[rec.page, rec.stage] = rec
        listed[rec.page, rec.stage] = count
    pages = [p.page for p in volume.pages] if volume else sorted({p for p, _ in records if p})
    files = (
        {p: Path(i.source).name for i, p in ((i, i.page) for i in volume.pages)} if volume else {}
    )
    for (page, _stage), rec in records.items():
        if page and page not in files and rec.data.get("file"):
            files[page] = rec.data["file"]
    entries: list[dict[str, Any]] = []
    converted: dict[str, list[str]] = {}
    warnings: list[str] = []
    confidences: list[tuple[str, float]] = []
    review: list[dict[str, Any]] = []  # pages the OCR stage flagged (ocr.review_confidence)
    tiles_files = 0
    for index, page in enumerate(pages):
        stages: dict[str, Any] = {}
        for stage in STAGES:
            found_rec = records.get((page, stage.NAME))
            if stage.SCOPE != "page" or found_rec is None:
                continue
            stages[stage.NAME] = {
                "status": found_rec.status,
                "error": found_rec.error or None,
                "error_type": found_rec.error_type or None,
                "duration_s": found_rec.duration_s,
                "data": _shown(found_rec.data),
                "files": listed[page, stage.NAME],
            }
        ingest = records.get((page, "ingest"))
        tiles = records.get((page, "tiles"))
        ocr = records.get((page, "ocr"))
        entry: dict[str, Any] = {"page": page, "file": files.get(page, ""), "index": index}
        if ingest and ingest.status == "ok":
            entry["conversions"] = conversions(ingest.data)
            for what in entry["conversions"]:
                converted.setdefault(what, []).append(page)
            warnings += [f"{entry['file']}: {w}" for w in ingest.data.get("warnings", [])]
            entry.update(
                width=ingest.data.get("width"),
                height=ingest.data.get("height"),
                sha256=ingest.data.get("sha256"),
            )
        if tiles and tiles.status == "ok":
            entry["tiles"] = listed[page, "tiles"]
            tiles_files += entry["tiles"]
        if ocr and ocr.status == "ok" and ocr.data.get("confidence") is not None:
            entry["ocr_confidence"] = ocr.data["confidence"]
            confidences.append((page, float(ocr.data["confidence"])))
            if ocr.data.get("needs_review"):
                review.append(
                    {"page": page, "file": entry["file"], "confidence": ocr.data["confidence"],
                     "published": ocr.data.get("published")}
                )  # fmt: skip
        statuses = [s["status"] for s in stages.values()]
        entry["status"] = next((s for s in ("failed", "skipped") if s in statuses), None) or (
            "ok" if statuses else "pending"
        )
        entry["stages"] = stages
        entries.append(entry)
    own = sorted((key, rec) for key, rec in records.items() if not key[0])
    volume_stages = {
        rec.stage: {
            "status": rec.status,
            "error": rec.error or None,
            "data": _shown(rec.data),
            "files": listed[key],
        }
        for key, rec in own
    }
    # Volume stages' warnings (the manifest's: what removing markup took from a label).
    for _, rec in own:
        warnings += rec.data.get("warnings", [])
    # Volume-stage failures first, then page order (a page listed twice counts where it is first).
    position: dict[str, int] = {}
    for index, page in enumerate(pages):
        position.setdefault(page, index)
    failures = [
        {
            "page": rec.page,
            "file": files.get(rec.page, "") or rec.data.get("file", ""),
            "stage": rec.stage,
            "error": rec.error,
            "error_type": rec.error_type,
        }
        for (page, _), rec in sorted(
            (kv for kv in records.items() if kv[1].status == "failed"),
            key=lambda kv: (position.get(kv[0][0], -1), kv[0][1]),
        )
        if not page or page in position
    ]
    if error is not None:
        failures.insert(
            0,
            {
                "page": "",
                "file": "volume.toml",
                "stage": "ingest",
                "error": error,
                "error_type": "ConfigError",
            },
        )
    # Viewer replay checks (tiles, publish) record ``replay*`` keys; show them as they are.
    replay = {}
    for rec in records.values():
        checks = {k: v for k, v in rec.data.items() if k.startswith("replay")}
        if checks:
            replay[f"{rec.page or volume_id} [{rec.stage}]"] = checks
    scores = [c for _, c in confidences]
    return {
        "version": REPORT_VERSION,
        "volume": volume_id,
        "error": error,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "pages_found": len(volume.pages) if volume else 0,
        "input": {
            "unlisted_files": list(volume.unlisted) if volume else [],
            "missing_files": list(volume.missing) if volume else [],
            "ignored_files": list(volume.ignored[:MAX_LISTED]) if volume else [],
            "numbering_gaps": numbering_gaps(list(files.values())),
            "warnings": warnings,
        },
        "stages": _stage_counts(records, pages, files) if volume else {},
        "volume_stages": volume_stages,
        "colour_conversions": converted,
        "tiles": {"pages": sum(1 for e in entries if "tiles" in e), "files": tiles_files},
        "ocr": {
            "pages": len(scores),
            "mean_confidence": round(sum(scores) / len(scores), 2) if scores else None,
            "needs_review": review,
            "review_list": None,
        },
        "replay": replay,
        "fixity": _fixity(state, volume_id),
        "pages": entries,
        "failures": failures,
    }


def write_volume_report(
    layout: Layout,
    state: StateStore,
    volume: Volume | None,
    *,
    volume_id: str | None = None,
    error: str | None = None,
) -> Path:
    """Write ``<work>/reports/<volume>.json`` and its HTML rendering; return the JSON path.

    A volume whose folder name is not a safe id (it failed for that reason) is reported under
    a derived safe name, like a page id.
    """
    vid = volume.id if volume else str(volume_id)
    path = report_file(layout, vid)
    data = volume_report(state, volume, vid, error=error)
    if volume is not None:
        review_list = write_review_list(layout, vid, data)
        data["ocr"]["review_list"] = str(review_list) if review_list else None
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    write_text_atomic(html_file(path), render_html(data))
    return path


def report_file(layout: Layout, volume_id: str) -> Path:
    """Return where a volume's JSON report goes (any volume id, safe or not)."""
    return layout.report_path(volume_id if SAFE_ID.match(volume_id) else page_id_for(volume_id))


def html_file(report_path: Path) -> Path:
    """Return the HTML rendering's path beside a JSON report."""
    return report_path.with_suffix(".html")


def review_label(entry: dict[str, Any]) -> str:
    """Name a page held for review by its id, master file and OCR confidence."""
    file = f"{entry['file']}, " if entry.get("file") else ""
    return f"{entry['page']} ({file}{entry['confidence']})"


def replay_text(checks: dict[str, Any]) -> str:
    """Show a record's replay results as ``0 missing`` (not as a Python dict)."""
    return ", ".join(
        f"{value} {key.removeprefix('replay').strip('_').replace('_', ' ') or 'result'}"
        for key, value in sorted(checks.items())
    )


# -- HTML ---------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}
th{background:#f3f3f3}.failed,.error{color:#a40000;font-weight:600}.skipped{color:#8a5a00}
.ok{color:#1a6b1a}.muted{color:#777}ul{margin:.3em 0}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _list(title: str, items: Sequence[str], css: str = "") -> str:
    if not items:
        return ""
    lis = "".join(f"<li>{_e(i)}</li>" for i in items[:MAX_LISTED])
    more = (
        f"<li class=muted>… {len(items) - MAX_LISTED} more</li>" if len(items) > MAX_LISTED else ""
    )
    return f"<h2 class='{css}'>{_e(title)} ({len(items)})</h2><ul>{lis}{more}</ul>"


def render_html(report: dict[str, Any]) -> str:
    """Render a report as a static page for staff: problems first, then one row per page."""
    vid = report["volume"]
    parts = [
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{_e(vid)}: pipeline report"
        f"</title><style>{_CSS}</style><h1>{_e(vid)}</h1>",
        f"<p class=muted>report generated {_e(report['generated'])}; "
        f"{report['pages_found']} pages found</p>",
    ]
    if report.get("error"):
        parts.append(f"<p class=error>{_e(report['error'])}</p>")
    failures = [
        f"{f['file'] or f['page'] or vid} [{f['stage']}]: {f['error']}" for f in report["failures"]
    ]
    parts.append(_list("Failures", failures, "failed"))
    inp = report["input"]
    parts.append(_list("Listed in volume.toml but missing", inp["missing_files"], "failed"))
    parts.append(_list("Images not listed in volume.toml (not processed)", inp["unlisted_files"]))
    parts.append(_list("Gaps in page numbering", inp["numbering_gaps"]))
    parts.append(_list("Warnings", inp["warnings"]))
    parts.append(_list("Other files in the folder (ignored)", inp["ignored_files"]))
    if report["stages"]:
        rows = "".join(
            f"<tr><td>{_e(name)}</td>"
            + "".join(f"<td class={s}>{c[s]}</td>" for s in STATUSES)
            + "</tr>"
            for name, c in report["stages"].items()
        )
        head = "".join(f"<th>{s}</th>" for s in STATUSES)
        parts.append(f"<h2>Stages</h2><table><tr><th>stage</th>{head}</tr>{rows}</table>")
    conv = [f"{what}: {len(pages)} page(s)" for what, pages in report["colour_conversions"].items()]
    parts.append(_list("Colour conversions", conv))
    ocr = report["ocr"]
    if ocr["pages"]:
        low = ", ".join(review_label(x) for x in ocr["needs_review"]) or "none"
        listed = f" (list: {ocr['review_list']})" if ocr.get("review_list") else ""
        parts.append(
            f"<h2>OCR</h2><p>{ocr['pages']} pages, mean word confidence "
            f"{_e(ocr['mean_confidence'])}; needs review: {_e(low)}{_e(listed)}</p>"
        )
    parts.append(
        f"<p>Tiles: {report['tiles']['files']} files for {report['tiles']['pages']} pages.</p>"
    )
    if report["replay"]:
        checks = [f"{k}: {replay_text(v)}" for k, v in report["replay"].items()]
        parts.append(_list("Replay checks", checks))
    fix = report.get("fixity")
    if fix:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(fix.get("checked_at") or 0))
        css = "failed" if fix.get("problems") else "ok"
        parts.append(
            f"<h2>Fixity</h2><p class={css}>last verified {when}: {fix.get('masters')} masters, "
            f"{fix.get('derivatives')} derivative files, {fix.get('problems')} problem(s)</p>"
        )
    rows = "".join(
        f"<tr><td>{p['index'] + 1}</td><td>{_e(p['page'])}</td><td>{_e(p['file'])}</td>"
        f"<td class={_e(p['status'])}>{_e(p['status'])}</td>"
        f"<td>{_e(p.get('width'))} x {_e(p.get('height'))}</td>"
        f"<td>{_e(', '.join(p.get('conversions', [])))}</td><td>{_e(p.get('tiles', ''))}</td>"
        f"<td>{_e(p.get('ocr_confidence', ''))}</td></tr>"
        for p in report["pages"]
    )
    parts.append(
        "<h2>Pages</h2><table><tr><th>#</th><th>page id</th><th>file</th><th>status</th>"
        f"<th>size (px)</th><th>conversions</th><th>tiles</th><th>OCR conf.</th></tr>{rows}</table>"
    )
    return "\n".join(p for p in parts if p) + "\n"


def status_report(
    state: StateStore | None, volumes: Sequence[Volume], broken: Sequence[StageRecord]
) -> dict[str, Any]:
    """Build what ``pipeline status --json`` prints: the report of every selected volume.

    Args:
        state: The state store, or ``None`` when nothing has run in the output folder yet.
        volumes: The volumes found.
        broken: Failure records of volumes whose folder or descriptor could not be read.

    """
    out = [volume_report(state, None, rec.volume, error=rec.error) for rec in broken]
    out += [volume_report(state, volume, volume.id) for volume in volumes]
    return {"version": REPORT_VERSION, "volumes": out, "collection": collection_status(state)}


def collection_status(state: StateStore | None) -> dict[str, Any]:
    """The record of each collection-scope stage: status, error, files and what it lists."""
    out: dict[str, Any] = {}
    for stage in STAGES:
        if stage.SCOPE != "collection":
            continue
        rec = state.get("", "", stage.NAME) if state is not None else None
        out[stage.NAME] = {
            "status": rec.status if rec else "pending",
            "error": (rec.error or None) if rec else None,
            "files": sorted(rec.outputs) if rec else [],
            "volumes": list(rec.data.get("volumes", [])) if rec else [],
        }
    return out
