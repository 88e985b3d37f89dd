"""``pipeline status``, the end-of-job report and a no-op rerun on a 10,000-page volume.

Status and report: a synthetic state store of one 10,000-page volume, with the records the
stages leave (ingest, tiles listing every tile of an A4 300-dpi page, OCR with confidences,
annotations, a manifest; every 50th page's OCR failed). The master files are empty: ``status``
reads only their names. Peer: the plain SQLite read of the same rows (every record fetched and
decoded from JSON, tile lists included), the baseline a report built from the store starts from.

A report is rebuilt only when what it shows changed (a record, the folder, a fixity check), so
the rows with a target time the usual case: ``status`` after a job (it reads the report that
job wrote) and the report at the end of a job that changed nothing (a no-op rerun). The rows
without a target time the rebuild: the first ``status`` of a changed store (as while a job
runs) and the report after a change (every record read, about 600 bytes of JSON per page).

No-op rerun: the real runner over 10,000 tiny pages (ingest, tiles, manifest; OCR off), 15 files
per pyramid. To build that store in about a minute, the first run's ingest and tiles tasks go
through an executor that tiles
one page for real and hard-links that pyramid for the other pages (their records are the
template's, renamed); the manifest is built for real. Only the second, timed run matters: the
real runner with the real serial executor finding everything current. Peer: the target (5 s).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.archive.report import write_volume_report
from pipeline.config import load_config
from pipeline.iiif import image as iiif
from pipeline.input.volumes import load_volume
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.run.job import run_job, status
from pipeline.run.local import SerialExecutor, Task, execute
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.bench.common import Row, timed

PAGES = 10_000
VOLUME = "big"
A4 = (2480, 3508)
TILE = 512
STATUS_TARGET_S = 0.5
RERUN_TARGET_S = 5.0


def _tiles_outputs(volume: str, page: str) -> dict[str, str]:
    """Every file the tiles stage records for an A4 page: tiles of each level, sizes, info."""
    width, height = A4
    rels = {iiif.INFO, iiif.FULL_MAX}
    sf = 1
    while sf <= max(width, height):
        rels |= {t.path(width, height) for t in iiif.level_tiles(width, height, TILE, sf)}
        sf *= 2
    digest = "0" * 64
    return {f"{volume}/images/{page}/{rel}": digest for rel in sorted(rels)}


def _page_records(volume: str, index: int) -> Iterator[StageRecord]:
    page = f"p{index:05d}"
    ocr = _ocr_record(volume, page, index)
    yield _ingest_record(volume, page, index)
    yield _tiles_record(volume, page, index)
    yield ocr
    if ocr.status != "ok":
        return
    yield StageRecord(
        stage="annotations",
        volume=volume,
        page=page,
        status="ok",
        fingerprint=f"{index:064x}",
        outputs={f"{volume}/annotations/{page}.json": "0" * 64},
        data={"annotations": f"{volume}/annotations/{page}.json"},
    )


def _ingest_record(volume: str, page: str, index: int) -> StageRecord:
    file = f"{page}.tif"
    width, height = A4
    return StageRecord(
        stage="ingest",
        volume=volume,
        page=page,
        status="ok",
        fingerprint=f"{index:064x}",
        data={
            "bands": 1,
            "bits": 8,
            "file": file,
            "file_format": "tiff",
            "format": "uchar",
            "has_alpha": False,
            "has_icc": index % 7 == 0,
            "height": height,
            "interpretation": "b-w",
            "loader": "tiffload",
            "mtime_ns": 1_700_000_000_000_000_000,
            "orientation": 1,
            "palette": False,
            "sha256": f"{index:064x}",
            "size": 9_000_000,
            "warnings": [],
            "width": width,
        },  # fmt: skip
        tool_versions={"libvips": "8.18.7"},
        duration_s=0.2,
    )


def _tiles_record(volume: str, page: str, index: int) -> StageRecord:
    width, height = A4
    return StageRecord(
        stage="tiles",
        volume=volume,
        page=page,
        status="ok",
        fingerprint=f"{index:064x}",
        outputs=_tiles_outputs(volume, page),
        data={
            "colour": [],
            "full": iiif.FULL_MAX,
            "full_height": height,
            "full_width": width,
            "height": height,
            "replay_missing": 0,
            "scale_factors": [1, 2, 4, 8],
            "service_id": f"http://127.0.0.1:8000/{volume}/images/{page}",
            "sizes": [[310, 439], [620, 877]],
            "tile_size": TILE,
            "tiles": 70,
            "width": width,
            "thumbnail": {"height": 439, "path": "full/310,439/0/default.jpg", "width": 310},
        },  # fmt: skip
        tool_versions={"libvips": "8.18.7"},
        duration_s=1.5,
    )


def _ocr_record(volume: str, page: str, index: int) -> StageRecord:
    """Every 50th page's OCR failed."""
    if index % 50 == 0:
        return StageRecord(
            stage="ocr",
            volume=volume,
            page=page,
            status="failed",
            fingerprint=f"{index:064x}",
            error_type="OcrError",
            error="tesseract timed out after 300 s",
            data={"file": f"{page}.tif"},
        )
    ocr = {f"{volume}/ocr/{page}.{ext}": "0" * 64 for ext in ("alto.xml", "hocr", "txt")}
    return StageRecord(
        stage="ocr",
        volume=volume,
        page=page,
        status="ok",
        fingerprint=f"{index:064x}",
        outputs=ocr,
        data={
            "alto": f"{volume}/ocr/{page}.alto.xml",
            "bcp47": "ko",
            "blank": False,
            "characters": 900,
            "confidence": 60 + index % 30,
            "engine": "tesseract 5.3.0",
            "hocr": f"{volume}/ocr/{page}.hocr",
            "language": "kor",
            "lines": 30,
            "needs_review": index % 30 < 5,
            "published": True,
            "txt": f"{volume}/ocr/{page}.txt",
            "words": 200,
        },  # fmt: skip
        tool_versions={"tesseract": "5.3.0"},
        duration_s=20.0,
    )


