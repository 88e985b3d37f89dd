"""The volume report read from the state store: counts of listed files, failures in page order."""

from __future__ import annotations

from pathlib import Path

from pipeline.archive.report import volume_report
from pipeline.input.volumes import load_volume
from pipeline.records import StageRecord
from pipeline.state import StateStore


def _store(tmp_path: Path) -> StateStore:
    state = StateStore(tmp_path / "state.sqlite")
    tiles = {f"vol/images/p10/{n},0,1,1/1,1/0/default.jpg": "0" * 64 for n in range(3)}
    records = [
        StageRecord("ingest", "vol", "p1", "ok", data={"file": "p1.tif", "width": 9}),
        StageRecord("tiles", "vol", "p1", "failed", error="disk full", error_type="TilingError"),
        StageRecord("ingest", "vol", "p2", "ok", data={"file": "p2.tif"}),
        StageRecord("ocr", "vol", "p2", "failed", error="timeout", data={"traceback": "..."}),
        StageRecord("ingest", "vol", "p10", "ok", data={"file": "p10.tif"}),
        StageRecord("tiles", "vol", "p10", "ok", outputs=tiles, folder_entries={"x": 3}),
        StageRecord("manifest", "vol", "", "failed", error="no pages"),
        StageRecord("ingest", "vol", "gone", "failed", error="renamed"),
    ]
    for rec in records:
        state.put(rec)
    return state


def test_summaries_leave_outputs_out_and_count_them(tmp_path: Path) -> None:
    with _store(tmp_path) as state:
        found = {(r.page, r.stage): (r, n) for r, n in state.summaries("vol")}
        full = {(r.page, r.stage): r for r in state.records("vol")}
    assert set(found) == set(full)
    for key, (rec, count) in found.items():
        assert count == len(full[key].outputs)
        assert rec.outputs == {}
        assert rec.data == full[key].data
    assert found["p10", "tiles"][1] == 3


def test_the_report_counts_files_and_lists_failures_in_page_order(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol"
    folder.mkdir(parents=True)
    for name in ("p1.tif", "p2.tif", "p10.tif"):
        (folder / name).touch()  # the report reads only the names
    volume = load_volume(folder, ["kor"])
    with _store(tmp_path) as state:
        report = volume_report(state, volume, "vol")
    pages = {p["page"]: p for p in report["pages"]}
    assert [p["page"] for p in report["pages"]] == ["p1", "p2", "p10"]
    assert pages["p10"]["tiles"] == 3
    assert pages["p10"]["stages"]["tiles"]["files"] == 3
    assert pages["p2"]["stages"]["ocr"]["data"] == {}  # the traceback stays in the job log
    assert report["tiles"] == {"pages": 1, "files": 3}
    # The volume's own failure first, then page order (p2 before p10); a page no longer in
    # the volume is left out.
    assert [(f["page"], f["stage"]) for f in report["failures"]] == [
        ("", "manifest"),
        ("p1", "tiles"),
        ("p2", "ocr"),
    ]
