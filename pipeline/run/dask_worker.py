"""The worker side of the Dask executor: run a task, check a worker, set a worker up.

Workers import this module (the local cluster preloads it for :func:`dask_setup`); the client
side is :mod:`pipeline.run.dask`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

from distributed import Worker, get_worker
from pydantic import BaseModel

from pipeline import __version__
from pipeline.errors import MissingDependencyError
from pipeline.layout import TMP_PREFIX
from pipeline.records import StageRecord
from pipeline.run.local import Task, execute, failed_record, worker_setup
from pipeline.run.logcontext import collected_records, worker_logging
from pipeline.stages import stage_by_name

_setup_lock = threading.Lock()
_setup_done = False
_preflights: dict[tuple[str, str], str] = {}


def _worker_ready() -> None:
    """Process-wide settings, once per worker process (a worker may run tasks in threads)."""
    global _setup_done
    with _setup_lock:
        if not _setup_done:
            worker_setup()
            _setup_done = True


def dask_setup(worker: Worker) -> None:
    """Start-up hook of the workers of a local cluster (a Dask preload): Ctrl-C and logging.

    They share the terminal's process group with the job, which owns Ctrl-C: it cancels the
    outstanding tasks and stops them itself.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_logging()


def where() -> str:
    """``dask worker NAME (ADDRESS) on host HOST``: where this code runs, for messages."""
    host = socket.gethostname()
    try:
        worker = get_worker()
    except ValueError:
        return f"host {host}"
    return f"dask worker {worker_label(worker.name, worker.address)} on host {host}"


def worker_label(name: object, address: str) -> str:
    """``NAME (ADDRESS)``, or the address alone for a worker without a name of its own."""
    return address if str(name) == address else f"{name} ({address})"


def _preflight(stage: str, settings: BaseModel) -> str:
    """A stage's tool check on this worker, once per stage and settings: '' or the problem."""
    key = (stage, settings.model_dump_json())
    if key not in _preflights:
        try:
            stage_by_name(stage).preflight(settings)
            _preflights[key] = ""
        except MissingDependencyError as exc:
            _preflights[key] = str(exc)
    return _preflights[key]


def run_task(task: Task) -> StageRecord:
    """Run one task on a worker: as :func:`~pipeline.run.local.execute`, plus the worker's checks.

    A tool or language this worker lacks fails the task; every failed record names the worker,
    so that a badly set-up machine is found from the summary.
    """
    _worker_ready()
    problem = _preflight(task.stage, task.settings)
    if problem:
        record = failed_record(task, MissingDependencyError.__name__, problem)
    else:
        record = execute(task)
    if record.status == "failed":
        record = replace(record, error=f"{record.error} (on {where()})")
    return record


def run_task_logged(task: Task) -> tuple[StageRecord, list[logging.LogRecord]]:
    """:func:`run_task`, returning the log records it made with its record (for the job log)."""
    with collected_records() as records:
        record = run_task(task)
    return record, records


class Probe(TypedDict):
    """A worker's answer to :func:`probe_worker`."""

    host: str
    version: str
    problems: list[str]
    missing: list[str]


def probe_worker(
    paths: list[str], token_file: str, token: str, stages: list[tuple[str, BaseModel]]
) -> Probe:
    """What the client checks on every worker before a stage: run through ``Client.run``.

    Args:
        paths: Folders the worker must see (the output folder, the volumes' scan folders).
        token_file: A file the client just wrote in the output folder.
        token: Its content: the worker sees the same filesystem, not a same-named folder.
        stages: ``(stage name, settings)`` whose preflight to run.

    Returns:
        ``host``, ``version``, ``problems`` (fatal: paths) and ``missing`` (tools, languages).
    """
    problems: list[str] = []
    for path in paths:
        if not Path(path).is_dir():
            problems.append(f"cannot see {path}")
    if not problems:
        try:
            seen = Path(token_file).read_text(encoding="utf-8")
        except OSError:
            seen = ""
        if seen != token:
            problems.append(f"sees a different {Path(token_file).parent.parent} than this machine")
        else:
            try:
                fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX, dir=Path(token_file).parent)
                os.close(fd)
                Path(probe).unlink()
            except OSError as exc:
                problems.append(f"cannot write into {Path(token_file).parent} ({exc.strerror})")
    missing: list[str] = []
    for name, settings in stages:
        problem = _preflight(name, settings)
        if problem:
            missing.append(f"{name}: {problem}")
    return {
        "host": socket.gethostname(),
        "version": __version__,
        "problems": problems,
        "missing": missing,
    }
