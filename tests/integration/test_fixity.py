"""Fixity: masters are never altered, every file written is checksummed, verify finds drift."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import assert_clean_exit, config_at, have_nanum_fonts, have_tesseract, require
from tests.conftest import invoke as invoke_cli

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

VOLUME = "vol-1"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Bytes (as SHA-256) and modification time of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): (sha256(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two sample pages through every stage, real tesseract included; built once per module."""
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    require(have_nanum_fonts(), "fonts-nanum not installed")
    root = tmp_path_factory.mktemp("built")
    generate_volume(
        root / "scans", volume_id=VOLUME, pages=2, seed=3, width=700, height=990, fonts=["print"]
    )
    before = snapshot(root / "scans")
    report = run_job(config_at(root))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    yield {"root": root, "masters_before": before}


@pytest.fixture
def work(built: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the built workspace (copies keep modification times)."""
    shutil.copytree(built["root"], tmp_path / "ws", symlinks=True)
    return tmp_path / "ws"


def invoke(root: Path, *args: str) -> Result:
    return invoke_cli(root, *args, env={"PIPELINE_RUN__WORKERS": "1"})


def records(root: Path) -> list[Any]:
    with StateStore(layout_for(config_at(root)).state_db) as state:
        return list(state.records())


def test_masters_are_byte_and_mtime_identical_after_a_full_run(built: dict[str, Any]) -> None:
    assert snapshot(built["root"] / "scans") == built["masters_before"]


def test_ingest_records_sha256_size_and_mtime_of_every_master(built: dict[str, Any]) -> None:
    root = built["root"]
    ingested = [r for r in records(root) if r.stage == "ingest"]
    masters = sorted((root / "scans" / VOLUME).glob("p*.tif"))
    assert len(ingested) == len(masters) == 2
    for rec in ingested:
        path = root / "scans" / VOLUME / rec.data["file"]
        stat = path.stat()
        assert rec.data["sha256"] == sha256(path)
        assert (rec.data["size"], rec.data["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)


def test_every_derivative_is_recorded_with_its_checksum(built: dict[str, Any]) -> None:
    out = built["root"] / "out"
    recorded: dict[str, str] = {}
    for rec in records(built["root"]):
        if rec.status == "ok":
            recorded.update(rec.outputs)
    published = {
        p.relative_to(out).as_posix(): p
        for p in out.rglob("*")
        if p.is_file() and not p.relative_to(out).as_posix().startswith(".")
    }
    assert set(published) - set(recorded) == set(), "files written without a recorded checksum"
    assert set(recorded) - set(published) == set(), "recorded files that do not exist"
    for rel, path in published.items():
        assert recorded[rel] == sha256(path), rel
    tiles = [r for r in recorded if "/images/" in r and r.endswith(".jpg")]
    assert len(tiles) > 4  # tile by tile, not just info.json


def test_verify_passes_then_reports_each_kind_of_drift(work: Path) -> None:
    clean = invoke(work, "verify")
    assert_clean_exit(clean, 0)
    assert "verified: 2 masters and" in clean.output and ": 0 problem(s)" in clean.output

    master = work / "scans" / VOLUME / "p001.tif"
    stat = master.stat()
    data = bytearray(master.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte; the modification time is put back, as bit rot would
    master.write_bytes(bytes(data))
    os.utime(master, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    tile = next((work / "out" / VOLUME / "images" / "p002").rglob("default.jpg"))
    tile.write_bytes(tile.read_bytes() + b"\0")
    hocr = work / "out" / VOLUME / "ocr" / "p002.hocr"
    hocr.unlink()

    result = invoke(work, "verify")
    assert_clean_exit(result, 1)
    assert f"error: {VOLUME}/p001.tif [ingest]: changed: sha256 is now" in result.output
    assert "restore the master from a backup" in result.output
    tile_rel = tile.relative_to(work / "out").as_posix()
    assert f"error: {tile_rel} [tiles]: changed" in result.output
    assert f"error: {VOLUME}/ocr/p002.hocr [ocr]: missing: the file is gone" in result.output
    assert ": 3 problem(s)" in result.output

    as_json = invoke(work, "verify", "--json", VOLUME)
    assert_clean_exit(as_json, 1)
    data_out = json.loads(as_json.stdout)
    assert data_out["ok"] is False and data_out["masters"] == 2
    assert sorted(p["problem"] for p in data_out["problems"]) == ["changed", "changed", "missing"]

    status = invoke(work, "status")
    assert "fixity: 3 problem(s) in 2 masters" in status.output


def test_repair_rebuilds_derivatives_but_never_touches_masters(work: Path) -> None:
    txt = work / "out" / VOLUME / "ocr" / "p001.txt"
    original = txt.read_bytes()
    txt.write_text("tampered", encoding="utf-8")
    info = work / "out" / VOLUME / "images" / "p001" / "info.json"
    info.unlink()
    master = work / "scans" / VOLUME / "p002.tif"
    master.write_bytes(master.read_bytes() + b"\0")

    repair = invoke(work, "verify", "--repair")
    assert_clean_exit(repair, 1)
    assert f"forgotten: {VOLUME}/p001 [ocr]" in repair.output
    assert f"forgotten: {VOLUME}/p001 [tiles]" in repair.output
    assert "[ingest]" not in repair.output.split("forgotten")[-1]

    rerun = invoke(work, "run", "--quiet", "--stages", "tiles,ocr")
    assert_clean_exit(rerun, 0)
    assert txt.read_bytes() == original and info.is_file()
    after = invoke(work, "verify")
    assert_clean_exit(after, 1)  # the master still differs from its ingest checksum
    assert f"{VOLUME}/p002.tif [ingest]: changed" in after.output
    assert ": 1 problem(s)" in after.output


def test_verify_refuses_unknown_volumes(work: Path) -> None:
    result = invoke(work, "verify", "vol-9")
    assert_clean_exit(result, 4)
    assert "volume 'vol-9': nothing recorded" in result.output
