"""Reruns redo only what a change affects (asserted on the state store, never on timing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.run.job import run_job
from tests.conftest import rerun_changes, stage_records


@pytest.fixture
def built(make_scan: Callable[..., Path], make_cfg: Callable[..., Config]) -> Config:
    for n in (1, 2, 3):
        make_scan(f"vol/p{n}.tif", 300 + n, 400)
    cfg = make_cfg(ocr={"enabled": False})
    assert not run_job(cfg).failures
    return cfg


def test_touching_a_master_redoes_no_derivative(built: Config, tmp_path: Path) -> None:
    master = tmp_path / "scans" / "vol" / "p2.tif"
    stat = master.stat()
    os.utime(master, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    changed = rerun_changes(built)
    assert changed == {("p2", "ingest")}


def test_a_new_first_page_leaves_the_other_pages_alone(
    built: Config, make_scan: Callable[..., Path]
) -> None:
    make_scan("vol/p0.tif", 320, 400)
    changed = rerun_changes(built)
    assert {page for page, stage in changed if stage in ("ingest", "tiles", "ocr")} == {"p0"}
    assert ("", "manifest") in changed


def test_moving_the_scans_folder_redoes_nothing(
    built: Config, tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    shutil.move(tmp_path / "scans", tmp_path / "moved")
    cfg = make_cfg(ocr={"enabled": False}, site={"scans": str(tmp_path / "moved")})
    assert rerun_changes(cfg) == set()


def test_a_deleted_upstream_output_is_reported_not_a_crash(built: Config, tmp_path: Path) -> None:
    info = tmp_path / "out" / "vol" / "images" / "p1" / "info.json"
    info.unlink()
    report = run_job(built, stages=["manifest"])
    assert report.internal_errors == 0
    recs = stage_records(built)
    assert recs[("", "manifest")].status == "failed"
    assert "p1" in recs[("", "manifest")].error


@pytest.mark.tesseract
def test_a_new_base_url_never_reruns_tesseract(
    make_scan: Callable[..., Path], make_cfg: Callable[..., Config], tesseract_kor: None
) -> None:
    make_scan("vol/p1.tif", 400, 300)
    assert not run_job(make_cfg()).failures
    cfg = make_cfg(site={"base_url": "https://iiif.example.net/prod/"})
    stages = {stage for _, stage in rerun_changes(cfg)}
    assert "ocr" not in stages and "ingest" not in stages
    assert {"tiles", "manifest", "collection"} <= stages


@pytest.mark.tesseract
def test_new_ocr_settings_rerun_ocr_and_what_shows_its_text_only(
    make_scan: Callable[..., Path], make_cfg: Callable[..., Config], tesseract_kor: None
) -> None:
    make_scan("vol/p1.tif", 400, 300)
    assert not run_job(make_cfg()).failures
    # A new OCR resolution: ingest keeps OCR's working image at the old one, but that is a
    # cache named by its settings, not part of ingest's result; ingest and tiles stay.
    stages = {stage for _, stage in rerun_changes(make_cfg(ocr={"dpi": 120}))}
    assert "ingest" not in stages and "tiles" not in stages
    assert "ocr" in stages
