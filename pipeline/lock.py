"""The output folder's job lock: one job at a time writes an output folder."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import logging.handlers
import os
import time
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import JobInputError
from pipeline.layout import Layout


@contextlib.contextmanager
def job_lock(layout: Layout) -> Iterator[None]:
    """Hold the output folder's lock for the duration of a job, and start its job log.

    Raises:
        JobInputError: Another job is running on the same output folder.
    """
    try:
        layout.work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JobInputError(
            f"{layout.out}: cannot create the output folder ({exc.strerror}: {exc.filename}); "
            "choose another --out (site.out)"
        ) from None
    with layout.lock_path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise JobInputError(
                f"{layout.out}: another pipeline job is running on this output folder "
                f"({holder}); wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        start_job_log(layout.log_path)
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def start_job_log(path: Path) -> None:
    """Start a new job log at ``path``, if this process writes one: the last one moves to ``.1``.

    Called by a job once it holds the output folder's lock (the CLI opened the file earlier).
    """
    target = path.resolve()
    for handler in logging.getLogger().handlers:
        if (
            isinstance(handler, logging.handlers.RotatingFileHandler)
            and Path(handler.baseFilename).resolve() == target
            and target.stat().st_size
        ):
            handler.doRollover()


def running_job(layout: Layout) -> str | None:
    """Describe the job holding the output folder's lock (``pid 12, started ...``), if any.

    Takes the lock shared for an instant, never exclusively, and writes nothing.
    """
    try:
        fh = layout.lock_path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return fh.read().strip() or "another process"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None
