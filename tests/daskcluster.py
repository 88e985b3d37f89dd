"""A real Dask cluster on 127.0.0.1 for tests and benchmarks: `dask scheduler` + `dask worker`s.

Every process is a subprocess in its own session (Ctrl-C sent to a job under test does not reach
it), on free ports (``--port 0``; the address comes from the scheduler file), logging to files in
the given folder. Workers run without a nanny, so a SIGKILL ends a worker for good.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 90.0


def _wait(predicate, what: str, timeout: float = START_TIMEOUT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Cluster:
    root: Path
    address: str = ""
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(
        self, name: str, argv: list[str], env: Mapping[str, str] | None, wrap: Sequence[str] = ()
    ) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        environ = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(self.root), **(env or {})}
        try:
            return subprocess.Popen(
                [*wrap, sys.executable, "-m", "dask", *argv],
                stdout=log, stderr=subprocess.STDOUT, env=environ, cwd=self.root,
                start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()

    def start_scheduler(self) -> None:
        info = self.root / "scheduler.json"
        self.scheduler = self._spawn(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info),
             "--dashboard-address", "127.0.0.1:0"],
            None,
        )  # fmt: skip
        _wait(lambda: info.exists() and info.stat().st_size > 0, "the scheduler")
        self.address = json.loads(info.read_text())["address"]

    def start_worker(
        self, name: str, *, env: Mapping[str, str] | None = None, nthreads: int = 1,
        resources: str = "tesseract=1", wrap: Sequence[str] = (),
    ) -> subprocess.Popen[bytes]:  # fmt: skip
        """A worker; ``wrap`` is a command prefix it runs under (it must ``exec`` the rest)."""
        argv = ["worker", self.address, "--name", name, "--host", "127.0.0.1",
                "--nthreads", str(nthreads), "--no-nanny", "--no-dashboard",
                "--local-directory", str(self.root / name), "--death-timeout", "60"]  # fmt: skip
        if resources:
            argv += ["--resources", resources]
        proc = self._spawn(f"worker-{name}", argv, env, wrap)
        self.workers[name] = proc
        log = self.root / f"worker-{name}.log"
        _wait(lambda: "Registered to:" in log.read_text(errors="replace"), f"worker {name}")
        return proc

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def scheduler_tasks(self) -> int:
        """How many tasks the scheduler holds (asked by a separate client process)."""
        code = (
            "import sys; from distributed import Client\n"
            "with Client(sys.argv[1], timeout=30) as c:\n"
            "    print(c.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, self.address], capture_output=True, text=True,
            check=True, timeout=60, cwd=self.root,
        )  # fmt: skip
        return int(out.stdout.strip().splitlines()[-1])

    def close(self) -> None:
        """Stop the workers, then the scheduler (the other way round, workers wait for it)."""
        for group in (list(self.workers.values()), [self.scheduler] if self.scheduler else []):
            for proc in group:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in group:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def dask_cluster(
    root: Path, workers: int = 2, *, env: Mapping[str, str] | None = None
) -> Iterator[Cluster]:
    """A scheduler and ``workers`` single-threaded workers (``w1``, ``w2``, ...) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(root)
    try:
        cluster.start_scheduler()
        for n in range(1, workers + 1):
            cluster.start_worker(f"w{n}", env=env)
        yield cluster
    finally:
        cluster.close()
