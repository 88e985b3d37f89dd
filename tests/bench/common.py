"""Shared helpers for benchmark rows: timing, peak memory of child processes, the table."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclass
class Row:
    """One comparison: our value vs the peer's on the same input in the same run."""

    name: str
    ours: float
    peer: float | None
    unit: str
    peer_name: str = ""
    higher_is_better: bool = False
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """ours / peer (for rates, peer / ours), so > 1 always means 'we are worse'."""
        if self.peer in (None, 0) or self.ours == 0:
            return None
        assert self.peer is not None
        return self.peer / self.ours if self.higher_is_better else self.ours / self.peer

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of ``fn()`` in seconds, and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_measured(argv: Sequence[str], **kwargs: Any) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of that child).

    Runs through ``/usr/bin/time``-free accounting: the child is waited for with ``wait4`` so
    its own ``ru_maxrss`` is read, not the maximum over all children so far.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), **kwargs)
    _, status, usage = os_wait4(proc.pid)
    wall = time.perf_counter() - started
    proc.returncode = status
    if status != 0:
        raise subprocess.CalledProcessError(status, list(argv))
    return wall, usage.ru_maxrss / 1024


def os_wait4(pid: int) -> tuple[int, int, resource.struct_rusage]:
    import os

    wpid, status, usage = os.wait4(pid, 0)
    return wpid, os.waitstatus_to_exitcode(status), usage


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table: name, ours, peer, ratio, target, note."""
    lines = [f"{'benchmark':<52} {'ours':>12} {'peer':>12} {'ratio':>7}  target / note"]
    for r in rows:
        peer = f"{r.peer:.3g}" if r.peer is not None else "-"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        parts = (r.target, r.note, f"peer: {r.peer_name}" if r.peer_name else "")
        extra = "; ".join(x for x in parts if x)
        lines.append(f"{r.name:<52} {r.ours:>9.3g} {r.unit:<2} {peer:>12} {ratio:>7}  {extra}")
    return "\n".join(lines)
