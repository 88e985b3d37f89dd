"""The tiles stage inside a job: fingerprints, failed replays, and ``pipeline check``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.runner import run_job
from pipeline.stages import tiles
from tests.conftest import assert_clean_exit, run_cli


@pytest.fixture
def two_pages(make_scan: Callable[..., Path]) -> None:
    make_scan("vol/p1.tif", 1100, 700, bands=3)
    make_scan("vol/p2.tif", 300, 200)


def _check(cfg: Config, *volumes: str, code: int) -> tuple[str, str]:
    args = ["--out", str(cfg.site.out), "--base-url", cfg.site.base_url, "check", *volumes]
    result = run_cli(*args)
    assert_clean_exit(result, code)
    return result.stdout, result.stderr


def test_rerun_does_no_work_until_tile_settings_change(
    two_pages: None, make_cfg: Callable[..., Config]
) -> None:
    cfg = make_cfg()
    first = run_job(cfg, stages=["ingest", "tiles"])
    assert not first.failures and first.counts["ok"] == 4
    again = run_job(cfg, stages=["ingest", "tiles"])
    assert again.counts["current"] == 4 and again.counts["ok"] == 0
    changed = run_job(make_cfg(tiles={"quality": 70}), stages=["ingest", "tiles"])
    assert changed.counts["current"] == 2 and changed.counts["ok"] == 2


def test_check_command(two_pages: None, make_cfg: Callable[..., Config]) -> None:
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "tiles"]).failures
    out, err = _check(cfg, code=0)
    assert out == "" and "checked 2 image services: 0 missing URLs" in err
    tile = cfg.site.out / "vol/images/p1/512,0,512,512/512,512/0/default.jpg"
    tile.unlink()
    out, err = _check(cfg, "vol", code=1)
    assert out.splitlines() == [
        f"{cfg.site.base_url}vol/images/p1/512,0,512,512/512,512/0/default.jpg"
    ]


def test_check_unknown_volume(two_pages: None, make_cfg: Callable[..., Config]) -> None:
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "tiles"]).failures
    _, err = _check(cfg, "nope", code=4)
    assert "no image services for 'nope'" in err


def test_failed_replay_fails_the_page(
    two_pages: None, make_cfg: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a tiler that forgets the derivatives dzsave does not write.
    monkeypatch.setattr(tiles.Derivatives, "fill", lambda self, rel: None)
    cfg = make_cfg(run={"workers": 1})
    report = run_job(cfg, stages=["ingest", "tiles"])
    failed = {(f.page, f.stage) for f in report.failures}
    assert failed == {("p1", "tiles"), ("p2", "tiles")}
    assert all("viewer replay: IIIF viewers would request" in f.error for f in report.failures)
    assert not (cfg.site.out / "vol/images/p1").exists()
