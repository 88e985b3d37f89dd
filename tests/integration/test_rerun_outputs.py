"""A rerun checks a tile pyramid by its folder (entries, info.json); verify checks every tile."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.archive.fixity import verify
from pipeline.config import Config
from pipeline.records import StageRecord
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import rerun_changes


@pytest.fixture
def built(make_scan: Callable[..., Path], make_cfg: Callable[..., Config]) -> Config:
    for n in (1, 2):
        make_scan(f"vol/p{n}.tif", 700 + n, 900)
    cfg = make_cfg(ocr={"enabled": False}, tiles={"tile_size": 256})
    assert not run_job(cfg).failures
    return cfg


def _tiles(cfg: Config, page: str) -> StageRecord:
    with StateStore(layout_for(cfg).state_db) as state:
        rec = state.get("vol", page, "tiles")
    assert rec is not None
    return rec


def _pyramid(cfg: Config, page: str) -> Path:
    return layout_for(cfg).image_dir("vol", page)


def _a_tile(folder: Path) -> Path:
    return next(p for p in sorted(folder.rglob("default.jpg")) if "full" not in p.parts)


def test_a_tiles_record_counts_its_pyramid_folder(built: Config) -> None:
    rec = _tiles(built, "p1")
    folder = _pyramid(built, "p1")
    entries = sum(1 for _ in folder.iterdir())
    assert rec.folder_entries == {"vol/images/p1": entries}
    assert len(rec.outputs) > entries  # still listed (and hashed) tile by tile


def test_a_deleted_pyramid_folder_is_tiled_again(built: Config) -> None:
    shutil.rmtree(_pyramid(built, "p2"))
    assert ("p2", "tiles") in rerun_changes(built)
    assert (_pyramid(built, "p2") / "info.json").is_file()


def test_a_deleted_info_json_is_tiled_again(built: Config) -> None:
    (_pyramid(built, "p2") / "info.json").unlink()
    redone = rerun_changes(built)
    assert ("p2", "tiles") in redone
    assert ("p1", "tiles") not in redone
    assert (_pyramid(built, "p2") / "info.json").is_file()


def test_a_deleted_tile_column_is_tiled_again(built: Config) -> None:
    """A region folder (one entry at the pyramid's top level) changes the entry count."""
    region = _a_tile(_pyramid(built, "p1")).relative_to(_pyramid(built, "p1")).parts[0]
    shutil.rmtree(_pyramid(built, "p1") / region)
    assert ("p1", "tiles") in rerun_changes(built)
    assert (_pyramid(built, "p1") / region).is_dir()


def test_one_deleted_tile_is_for_verify_not_the_rerun(built: Config) -> None:
    tile = _a_tile(_pyramid(built, "p1"))
    tile.unlink()
    assert rerun_changes(built) == set()
    layout = layout_for(built)
    with StateStore(layout.state_db) as state:
        result = verify(state, layout, built.site.scans)
    assert [(p.page, p.problem, p.path) for p in result.problems] == [
        ("p1", "missing", layout.rel(tile))
    ]


def _store_as_before_folder_counts(cfg: Config, page: str) -> StageRecord:
    """Rewrite a tiles record as it was stored before records counted folders."""
    old = json.loads(_tiles(cfg, page).to_json())
    del old["folder_entries"]
    db = sqlite3.connect(layout_for(cfg).state_db)
    with db:
        db.execute(
            "UPDATE records SET record=? WHERE volume='vol' AND page=? AND stage='tiles'",
            (json.dumps(old, sort_keys=True), page),
        )
    db.close()
    return _tiles(cfg, page)


def test_a_record_stored_before_folder_counts_loads_and_is_counted_on_the_next_run(
    built: Config,
) -> None:
    stored = _store_as_before_folder_counts(built, "p1")
    assert stored.folder_entries == {}
    report = run_job(built)
    assert report.counts["ok"] == 0  # still current, checked file by file ...
    counted = _tiles(built, "p1")
    entries = sum(1 for _ in _pyramid(built, "p1").iterdir())
    assert counted.folder_entries == {"vol/images/p1": entries}
    assert replace(counted, folder_entries={}) == stored  # ... and counted from now on


def test_a_record_stored_before_folder_counts_is_redone_when_a_tile_is_gone(
    built: Config,
) -> None:
    _store_as_before_folder_counts(built, "p1")
    _a_tile(_pyramid(built, "p1")).unlink()
    assert ("p1", "tiles") in rerun_changes(built)  # every listed file was looked at
