"""A state store written by an earlier version loads, and a rerun over it finds its pages current.

The output folder in ``tests/data/store_3c63b1a`` was written by commit 3c63b1a (see the
docstring of ``make_store.py`` there): record JSON, fingerprints and result digests must read
the same with the current code, or every existing output folder would be rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.config import Config, load_config
from pipeline.records import StageRecord
from pipeline.run.fingerprint import result_digest
from pipeline.run.job import run_job
from pipeline.state import StateStore

DATA = Path(__file__).parent.parent / "data" / "store_3c63b1a"
BASE_URL = "https://example.org/iiif/"


@pytest.fixture
def old_root(tmp_path: Path) -> Path:
    """A copy of the old output folder and its scans, masters dated as recorded."""
    shutil.copytree(DATA / "scans", tmp_path / "scans")
    shutil.copytree(DATA / "out", tmp_path / "out")
    with StateStore(tmp_path / "out" / ".pipeline" / "state.sqlite") as state:
        for rec in state.records():
            if rec.stage == "ingest" and rec.status == "ok":
                mtime = rec.result.mtime_ns
                master = tmp_path / "scans" / rec.volume / rec.result.file
                os.utime(master, ns=(mtime, mtime))
    return tmp_path


def _cfg(root: Path) -> Config:
    site = {"scans": str(root / "scans"), "out": str(root / "out"), "base_url": BASE_URL}
    overrides = {"site": site, "run": {"workers": 1}, "collection": {"label": {"en": "Test"}}}
    return load_config(None, overrides=overrides, environ={})


def _rows(root: Path) -> dict[tuple[str, str, str], str]:
    import sqlite3

    db = sqlite3.connect(root / "out" / ".pipeline" / "state.sqlite")
    try:
        return {
            (v, p, s): r
            for v, p, s, r in db.execute("SELECT volume, page, stage, record FROM records")
        }
    finally:
        db.close()


def test_old_records_read_and_write_back_unchanged(old_root: Path) -> None:
    rows = _rows(old_root)
    assert len(rows) == 11
    for text in rows.values():
        rec = StageRecord.from_json(text)
        assert rec.to_json() == text


def test_old_records_keep_their_result_digests(old_root: Path) -> None:
    expected = json.loads((DATA / "result_digests.json").read_text(encoding="utf-8"))
    for (volume, page, stage), text in _rows(old_root).items():
        assert result_digest(StageRecord.from_json(text)) == expected[f"{volume}/{page}/{stage}"]


def test_a_rerun_over_an_old_store_recomputes_nothing(old_root: Path) -> None:
    before = _rows(old_root)
    # Every stage but OCR, whose fingerprint holds the installed tesseract's version: its stored
    # records are still read (by annotations, text and manifest), as upstream.
    stages = ["ingest", "tiles", "annotations", "text", "manifest", "collection"]
    report = run_job(_cfg(old_root), stages=stages)
    assert not report.failures, [f.error for f in report.failures]
    # The manifest and collection stages changed since (search services, the PDF rendering):
    # those two volume documents are rebuilt once; every page stage and the text stay current.
    assert report.counts == {"ok": 2, "failed": 0, "skipped": 0, "current": 7}
    after = _rows(old_root)
    changed = {key[2] for key in before if after[key] != before[key]}
    assert changed <= {"manifest", "collection"}
    manifest = (old_root / "out" / "vol" / "manifest.json").read_bytes()
    assert manifest == (DATA / "out" / "vol" / "manifest.json").read_bytes()
