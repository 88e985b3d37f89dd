"""Logging set-up (with stage and page context) and the progress bar; used by the CLI only."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from pipeline.errors import JobInputError
from pipeline.records import StageRecord
from pipeline.run.logcontext import ContextFilter, quiet_noisy_loggers

log = logging.getLogger(__name__)

# Job logs kept besides the current one.
KEEP_JOB_LOGS = 5


class Reporter(Protocol):
    """What the runner tells about its progress."""

    def stage(self, name: str, total: int) -> AbstractContextManager[StageBar]:
        """Context manager around one stage's tasks."""
        ...


class StageBar(Protocol):
    """One stage's bar."""

    def advance(self, subject: str, record: StageRecord | None = None) -> None:
        """One task finished (its fresh record), or was up to date (no record)."""
        ...


class _NullBar:
    def advance(self, subject: str, record: StageRecord | None = None) -> None:
        pass


class NullReporter:
    """No progress output (stderr is not a terminal, or ``--quiet``)."""

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[StageBar]:
        """Nothing to show."""
        yield _NullBar()


class _RichBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, subject: str, record: StageRecord | None = None) -> None:
        self._progress.update(self._task, advance=1, subject=subject)


class RichReporter:
    """A progress bar per stage on stderr."""

    def __init__(self, console: Console) -> None:
        self._console = console

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[StageBar]:
        """Show a bar while the stage's tasks run."""
        columns = (
            TextColumn(f"{name:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[subject]}"),
        )
        with Progress(*columns, console=self._console, transient=False) as progress:
            task = progress.add_task(name, total=total, subject="")
            yield _RichBar(progress, task)


class _LogBar:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ran = 0
        self.current = 0

    def advance(self, subject: str, record: StageRecord | None = None) -> None:
        if record is None:
            self.current += 1
            return
        self.ran += 1
        what = self.name if subject == self.name else f"{self.name} {subject}"
        log.info("%s: %s in %.2f s", what, record.status, record.duration_s)


class LogReporter:
    """A log line (INFO) per finished task and stage, for logs that are not a terminal.

    The lines reach stderr with ``-v`` and the job log always, so cron mails and CI logs show
    how far a job got: ``ocr MS-0042/f017r: ok in 3.21 s``.
    """

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[StageBar]:
        """Log each task of the stage as it finishes, then the stage's totals."""
        started = time.monotonic()
        bar = _LogBar(name)
        yield bar
        log.info(
            "%s: %d run, %d up to date, of %d in %.2f s",
            name,
            bar.ran,
            bar.current,
            total,
            time.monotonic() - started,
        )


def format_duration(seconds: float) -> str:
    """A duration for summaries: ``4.2s`` under a minute, else ``14m02s``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def make_reporter(*, quiet: bool = False) -> Reporter:
    """Bars on stderr when it is a terminal, else log lines (-v shows them); nothing if quiet."""
    if quiet:
        return NullReporter()
    if not sys.stderr.isatty():
        return LogReporter()
    return RichReporter(Console(stderr=True))


def setup_logging(*, verbose: int, log_path: Path | None = None) -> None:
    """Log warnings (or more with ``-v``) to stderr and everything to the job log file.

    Each job starts a fresh log file when it takes the lock; the logs of the previous
    :data:`KEEP_JOB_LOGS` jobs are kept beside it with the suffixes ``.1`` (the latest) and up.

    Raises:
        JobInputError: The job log's folder cannot be created or the log cannot be opened.
    """
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(context)s%(message)s"))
    console.addFilter(ContextFilter())
    root.addHandler(console)
    if log_path is not None:
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            # One file per job: once the job holds the output folder's lock, the previous
            # job's file moves to job.log.1 (start_job_log), so a job refused because another
            # one runs never moves the running job's log.
            handler = logging.handlers.RotatingFileHandler(
                log_path, encoding="utf-8", backupCount=KEEP_JOB_LOGS
            )
        except OSError as exc:
            raise JobInputError(
                f"{exc.filename or log_path}: cannot write the job log here ({exc.strerror}); "
                "choose another --out (site.out)"
            ) from None
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(context)s%(message)s")
        )
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    quiet_noisy_loggers()
