"""Executors run stage tasks: in this process, in a local process pool, or on a Dask cluster.

A task and the record it returns are small and picklable; the parent process alone stores
records, so an executor needs nothing but ``map`` and ``close``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from pipeline.errors import PageError
from pipeline.imaging.vips import configure_vips
from pipeline.layout import Layout
from pipeline.ocr.tesseract import limit_threads
from pipeline.records import StageRecord
from pipeline.results import Failure
from pipeline.run.logcontext import (
    collected_records,
    demote_warnings,
    replay,
    task_context,
    worker_logging,
)
from pipeline.run.outputs import complete_outputs
from pipeline.stages import stage_by_name
from pipeline.stages.spec import PageInput, StageInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One stage applied to one page, volume or the collection."""

    stage: str
    volume: str
    page: str
    inp: StageInput
    settings: BaseModel
    layout: Layout
    fingerprint: str


def worker_setup() -> None:
    """Process-wide settings for a process that runs stages (called once per worker)."""
    configure_vips()
    limit_threads()
    demote_warnings(logging.getLogger("pyvips"))


def _kill_children() -> None:
    """SIGKILL the programs this process started (tesseract), before it exits itself."""
    pids: set[int] = set()
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in (task / "children").read_text().split())
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _watch_job(job_pid: int) -> None:
    """Exit at once, with the tools this worker runs, when the job process is gone."""
    try:
        fd = os.pidfd_open(job_pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the job process has exited
    else:
        while True:
            try:
                os.kill(job_pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.5)
    _kill_children()
    os._exit(1)


def _pool_initializer(job_pid: int) -> None:
    # The parent owns Ctrl-C: it cancels outstanding work and stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker whose job was killed (kill -9, out of memory) must not go on writing into the
    # output folder while a new job starts there. Nothing else ends it: the forkserver and
    # the task queue stay open as long as any worker lives.
    threading.Thread(target=_watch_job, args=(job_pid,), name="watch-job", daemon=True).start()
    worker_logging()
    worker_setup()


def failed_record(
    task: Task, error_type: str, error: str, *, traceback: str | None = None
) -> StageRecord:
    """The ``failed`` record of a task, naming the master file of a page task.

    Args:
        task: The task that failed.
        error_type: The exception class name, ``internal`` for a bug, or ``WorkerDied``.
        error: The one-line reason.
        traceback: The traceback of a bug.

    Returns:
        The record, with the task's fingerprint.
    """
    failure = Failure()
    if traceback is not None:
        failure = failure.model_copy(update={"traceback": traceback})
    if isinstance(task.inp, PageInput):
        failure = failure.model_copy(update={"file": Path(task.inp.item.source).name})
    return StageRecord(
        stage=task.stage,
        volume=task.volume,
        page=task.page,
        status="failed",
        fingerprint=task.fingerprint,
        error_type=error_type,
        error=error,
        data=failure.to_data(),
    )


def execute(task: Task) -> StageRecord:
    """Run one task and always return a record: bad input and bugs alike are recorded.

    Args:
        task: The task.

    Returns:
        The stage's record, with fingerprint and duration filled in.
    """
    stage = stage_by_name(task.stage)
    started = time.monotonic()
    with task_context(task.stage, task.volume, task.page):
        try:
            record = complete_outputs(stage.run(task.inp, task.settings, task.layout), task.layout)
        except PageError as exc:
            record = failed_record(task, type(exc).__name__, str(exc))
        except Exception as exc:  # a bug: isolate it to this page and keep the traceback
            # (the job process logs it from the record, whichever executor ran the task)
            record = failed_record(
                task, "internal", f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
            )
    elapsed = round(time.monotonic() - started, 3)
    return replace(record, fingerprint=task.fingerprint, duration_s=elapsed)


def _execute_in_pool(task: Task) -> tuple[StageRecord, list[logging.LogRecord]]:
    """:func:`execute` in a pool worker, returning the task's log records with its record."""
    with collected_records() as records:
        record = execute(task)
    return record, records


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


def _worker_died(task: Task) -> StageRecord:
    """The record of a task whose worker process was killed under it."""
    return failed_record(
        task,
        "WorkerDied",
        "the worker process died while working on this (killed by the system, for example "
        "when out of memory: see the system log; a rerun tries again)",
    )


class LocalExecutor:
    """A pool of worker processes on this machine (the default).

    At most two tasks per worker are in flight (one running, one queued), so that when a
    worker dies (the kernel's out-of-memory killer, a crash in a native library) the suspects
    are few: they are rerun one at a time in a fresh pool, and only the task that kills a
    worker on its own is recorded as failed. The batch goes on.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers never inherit threads or libvips state from the parent.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_pool_initializer,
            initargs=(os.getpid(),),
        )

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        """Submit tasks as workers free up; yield records as they complete."""
        todo: deque[Task] = deque(tasks)
        suspects: deque[Task] = deque()
        running: dict[Future[tuple[StageRecord, list[logging.LogRecord]]], Task] = {}
        alone = False
        try:
            while todo or suspects or running:
                if suspects:
                    if not running:
                        task = suspects.popleft()
                        running[self._pool.submit(_execute_in_pool, task)] = task
                        alone = True
                else:
                    alone = False
                    while todo and len(running) < 2 * self.workers:
                        task = todo.popleft()
                        running[self._pool.submit(_execute_in_pool, task)] = task
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                broken: list[Task] = []
                for future in done:
                    task = running.pop(future)
                    try:
                        record, records = future.result()
                    except BrokenProcessPool:
                        broken.append(task)
                        continue
                    replay(records)
                    yield record
                if not broken:
                    continue
                broken += running.values()  # the pool is gone: every task in flight is lost
                running.clear()
                self._restart()
                if alone:
                    culprit = broken[0]
                    log.warning("a worker died running %s [%s]", culprit.volume, culprit.stage)
                    yield _worker_died(culprit)
                else:
                    log.warning("a worker died; rerunning %d task(s) one at a time", len(broken))
                    suspects.extend(broken)
        finally:
            for future in running:
                future.cancel()

    def _restart(self) -> None:
        self.close()
        self._pool = self._new_pool()

    def close(self) -> None:
        """Stop the workers, killing any task still running."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
