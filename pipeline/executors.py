"""Executors run stage tasks: in this process, in a local process pool, or (later) on a cluster.

A task and the record it returns are small and picklable; the parent process alone stores
records, so an executor needs nothing but ``map`` and ``close``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import PageError
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One stage applied to one page, volume or the collection."""

    stage: str
    volume: str
    page: str
    inp: Any
    settings: Any
    layout: Layout
    fingerprint: str


def worker_setup() -> None:
    """Process-wide settings for a process that runs stages (called once per worker)."""
    from pipeline.external.tesseract import limit_threads
    from pipeline.imaging import configure_vips

    configure_vips()
    limit_threads()


def _pool_initializer() -> None:
    # The parent owns Ctrl-C: it cancels outstanding work and stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_setup()


def execute(task: Task) -> StageRecord:
    """Run one task and always return a record: bad input and bugs alike are recorded.

    Args:
        task: The task.

    Returns:
        The stage's record, with fingerprint and duration filled in.
    """
    from pipeline.stages import stage_by_name

    stage = stage_by_name(task.stage)
    started = time.monotonic()
    source = task.inp.item.source if isinstance(task.inp, PageInput) else ""
    try:
        record = stage.run(task.inp, task.settings, task.layout)
    except PageError as exc:
        record = StageRecord(
            stage=task.stage,
            volume=task.volume,
            page=task.page,
            status="failed",
            error_type=type(exc).__name__,
            error=str(exc),
            data={"file": Path(source).name} if source else {},
        )
    except Exception as exc:  # a bug: isolate it to this page and keep the traceback
        log.debug("internal error in %s", task.stage, exc_info=True)
        record = StageRecord(
            stage=task.stage,
            volume=task.volume,
            page=task.page,
            status="failed",
            error_type="internal",
            error=f"{type(exc).__name__}: {exc}",
            data={"traceback": traceback.format_exc(), **({"file": Path(source).name} if source else {})},
        )
    return replace(record, fingerprint=task.fingerprint, duration_s=round(time.monotonic() - started, 3))


class Executor(Protocol):
    """Runs tasks and yields their records in completion order."""

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        """Run every task; yield each record as it completes."""
        ...

    def close(self) -> None:
        """Release workers; outstanding tasks are cancelled."""
        ...


class SerialExecutor:
    """Runs tasks one after the other in this process (``-j 1``; easiest to debug)."""

    def __init__(self) -> None:
        worker_setup()

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        """Run tasks in order."""
        for task in tasks:
            yield execute(task)

    def close(self) -> None:
        """Nothing to release."""


class LocalExecutor:
    """A pool of worker processes on this machine (the default)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # forkserver: workers never inherit threads or libvips state from the parent.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_pool_initializer,
        )

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        """Submit every task; yield records as they complete."""
        pending: set[Future[StageRecord]] = {self._pool.submit(execute, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the workers, killing any task still running."""
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)


def make_executor(kind: str, workers: int) -> Executor:
    """Create the configured executor.

    Args:
        kind: ``local`` (``dask`` comes with its own issue).
        workers: Worker processes; 0 means one per core.
    """
    count = workers or os.cpu_count() or 1
    if kind == "local" and count == 1:
        return SerialExecutor()
    return LocalExecutor(count)
