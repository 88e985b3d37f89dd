"""What ``pipeline publish`` prints: the dry-run plan, failures, notes and the closing summary."""

from __future__ import annotations

from pipeline.publish.report import PublishReport
from pipeline.run.progress import format_duration


def format_size(nbytes: int) -> str:
    """A byte count for people: ``512 B``, ``1.5 KB``, ``12.0 MB``, ``3.2 GB`` (powers of 1000)."""
    value = float(nbytes)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def plan_lines(report: PublishReport) -> list[str]:
    """What a dry run would do, for stdout: ``upload KEY`` or ``delete KEY``, sorted."""
    return sorted(f"{action} {key}" for action, key, _ in report.plan)


def summary_lines(report: PublishReport, *, max_failures: int = 20) -> list[str]:
    """The lines ``pipeline publish`` writes to stderr, the summary last.

    Args:
        report: The finished (or interrupted, or dry-run) publish.
        max_failures: How many failures to list; the rest are in the job log.

    Returns:
        At most ``max_failures`` failures, the notes, then one summary line (the dry run's
        plan itself is :func:`plan_lines`).
    """
    lines = [
        f"error: {subject} [publish]: {msg}" for subject, msg in report.failures[:max_failures]
    ]
    lines += [f"note: {note}" for note in report.notes]
    if report.dry_run:
        ups = [s for a, _, s in report.plan if a == "upload"]
        dels = [s for a, _, s in report.plan if a == "delete"]
        lines.append(
            f"dry run: would upload {len(ups)} object(s) ({format_size(sum(ups))}) and delete "
            f"{len(dels)} ({format_size(sum(dels))}) on {report.target}; "
            f"{report.unchanged} unchanged"
            + (f", {report.restored} to restore" if report.restored else "")
        )
    else:
        state = "interrupted" if report.interrupted else "done"
        restored = f", {report.restored} of them restored" if report.restored else ""
        lines.append(
            f"{state}: {len(report.published)} volume(s) published, {len(report.current)} up to "
            f"date, {len(report.failures)} failed; {report.uploaded} object(s) uploaded "
            f"({format_size(report.uploaded_bytes)}{restored}), {report.unchanged} unchanged, "
            f"{report.deleted} deleted on {report.target} in {format_duration(report.duration_s)}"
        )
    return lines
