"""A real S3 API server process (moto standalone) on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    """A running server: its endpoint and helpers to make buckets and clients."""

    endpoint: str
    process: subprocess.Popen[bytes]
    _names: Iterator[int] = field(default_factory=itertools.count)

    def client(self, **kwargs: Any) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=kwargs.pop("key", ACCESS_KEY),
            aws_secret_access_key=kwargs.pop("secret", SECRET_KEY),
            region_name=REGION,
            **kwargs,
        )

    def new_bucket(self, stem: str = "bkt") -> str:
        name = f"{stem}-{os.getpid()}-{next(self._names)}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """Environment for a subprocess or CliRunner: credentials via the standard chain."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "PIPELINE_PUBLISH__ENDPOINT_URL": self.endpoint,
        }


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"moto server at {endpoint} did not start within {timeout} s")


@contextlib.contextmanager
def start_server(*, auth: bool = False, log: Path | None = None) -> Iterator[S3Server]:
    """Run ``python -m moto.server`` on a free port until the block ends.

    Args:
        auth: Check credentials (every request then fails: no IAM user exists), to test how
            wrong credentials are reported.
        log: Where the server's output goes (default: discarded).

    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    with contextlib.ExitStack() as stack:
        out: Any = stack.enter_context(log.open("ab")) if log else subprocess.DEVNULL
        for attempt in range(3):
            port = free_port()
            endpoint = f"http://127.0.0.1:{port}"
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
            try:
                _wait_ready(endpoint, process, timeout=30)
                break
            except RuntimeError:
                process.kill()
                process.wait()
                if attempt == 2:
                    raise
        try:
            yield S3Server(endpoint, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
