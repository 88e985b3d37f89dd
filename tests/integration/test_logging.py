"""Log records made in pool workers reach the job log, each naming its stage and page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.config import Config
from pipeline.lock import job_lock
from pipeline.siteurl import layout_for
from tests.conftest import assert_clean_exit, invoke


def test_worker_records_reach_the_job_log_with_stage_and_page(
    tmp_path: Path, make_scan: Callable[..., Path]
) -> None:
    for page in ("p1", "p2", "p3"):
        make_scan(f"vol-1/{page}.tif", 600, 800)
    result = invoke(tmp_path, "run", "--stages", "ingest", "-j", "2")
    assert_clean_exit(result, 0)
    log = (tmp_path / "out" / ".pipeline" / "job.log").read_text(encoding="utf-8")
    for page in ("p1", "p2", "p3"):
        # Made by the ingest stage in a worker process at DEBUG level.
        assert f"pipeline.stages.ingest: [ingest vol-1/{page}] ingested {page}.tif" in log, log
    # Nothing at DEBUG on the terminal without -vv.
    assert "ingested" not in result.output


def test_each_job_gets_a_fresh_log_and_earlier_ones_are_kept(
    tmp_path: Path, make_scan: Callable[..., Path]
) -> None:
    make_scan("vol-1/p1.tif", 600, 800)
    logs = tmp_path / "out" / ".pipeline"
    for n in range(7):
        assert_clean_exit(invoke(tmp_path, "run", "--stages", "ingest"), 0)
        if n == 0:
            first = (logs / "job.log").read_text(encoding="utf-8")
            assert "ingested p1.tif" in first
    # The latest job found everything up to date; five earlier logs are kept, no more.
    assert "ingested p1.tif" not in (logs / "job.log").read_text(encoding="utf-8")
    assert sorted(p.name for p in logs.glob("job.log*")) == [
        "job.log",
        *(f"job.log.{n}" for n in range(1, 6)),
    ]


def test_a_job_refused_by_the_lock_leaves_the_running_jobs_log_alone(
    tmp_path: Path, make_scan: Callable[..., Path], make_cfg: Callable[..., Config]
) -> None:
    make_scan("vol-1/p1.tif", 600, 800)
    assert_clean_exit(invoke(tmp_path, "run", "--stages", "ingest"), 0)
    logs = tmp_path / "out" / ".pipeline"
    before = (logs / "job.log").read_text(encoding="utf-8")
    with job_lock(layout_for(make_cfg())):  # another job holds the output folder
        refused = invoke(tmp_path, "run", "--stages", "ingest")
    assert_clean_exit(refused, 4)
    assert "another pipeline job is running" in refused.stderr
    assert (logs / "job.log").read_text(encoding="utf-8").startswith(before)
    assert not (logs / "job.log.1").exists()
