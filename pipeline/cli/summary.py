"""What the commands tell people and scripts: the run summary and its JSON, status lines, checks.

Each document is built once and rendered twice: as lines on stderr for people and, with
``--json``, as one JSON document on stdout for scripts, so the two never disagree.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.archive.report import html_file, report_file
from pipeline.archive.report_html import review_label
from pipeline.errors import prefixed_lines
from pipeline.iiif.image import ReplayReport
from pipeline.layout import Layout
from pipeline.records import JobReport
from pipeline.results import Failure

SUMMARY_VERSION = 1
MAX_LISTED_FAILURES = 20
MAX_LISTED_REVIEW = 10


def iso_time(seconds: float) -> str:
    """An ISO 8601 local time with its UTC offset: ``2026-12-03T14:02:11+01:00``."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def plural(count: int, word: str, words: str | None = None) -> str:
    """Return ``1 missing URL``, ``2 missing URLs``."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def _review(vol: dict[str, Any]) -> dict[str, Any] | None:
    ocr = vol.get("ocr", {})
    pages = ocr.get("needs_review", [])
    if not pages:
        return None
    return {"volume": vol["volume"], "pages": pages, "list": ocr.get("review_list")}


def run_document(
    report: JobReport, *, base_url: str, log_path: Path, exit_code: int
) -> dict[str, Any]:
    """The summary of a finished (or interrupted) job, as ``pipeline run --json`` prints it.

    The volumes' reports were written by the job; the document names the ones of failed
    volumes and lists every page held for review from them.

    Args:
        report: The job report.
        base_url: The base URL the job built for.
        log_path: The job log.
        exit_code: The exit code the command ends with.

    Returns:
        A JSON-ready document.
    """
    failed_volumes: list[dict[str, Any]] = []
    review: list[dict[str, Any]] = []
    for path in map(Path, report.report_paths):
        vol = json.loads(path.read_text(encoding="utf-8"))
        if vol.get("error") or vol.get("failures"):
            failed_volumes.append(
                {
                    "volume": vol["volume"],
                    "failures": len(vol.get("failures", [])),
                    "report": str(path),
                    "html": str(html_file(path)),
                }
            )
        held = _review(vol)
        if held is not None:
            review.append(held)
    return {
        "version": SUMMARY_VERSION,
        "status": "interrupted" if report.interrupted else "done",
        "exit_code": exit_code,
        "started": iso_time(report.started),
        "finished": iso_time(report.started + report.duration_s),
        "duration_s": report.duration_s,
        "base_url": base_url,
        "counts": dict(report.counts),
        "failures": [
            {
                "volume": rec.volume,
                "page": rec.page,
                "file": rec.result_as(Failure).file or "",
                "stage": rec.stage,
                "error": rec.error,
                "error_type": rec.error_type,
            }
            for rec in report.failures
        ],
        "internal_errors": report.internal_errors,
        "input_errors": list(report.input_errors),
        "failed_volumes": failed_volumes,
        "needs_review": review,
        "reports": list(report.report_paths),
        "log": str(log_path),
    }


def review_line(held: dict[str, Any], *, prefix: str = "") -> str:
    """One line naming the pages of a volume held for review, with their master files."""
    pages = held["pages"]
    shown = ", ".join(review_label(p) for p in pages[:MAX_LISTED_REVIEW])
    more = f" and {len(pages) - MAX_LISTED_REVIEW} more" if len(pages) > MAX_LISTED_REVIEW else ""
    listed = f"; list: {held['list']}" if held.get("list") else ""
    return (
        f"needs review (low OCR confidence): {prefix}{plural(len(pages), 'page')}: "
        f"{shown}{more}{listed}"
    )


def run_lines(doc: dict[str, Any], duration: str) -> list[str]:
    """The summary on stderr: failures, failed volumes' reports, pages for review, totals last.

    Args:
        doc: What :func:`run_document` returns.
        duration: The job's duration, formatted.

    Returns:
        The lines, the totals last.
    """
    lines = []
    for f in doc["failures"][:MAX_LISTED_FAILURES]:
        where = f"{f['volume']}/{f['file'] or f['page']}" if f["file"] or f["page"] else None
        where = where or f["volume"] or "collection"
        lines += prefixed_lines(f"error: {where} [{f['stage']}]: ", f["error"])
    if len(doc["failures"]) > MAX_LISTED_FAILURES:
        lines.append(f"... and {len(doc['failures']) - MAX_LISTED_FAILURES} more")
    if doc["internal_errors"]:
        lines.append(f"this is a bug, please report it with {doc['log']}")
    for vol in doc["failed_volumes"]:
        lines.append(
            f"report of {vol['volume']} ({plural(vol['failures'], 'failure')}): {vol['html']}"
        )
    lines += [review_line(held, prefix=f"{held['volume']}: ") for held in doc["needs_review"]]
    c = doc["counts"]
    paths = doc["reports"]
    reports = f"; report: {paths[0]}" if len(paths) == 1 else ""
    if len(paths) > 1:
        reports = f"; reports: {Path(paths[0]).parent}"
    lines.append(
        f"{doc['status']}: {c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped, "
        f"{c['current']} up to date in {duration}{reports}"
    )
    return lines


def check_document(report: ReplayReport, *, base_url: str) -> dict[str, Any]:
    """What ``pipeline check --json`` prints: the URLs viewers would request in vain."""
    return {
        "version": SUMMARY_VERSION,
        "checked": iso_time(time.time()),
        "base_url": base_url,
        "services": report.services,
        "missing": list(report.missing),
        "problems": list(report.problems),
    }


def check_line(report: ReplayReport) -> str:
    """The last line of ``pipeline check``."""
    return (
        f"checked {plural(report.services, 'image service')}: "
        f"{plural(len(report.missing), 'missing URL')}, "
        f"{plural(len(report.problems), 'other problem')}"
    )


# -- status -------------------------------------------------------------------------------------
def status_failed(data: dict[str, Any]) -> bool:
    """Whether the status shows a failure: a volume unreadable or a page, volume or collection."""
    for vol in data["volumes"]:
        if vol["error"] is not None or vol["failures"]:
            return True
    return any(c["status"] == "failed" for c in data.get("collection", {}).values())


def status_lines(vol: dict[str, Any]) -> list[str]:
    """The human-readable status of one volume, from its report; columns aligned."""
    vid = vol["volume"]
    if vol["error"] is not None:
        return prefixed_lines(f"{vid}: error: ", vol["error"])
    lines = [f"{vid} ({plural(vol['pages_found'], 'page')})"]
    width = max((len(name) for name in vol["stages"]), default=0)
    for name, c in vol["stages"].items():
        lines.append(
            f"  {name:<{width}} {c['ok']:>5} done {c['failed']:>5} failed "
            f"{c['skipped']:>5} skipped {c['pending']:>5} pending"
        )
        lines += [f"    {e['file'] or e['page'] or vid}: {e['error']}" for e in c["errors"]]
    held = _review(vol)
    if held is not None:
        lines.append("  " + review_line({**held, "list": None}))
    inp = vol["input"]
    lines += [f"  missing: {name} is listed in volume.toml" for name in inp["missing_files"]]
    lines += [f"  warning: {name} is not listed in volume.toml" for name in inp["unlisted_files"]]
    lines += [f"  warning: page numbering: {gap}" for gap in inp["numbering_gaps"]]
    lines += [f"  warning: {w}" for w in inp["warnings"]]
    lines += source_lines(vol.get("metadata_sources", {}))
    fixity = vol.get("fixity")
    if fixity:
        lines.append(
            f"  fixity: {fixity['problems']} problem(s) in {fixity['masters']} masters and "
            f"{fixity['derivatives']} derivative files at the last 'pipeline verify'"
        )
    return lines


def source_lines(sources: dict[str, str]) -> list[str]:
    """Where a volume's description came from: its catalogue entry, and what volume.toml won."""
    entries = sorted({where for where in sources.values() if where != "volume.toml"})
    won = sorted(key for key, where in sources.items() if where == "volume.toml")
    lines = [f"  described by {where}" for where in entries]
    if won:
        lines.append(f"  volume.toml wins over the catalogue for: {', '.join(won)}")
    return lines


def collection_lines(collection: dict[str, Any]) -> list[str]:
    """The collection's row (and its error), after the volumes."""
    lines = []
    for name, c in collection.items():
        listed = f": {plural(len(c['volumes']), 'volume')}" if c["status"] == "ok" else ""
        files = f" in {', '.join(c['files'])}" if c["files"] else ""
        lines.append(f"{name}: {c['status']}{listed}{files}")
        if c["error"]:
            lines.append(f"  {c['error']}")
    return lines


def status_text(data: dict[str, Any], layout: Layout) -> list[str]:
    """What ``pipeline status`` prints: a running job, each volume (and its report), the collection.

    Args:
        data: The job's status, as the volumes' reports hold it.
        layout: The output folder's layout (where the reports' HTML pages are).

    Returns:
        The lines, for stdout.
    """
    lines = []
    if data["running"]:
        lines.append(f"a job is running on {layout.out} ({data['running']})")
    for vol in data["volumes"]:
        lines += status_lines(vol)
        html = html_file(report_file(layout, vol["volume"]))
        if html.is_file():
            lines.append(f"  report: {html}")
    return lines + collection_lines(data["collection"])
