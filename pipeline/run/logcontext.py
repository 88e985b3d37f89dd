"""Stage and page context on every log record, in the job process and in its workers.

:func:`task_context` marks what a process is working on; :class:`ContextFilter`, attached to
the handlers, adds it to each record as ``%(context)s`` (``"[ocr MS-0042/p001] "``, or empty
outside a task). Pool workers have no handlers of their own: a task's records travel back with
its result (:func:`collected_records`) and the job process writes them like its own
(:func:`replay`), so a worker killed mid-task can never block anyone's logging.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Libraries that log every call at DEBUG or INFO: warnings only, in every process.
NOISY_LOGGERS = ("pyvips", "PIL", "botocore", "boto3", "urllib3", "s3transfer")

_CONTEXT: ContextVar[str] = ContextVar("pipeline_task", default="")


@contextmanager
def task_context(stage: str, volume: str, page: str = "") -> Iterator[None]:
    """Log records made inside the block name ``stage`` and the volume (and page)."""
    subject = f"{volume}/{page}" if page else volume
    token = _CONTEXT.set(f"{stage} {subject}" if subject else stage)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Set ``record.context`` from the task being run (kept if a worker already set it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; add its context."""
        if not hasattr(record, "context"):
            current = _CONTEXT.get()
            record.context = f"[{current}] " if current else ""
        return True


def quiet_noisy_loggers() -> None:
    """Keep chatty libraries at WARNING."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class _Demote(logging.Filter):
    """A library's warnings become DEBUG records: the job log keeps them, the terminal does not.

    libvips warns ("error in tile 0 x 88") before the stage raises the error that is recorded
    and reported in one line; Dask warns about the workers a stopped job kills. Either would
    only add noise on the terminal (``-vv`` shows them). Errors stay errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; demote a warning."""
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_DEMOTE = _Demote()


def demote_warnings(logger: logging.Logger) -> None:
    """Send ``logger``'s own warnings to the job log only (its children need their own call)."""
    if _DEMOTE not in logger.filters:
        logger.addFilter(_DEMOTE)


class _Collect(logging.Handler):
    """Keeps a task's log records, made picklable, to travel back with its result.

    Only records made in the thread that runs the task: a Dask worker runs several tasks at
    once in threads of one process.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(ContextFilter())
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        # As QueueHandler.prepare: the message is formatted here, the arguments dropped.
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


@contextmanager
def collected_records() -> Iterator[list[logging.LogRecord]]:
    """In a worker: the log records the block makes in this thread, for the job process."""
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


def worker_logging() -> None:
    """In a worker process: no output of its own; records at every level reach the collector."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()


def replay(records: list[logging.LogRecord]) -> None:
    """In the job process: handle a worker's records as if they had been made here.

    Levels were applied where the records were made (the worker quiets the same libraries);
    the handlers here apply their own, so libvips warnings demoted to DEBUG still reach the
    job log but not the terminal.
    """
    for record in records:
        logging.getLogger(record.name).handle(record)