def build_store(scans: Path, layout: Layout, pages: int = PAGES) -> None:
    """Write the synthetic volume (empty masters) and its state store."""
    folder = scans / VOLUME
    folder.mkdir(parents=True)
    for index in range(1, pages + 1):
        (folder / f"p{index:05d}.tif").touch()
    StateStore(layout.state_db).close()  # the schema
    manifest = StageRecord(
        stage="manifest",
        volume=VOLUME,
        page="",
        status="ok",
        outputs={f"{VOLUME}/manifest.json": "0" * 64},
        data={"manifest": f"{VOLUME}/manifest.json", "canvases": pages, "warnings": []},
    )
    records = [r for i in range(1, pages + 1) for r in _page_records(VOLUME, i)] + [manifest]
    db = sqlite3.connect(layout.state_db)
    with db:
        db.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, 0)",
            [(r.volume, r.page, r.stage, r.status, r.fingerprint, r.to_json()) for r in records],
        )
    db.close()


def plain_read(db_path: Path) -> int:
    """The peer: fetch every record of the volume and decode it."""
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            "SELECT record FROM records WHERE volume=? ORDER BY volume, page, stage", (VOLUME,)
        )
        return sum(1 for (text,) in rows if json.loads(text))
    finally:
        db.close()


class _CloneExecutor(SerialExecutor):
    """Builds the rerun's store fast: one real page per page stage, hard-linked copies after."""

    def __init__(self) -> None:
        super().__init__()
        self.template: dict[str, StageRecord] = {}

    def map(self, tasks: Sequence[Task]) -> Iterator[StageRecord]:
        for task in tasks:
            first = self.template.get(task.stage)
            if not task.page or first is None:
                rec = execute(task)
                if task.page:
                    self.template[task.stage] = rec
                yield rec
                continue
            yield self._clone(task, first)

    @staticmethod
    def _clone(task: Task, first: StageRecord) -> StageRecord:
        layout: Layout = task.layout
        old, new = f"/images/{first.page}", f"/images/{task.page}"
        if first.stage == "tiles":
            shutil.copytree(
                layout.image_dir(task.volume, first.page),
                layout.image_dir(task.volume, task.page),
                copy_function=os.link,
            )
        text = first.to_json()
        for end in '/"':  # paths in the page's folder, and the folder itself
            text = text.replace(old + end, new + end)
        rec = json.loads(text)
        data = rec["data"]
        if "file" in data:
            data["file"] = Path(task.inp.item.source).name
        rec.update(page=task.page, fingerprint=task.fingerprint)
        return StageRecord(**rec)


