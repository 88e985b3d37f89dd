"""Logging set-up (with stage and page context) and the one progress protocol of every job.

A job (:func:`pipeline.run.job.run_job`, :func:`pipeline.publish.job.publish`) is handed a
:class:`Reporter` and opens a bar per stage (or publish phase); the CLI chooses which
(:func:`make_reporter`): bars on a terminal, log lines without one, or nothing.
"""

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
    DownloadColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from pipeline.errors import JobInputError
from pipeline.records import StageRecord
from pipeline.run.logcontext import ContextFilter, quiet_noisy_loggers

log = logging.getLogger(__name__)

# Job logs kept besides the current one.
KEEP_JOB_LOGS = 5


class Bar(Protocol):
    """The progress of one stage of a job (or one phase of a publish)."""

    def advance(
        self,
        subject: str = "",
        record: StageRecord | None = None,
        *,
        count: int = 1,
        nbytes: int = 0,
    ) -> None:
        """``count`` items finished, ``nbytes`` bytes of them.

        Args:
            subject: What finished (``MS-0042/f017r``), or ``up to date``.
            record: A stage task's fresh record; None when it was up to date (or for items
                that are not stage tasks, such as uploaded objects).
            count: How many items finished.
            nbytes: Their size, for a stage measured in bytes.
        """
        ...


class Reporter(Protocol):
    """What a job tells about its progress."""

    def stage(self, name: str, total: int, *, nbytes: int = 0) -> AbstractContextManager[Bar]:
        """Context manager around one stage: ``total`` items (of ``nbytes`` bytes, if > 0)."""
        ...


class _NullBar:
    def advance(
        self,
        subject: str = "",
        record: StageRecord | None = None,
        *,
        count: int = 1,
        nbytes: int = 0,
    ) -> None:
        pass


class NullReporter:
    """No progress output (``--quiet``, or stderr is not a terminal where lines are not wanted)."""

    @contextmanager
    def stage(self, name: str, total: int, *, nbytes: int = 0) -> Iterator[Bar]:
        """Nothing to show."""
        yield _NullBar()


class _RichBar:
    def __init__(self, progress: Progress, task: TaskID, by_bytes: bool) -> None:
        self._progress = progress
        self._task = task
        self._by_bytes = by_bytes
        self._done = 0

    def advance(
        self,
        subject: str = "",
        record: StageRecord | None = None,
        *,
        count: int = 1,
        nbytes: int = 0,
    ) -> None:
        self._done += count
        step = nbytes if self._by_bytes else count
        self._progress.update(self._task, advance=step, done=self._done, subject=subject)


class RichReporter:
    """A bar per stage on stderr: items done of total, bytes and throughput if it has any."""

    def __init__(self, console: Console) -> None:
        self._console = console

    @contextmanager
    def stage(self, name: str, total: int, *, nbytes: int = 0) -> Iterator[Bar]:
        """Show a bar while the stage runs (nothing for an empty stage)."""
        if total == 0:
            yield _NullBar()
            return
        by_bytes = nbytes > 0
        columns: list[ProgressColumn] = [
            TextColumn(f"{name:<12}"),
            BarColumn(),
            TextColumn(f"{{task.fields[done]}}/{total}"),
        ]
        if by_bytes:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        columns += [TimeElapsedColumn(), TextColumn("{task.fields[subject]}")]
        with Progress(*columns, console=self._console, transient=False) as progress:
            task = progress.add_task(name, total=nbytes if by_bytes else total, done=0, subject="")
            yield _RichBar(progress, task, by_bytes)


class _LogBar:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ran = 0
        self.current = 0

    def advance(
        self,
        subject: str = "",
        record: StageRecord | None = None,
        *,
        count: int = 1,
        nbytes: int = 0,
    ) -> None:
        if record is None:
            self.current += count
            return
        self.ran += count
        what = self.name if subject == self.name else f"{self.name} {subject}"
        log.info("%s: %s in %.2f s", what, record.status, record.duration_s)


class LogReporter:
    """A log line (INFO) per finished task and stage, for logs that are not a terminal.

    The lines reach stderr with ``-v`` and the job log always, so cron mails and CI logs show
    how far a job got: ``ocr MS-0042/f017r: ok in 3.21 s``.
    """

    @contextmanager
    def stage(self, name: str, total: int, *, nbytes: int = 0) -> Iterator[Bar]:
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


def make_reporter(*, quiet: bool = False, log_lines: bool = True) -> Reporter:
    """Bars on stderr when it is a terminal; nothing with ``quiet``.

    Args:
        quiet: Show nothing.
        log_lines: Without a terminal, log a line per finished task and stage (-v shows them;
            the job log keeps them); else show nothing.

    Returns:
        The reporter to hand the job.
    """
    if quiet:
        return NullReporter()
    if not sys.stderr.isatty():
        return LogReporter() if log_lines else NullReporter()
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
