"""The run report as a static HTML page for staff (a Jinja2 template, autoescaped)."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import jinja2

from pipeline.archive.report_model import MAX_LISTED, STATUSES

TEMPLATE = "report.html"


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.archive", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: "" if value is None else value,
    )
    return env.get_template(TEMPLATE)


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


def render_html(report: dict[str, Any]) -> str:
    """Render a report (its JSON form) as a static page: problems first, then one row per page.

    Every value from the report is escaped by the template; the lines prepared here are plain
    text too.
    """
    vid = report["volume"]
    ocr = report["ocr"]
    fixity = report.get("fixity")
    return _template().render(
        r=report,
        statuses=STATUSES,
        max_listed=MAX_LISTED,
        failures=[
            f"{f['file'] or f['page'] or vid} [{f['stage']}]: {f['error']}"
            for f in report["failures"]
        ],
        conversions=[
            f"{what}: {len(pages)} page(s)" for what, pages in report["colour_conversions"].items()
        ],
        review=", ".join(review_label(x) for x in ocr["needs_review"]) or "none",
        review_list=f" (list: {ocr['review_list']})" if ocr.get("review_list") else "",
        replay=[f"{k}: {replay_text(v)}" for k, v in report["replay"].items()],
        checked=time.strftime(
            "%Y-%m-%d %H:%M", time.localtime((fixity or {}).get("checked_at") or 0)
        ),
    )
