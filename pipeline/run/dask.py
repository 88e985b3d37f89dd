"""Run stage tasks on a Dask distributed cluster (``pipeline run --executor dask``).

What crosses the wire is what crosses a local pool: a picklable :class:`~pipeline.run.local.Task`
in, a :class:`~pipeline.records.StageRecord` out. Workers read the masters and write the
derivatives on a filesystem shared with this machine, mounted at the same path; the state store
stays here, and only this process writes it.

Workers must have this package installed (``pip install 'pipeline[dask]'``), with libvips,
tesseract and the configured languages. OCR tasks ask for one unit of the worker resource
``tesseract``: start workers with ``--resources tesseract=N`` to run at most N tesseract
processes (one core and about 400 MiB each) at a time on that worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import traceback
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from pipeline import __version__
from pipeline.errors import MissingDependencyError
from pipeline.fsio import remove_stale_temps
from pipeline.layout import TMP_PREFIX
from pipeline.ocr.tesseract import RESOURCE
from pipeline.records import StageRecord
from pipeline.run.dask_logs import quiet_dask_logging
from pipeline.run.dask_worker import probe_worker, run_task_logged, worker_label
from pipeline.run.local import Task, failed_record
from pipeline.run.logcontext import replay
from pipeline.stages import stage_by_name
from pipeline.stages.spec import PageInput, VolumeInput

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30
#: How often the client looks whether workers are still connected while tasks wait.
WATCH_INTERVAL_S = 2.0


def connect(scheduler: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Client:
    """A client of the Dask scheduler at ``scheduler`` (``tcp://host:8786``).

    Raises:
        MissingDependencyError: The scheduler cannot be reached.
    """
    quiet_dask_logging()
    try:
        return Client(scheduler, timeout=timeout_s, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise MissingDependencyError(
            f"cannot reach the Dask scheduler at {scheduler} ({_reason(exc)}): start it with "
            "'dask scheduler', or check run.scheduler / --scheduler"
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# -- on the client ------------------------------------------------------------------------------
def _visible_paths(tasks: Sequence[Task]) -> list[str]:
    """The folders every worker must see for these tasks: output and scan folders."""
    folders: set[Path] = set()
    for task in tasks:
        folders.add(task.layout.out)
        inputs = task.inp.pages if isinstance(task.inp, VolumeInput) else (task.inp,)
        for inp in inputs:
            if isinstance(inp, PageInput):
                folders.add(Path(inp.item.source).parent)
    return sorted(str(p) for p in folders)


def _key(task: Task) -> str:
    # Unique per submission: a rerun of the same page must run again, not reuse a result.
    subject = f"{task.volume}-{task.page}" if task.page else task.volume or "collection"
    return f"{task.stage}-{subject}-{uuid.uuid4().hex}"


def _worker_died(task: Task, exc: BaseException) -> StageRecord:
    last = getattr(getattr(exc, "last_worker", None), "address", "?")
    return failed_record(
        task,
        "WorkerDied",
        "every Dask worker that worked on this died (killed by the system, for example "
        f"when out of memory: see the worker logs; the last was {last}; a rerun tries again)",
    )


def _internal(task: Task, exc: BaseException) -> StageRecord:
    return failed_record(
        task,
        "internal",
        f"the Dask task failed: {_reason(exc)}",
        traceback="".join(traceback.format_exception(exc)),
    )


@dataclass
class _Watch:
    """Watches the cluster while tasks wait: warns when no worker is left, notes lost workers."""

    client: Client
    address: str
    seen: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def workers(self) -> set[str]:
        """Addresses of the workers connected now (and remember them)."""
        now = set(self.client.scheduler_info()["workers"])
        self.seen |= now
        return now

    def _loop(self) -> None:
        alone = False
        while not self._stop.wait(WATCH_INTERVAL_S):
            try:
                now = self.workers()
            except (OSError, RuntimeError, TimeoutError, CancelledError):  # client closing
                log.debug("cannot ask the scheduler for its workers", exc_info=True)
                return
            if not now and not alone:
                log.warning(
                    "no Dask worker is connected to %s: waiting for one (start workers, or "
                    "press Ctrl-C to stop; finished work stays recorded)",
                    self.address,
                )
            elif now and alone:
                log.warning("Dask workers are back: %d connected", len(now))
            alone = not now

    def __enter__(self) -> _Watch:
        self.workers()
        self._thread = threading.Thread(target=self._loop, name="dask-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def lost(self) -> set[str]:
        """Workers seen during the stage that are gone now."""
        return self.seen - self.workers()


class DaskExecutor:
    """Tasks on a Dask cluster: the scheduler at ``scheduler``, or a local cluster without one.

    The connection is made when the first task is submitted, so a job whose work is all up to
    date never needs the cluster. Before each stage every connected worker is checked: it must
    see the output and scan folders of this machine (a shared filesystem at the same path) and
    run the same version of this package; a tool or language it lacks is reported, and its tasks
    of that stage then fail with a message naming it.
    """

    def __init__(self, scheduler: str | None, workers: int = 0, wait_s: float = 120.0) -> None:
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.wait_s = wait_s
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None

    @property
    def address(self) -> str:
        """The scheduler's address (``local cluster`` before a local one starts)."""
        if self._cluster is not None:
            return str(self._cluster.scheduler_address)
        return self.scheduler or "local cluster"

    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        if self.scheduler:
            client = connect(self.scheduler)
        else:
            quiet_dask_logging()
            # One single-threaded worker process per core, like the local pool.
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                resources={RESOURCE: 1},
                dashboard_address="127.0.0.1:0",  # no fixed port: several jobs may run
                preload=["pipeline.run.dask_worker"],
            )
            client = Client(self._cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        self._client = client
        try:
            client.wait_for_workers(1, timeout=self.wait_s)
        except TimeoutError:
            raise MissingDependencyError(
                f"no Dask worker connected to the scheduler at {self.address} within "
                f"{self.wait_s:g} s: start workers with 'dask worker {self.address} "
                f"--nthreads N --resources {RESOURCE}=N' (or raise run.worker_wait_s)"
            ) from None
        return client

    def _check(self, client: Client, tasks: Sequence[Task]) -> None:
        """Every connected worker sees our folders and runs our version; warn of missing tools.

        Raises:
            MissingDependencyError: A worker cannot see the folders, cannot run this package or
                runs another version of it.
        """
        layout = tasks[0].layout
        stages = {t.stage: t.settings for t in tasks}
        token = uuid.uuid4().hex
        fd, token_file = tempfile.mkstemp(prefix=f"{TMP_PREFIX}cluster-", dir=layout.work_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token)
            answers = client.run(
                probe_worker,
                _visible_paths(tasks),
                token_file,
                token,
                sorted(stages.items()),
                on_error="return",
            )
        finally:
            Path(token_file).unlink(missing_ok=True)
        names = {a: w.get("name", a) for a, w in client.scheduler_info()["workers"].items()}
        for address, answer in sorted(answers.items()):
            label = worker_label(names.get(address, address), address)
            if isinstance(answer, OSError):  # it went away (Dask will not use it), or is going
                log.info("dask worker %s did not answer the check: %s", label, _reason(answer))
                continue
            if isinstance(answer, BaseException):
                raise MissingDependencyError(
                    f"dask worker {label} cannot run this pipeline ({_reason(answer)}): install "
                    f"pipeline {__version__} with its tools on every worker ('pipeline doctor "
                    f"--scheduler {self.address}' checks them)"
                )
            host = answer["host"]
            if answer["problems"]:
                raise MissingDependencyError(
                    f"dask worker {label} on host {host} {answer['problems'][0]}: every worker "
                    "must mount the scans and output folders at the same path as this machine "
                    "(a shared filesystem)"
                )
            if answer["version"] != __version__:
                raise MissingDependencyError(
                    f"dask worker {label} on host {host} runs pipeline {answer['version']}, "
                    f"this machine {__version__}: install the same version everywhere"
                )
            for problem in answer["missing"]:
                log.warning(
                    "dask worker %s on host %s cannot run %s; its tasks will fail",
                    label,
                    host,
                    problem,
                )

    def _resources(self, client: Client, stage: str) -> dict[str, float] | None:
        """The resources a stage's tasks ask for, if some worker offers them (else none)."""
        wanted = dict(stage_by_name(stage).resources)
        if not wanted:
            return None
        workers = client.scheduler_info()["workers"].values()
        for info in workers:
            offered = info.get("resources", {})
            if all(offered.get(k, 0) >= v for k, v in wanted.items()):
                return wanted
        log.warning(
            "no Dask worker offers the resource %r: %s tasks run one per worker thread (start "
            "workers with --resources %s=N to bound tesseract processes per worker)",
            RESOURCE,
            stage,
            RESOURCE,
        )
        return None

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        """Submit every task; yield each record once, in completion order.

        A task whose worker is lost is run again elsewhere by Dask; its record comes back once.
        On Ctrl-C (or when the caller stops early) the outstanding futures are cancelled.

        Raises:
            MissingDependencyError: No worker, a worker that cannot see the folders, or the
                scheduler lost this job's tasks.
        """
        if not tasks:
            return
        client = self._connect()
        self._check(client, tasks)
        groups: dict[str, list[Task]] = {}
        for task in tasks:
            groups.setdefault(task.stage, []).append(task)
        futures: list[Future[tuple[StageRecord, list[logging.LogRecord]]]] = []
        by_key: dict[str, Task] = {}
        for stage, members in groups.items():
            keys = [_key(t) for t in members]
            by_key.update(zip(keys, members, strict=True))
            futures += client.map(
                run_task_logged,
                members,
                key=keys,
                pure=False,
                resources=self._resources(client, stage),
            )
        done: set[str] = set()
        try:
            with _Watch(client, self.address) as watch:
                completed = as_completed(  # type: ignore[no-untyped-call]
                    futures, loop=client.loop, with_results=True, raise_errors=False
                )
                for future, result in completed:
                    task = by_key[future.key]
                    done.add(future.key)
                    future.release()
                    yield self._record(task, result)
                lost = watch.lost()
            if lost:
                self._clean_after_lost(tasks[0], lost)
        finally:
            outstanding = [f for f in futures if f.key not in done]
            if outstanding:
                # The client may be gone already (the scheduler then drops them itself).
                with contextlib.suppress(OSError, RuntimeError, TimeoutError, CancelledError):
                    client.cancel(outstanding, reason="the pipeline job stopped")  # type: ignore[no-untyped-call]

    def _record(self, task: Task, result: Any) -> StageRecord:
        if isinstance(result, tuple):
            record, records = result
            replay(records)
            return record  # type: ignore[no-any-return]
        if isinstance(result, KilledWorker):
            log.warning("Dask workers died running %s [%s]", task.volume, task.stage)
            return _worker_died(task, result)
        if isinstance(result, CancelledError):
            raise MissingDependencyError(
                f"the Dask scheduler at {self.address} dropped this job's tasks "
                f"({_reason(result)}); finished work is recorded: run the job again"
            )
        log.debug("dask task of %s [%s] failed: %r", task.volume, task.stage, result)
        return _internal(task, result)

    def _clean_after_lost(self, task: Task, lost: set[str]) -> None:
        """Remove the temporary files lost workers left: every task of the stage has finished."""
        layout = task.layout
        try:
            removed = str(remove_stale_temps(layout.out, scratch=layout.work_dir / "tmp"))
        except OSError as exc:  # a tool the lost worker started may still be writing
            removed = f"not all: {exc}; the next job removes the rest"
        log.warning(
            "lost Dask worker(s) %s during %s; their tasks ran again elsewhere (temporary "
            "files removed: %s)",
            ", ".join(sorted(lost)),
            task.stage,
            removed,
        )

    def close(self) -> None:
        """Disconnect, and stop a local cluster; tasks of this client still queued are dropped."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
