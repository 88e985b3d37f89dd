"""The publish progress bar on stderr: objects and bytes per phase (CLI only)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from pipeline.publish.report import NullProgress, PhaseBar, PublishProgress


class _RichBar:
    def __init__(self, progress: Progress, task: TaskID, by_bytes: bool) -> None:
        self._progress = progress
        self._task = task
        self._by_bytes = by_bytes
        self._objects = 0

    def advance(self, objects: int = 1, nbytes: int = 0) -> None:
        self._objects += objects
        self._progress.update(
            self._task, advance=nbytes if self._by_bytes else objects, objects=self._objects
        )


class RichPublishProgress:
    """One bar per phase: objects done of total, bytes done of total, throughput."""

    def __init__(self, console: Console) -> None:
        self._console = console

    @contextmanager
    def phase(self, name: str, objects: int, nbytes: int) -> Iterator[PhaseBar]:
        """Show a bar while the phase runs (nothing for an empty phase)."""
        if objects == 0:
            yield _NullBar()
            return
        by_bytes = nbytes > 0
        columns = [
            TextColumn(f"{name:<12}"),
            BarColumn(),
            TextColumn(f"{{task.fields[objects]}}/{objects} objects"),
        ]
        if by_bytes:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self._console, transient=False) as progress:
            task = progress.add_task(name, total=nbytes if by_bytes else objects, objects=0)
            yield _RichBar(progress, task, by_bytes)


class _NullBar:
    def advance(self, objects: int = 1, nbytes: int = 0) -> None:
        pass


def make_progress(*, quiet: bool = False) -> PublishProgress:
    """Bars on stderr when it is a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return RichPublishProgress(Console(stderr=True))
