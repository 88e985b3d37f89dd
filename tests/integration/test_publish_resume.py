"""A publish killed with SIGKILL part-way resumes where it stopped and ends complete."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.publish.job import publish
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from tests.integration.test_publish import Calls, _endpoint_cfg, bucket_keys, local_objects
from tests.s3server import S3Server

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def _published_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM published").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the table is not there yet


def test_sigkill_then_rerun_is_complete_and_identical(
    make_scan: Callable[..., Path], make_cfg: Callable[..., Config], s3_server: S3Server
) -> None:
    for n in (1, 2):
        make_scan(f"vol-1/p{n:03d}.tif", 600, 800)
    cfg = make_cfg(ocr={"enabled": False}, tiles={"tile_size": 64})
    assert not run_job(cfg, stages=["ingest", "tiles", "manifest", "collection"]).failures
    cfg = _endpoint_cfg(cfg, s3_server)
    total = len(local_objects(cfg))
    assert total > 300
    bucket = s3_server.new_bucket()
    layout = layout_for(cfg)
    env = {**os.environ, **s3_server.env()}
    argv = [sys.executable, "-m", "pipeline", "--out", str(layout.out), "--base-url"]
    argv += [cfg.site.base_url, "publish", "--quiet", "--threads", "1", "--to", f"s3://{bucket}"]
    proc = subprocess.Popen(
        argv, cwd=layout.out.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while _published_rows(layout.state_db) < 20 and proc.poll() is None:
            assert time.monotonic() < deadline, "publish made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == -signal.SIGKILL, output
    on_bucket = set(bucket_keys(s3_server, bucket))
    assert 0 < len(on_bucket) < total
    # Manifests and the collection go up last: none is exposed by the killed run.
    assert not {"vol-1/manifest.json", "collection.json"} & on_bucket

    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=calls.session)
    assert not report.failures, report.failures
    # Resumed, not restarted: what the killed run recorded is not uploaded again.
    assert report.unchanged >= 20
    assert calls.count("PutObject") == report.uploaded == total - report.unchanged
    expected = local_objects(cfg)
    etags = bucket_keys(s3_server, bucket)
    assert set(etags) == set(expected)
    for key, path in expected.items():
        assert etags[key] == hashlib.md5(path.read_bytes()).hexdigest(), key
    again = Calls()
    publish(cfg, to=f"s3://{bucket}", session=again.session)
    assert again.count("PutObject") == 0
