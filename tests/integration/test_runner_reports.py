"""A rerun that changes nothing leaves the volume reports alone; any change rewrites them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Config
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for


def _report(cfg: Config) -> Path:
    return layout_for(cfg).report_path("vol")


def _built(make_scan: Callable[..., Path], make_cfg: Callable[..., Config]) -> Config:
    for n in (1, 2):
        make_scan(f"vol/p{n}.tif", 300, 400)
    cfg = make_cfg(ocr={"enabled": False})
    assert not run_job(cfg).failures
    return cfg


def _mark(path: Path) -> int:
    """Date the file back, so that a rewrite shows; return the date."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    return path.stat().st_mtime_ns


def test_a_no_op_rerun_keeps_the_report(
    make_scan: Callable[..., Path], make_cfg: Callable[..., Config]
) -> None:
    cfg = _built(make_scan, make_cfg)
    report = _report(cfg)
    marked = _mark(report)
    again = run_job(cfg)
    assert again.counts["current"] > 0 and again.counts["ok"] == 0
    assert report.stat().st_mtime_ns == marked
    assert str(report) in again.report_paths


def test_a_new_page_or_a_missing_report_rewrites_it(
    make_scan: Callable[..., Path], make_cfg: Callable[..., Config]
) -> None:
    cfg = _built(make_scan, make_cfg)
    report = _report(cfg)
    marked = _mark(report)
    make_scan("vol/p3.tif", 300, 400)
    assert run_job(cfg).counts["ok"] > 0
    assert report.stat().st_mtime_ns != marked
    assert '"p3"' in report.read_text(encoding="utf-8")
    report.with_suffix(".html").unlink()
    run_job(cfg)
    assert report.with_suffix(".html").is_file()