def _rerun_rows(workdir: Path, pages: int) -> list[Row]:
    import pyvips

    scans = workdir / "rerun-scans"
    folder = scans / "tiny"
    folder.mkdir(parents=True)
    first = folder / "p00001.png"
    pyvips.Image.black(128, 192).write_to_file(str(first))
    for index in range(2, pages + 1):
        os.link(first, folder / f"p{index:05d}.png")
    cfg = load_config(
        None,
        overrides={
            "site": {"scans": str(scans), "out": str(workdir / "rerun-out")},
            "run": {"workers": 1},
            "tiles": {"tile_size": 64},
            "ocr": {"enabled": False},
        },
        environ={},
    )
    stages = ["ingest", "tiles", "manifest"]
    built = run_job(cfg, stages=stages, executor=_CloneExecutor())
    assert not built.failures, built.failures[:3]
    took, report = timed(lambda: run_job(cfg, stages=stages, executor=SerialExecutor()))
    assert report.counts["current"] == 2 * pages + 1, report.counts
    with StateStore(layout_for(cfg).state_db) as state:
        tiles = state.get("tiny", "p00001", "tiles")
    files = len(tiles.outputs) if tiles else 0
    return [
        Row(
            f"no-op rerun, {pages} pages (ingest, tiles, manifest)",
            took,
            RERUN_TARGET_S,
            "s",
            peer_name="target",
            target=f"< {RERUN_TARGET_S:g} s",
            note=f"{took / pages * 1000:.2f} ms per page ({files} files each); report included",
        )
    ]


def run(workdir: Path, pages: int = PAGES) -> list[Row]:
    scans = workdir / "scans"
    cfg = load_config(
        None,
        overrides={"site": {"scans": str(scans), "out": str(workdir / "out")}},
        environ={},
    )
    layout = layout_for(cfg)
    build_store(scans, layout, pages)
    volume = load_volume(scans / VOLUME, cfg.ocr.languages)
    peer, count = timed(lambda: plain_read(layout.state_db))
    peer_name = f"plain SQLite read + JSON decode of the {count} records"
    rebuilt_status, data = timed(lambda: status(cfg))
    assert len(data["volumes"][0]["pages"]) == pages
    with StateStore(layout.state_db) as state:
        rebuilt_report, path = timed(lambda: write_volume_report(layout, state, volume))
        current_report, _ = timed(lambda: write_volume_report(layout, state, volume))
        current_status, data = timed(lambda: status(cfg))
        assert data["volumes"][0] == json.loads(path.read_text(encoding="utf-8"))
    what = f"{pages} pages x 4 stages"
    rows = [
        Row(f"status --json, {what}", current_status, peer, "s", peer_name=peer_name,
            target=f"< {STATUS_TARGET_S:g} s", note="reads the report the last job wrote"),
        Row(f"end-of-job report (JSON + HTML), {what}", current_report, peer, "s",
            peer_name=peer_name, target=f"< {STATUS_TARGET_S:g} s",
            note="nothing changed since the last report (a no-op rerun)"),
        Row(f"status --json, {what}, records changed", rebuilt_status, peer, "s",
            peer_name=peer_name, note="report built in memory (as while a job runs)"),
        Row(f"end-of-job report (JSON + HTML), {what}, rebuilt", rebuilt_report, peer, "s",
            peer_name=peer_name, note="after a change: every record read"),
    ]  # fmt: skip
    return rows + _rerun_rows(workdir, pages)
