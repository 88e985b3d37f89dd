"""Choosing the executor a job runs its tasks on: this process, a local pool or Dask."""

from __future__ import annotations

import os

from pipeline.errors import MissingDependencyError
from pipeline.run.local import Executor, LocalExecutor, SerialExecutor


def make_executor(
    kind: str, workers: int, *, scheduler: str | None = None, wait_s: float = 120.0
) -> Executor:
    """Create the configured executor.

    Args:
        kind: ``local`` (a process pool, or this process with one worker) or ``dask``.
        workers: Worker processes; 0 means one per core (for ``dask``: of a local cluster).
        scheduler: The Dask scheduler's address; ``None`` starts a local Dask cluster.
        wait_s: How long ``dask`` waits for a first worker.

    Raises:
        MissingDependencyError: ``dask`` without Dask installed.
    """
    if kind == "dask":
        try:  # imported here: the default executor needs no Dask
            from pipeline.run.dask import DaskExecutor
        except ImportError as exc:
            raise MissingDependencyError(
                f"--executor dask needs Dask ({exc}): pip install 'pipeline[dask]'"
            ) from None
        return DaskExecutor(scheduler, workers, wait_s)
    count = workers or os.cpu_count() or 1
    if kind == "local" and count == 1:
        return SerialExecutor()
    return LocalExecutor(count)
