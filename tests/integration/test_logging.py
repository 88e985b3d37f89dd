"""Log records made in pool workers reach the job log, each naming its stage and page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
