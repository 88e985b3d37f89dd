"""The volume report read from the state store: counts of listed files, failures in page order."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive.report import (
    html_file,
    report_json,
    status_report,
    volume_report,
    write_volume_report,
)
from pipeline.archive.report_build import build_report
from pipeline.archive.report_html import render_html
from pipeline.archive.report_model import MAX_LISTED
from pipeline.archive.review import render_csv, review_entries
from pipeline.input.volumes import Volume, load_volume
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.state import StateStore

GOLDEN = Path(__file__).parents[1] / "golden"


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
    assert "data" not in pages["p2"]["stages"]["ocr"]  # page data stays in the state store
    assert report["tiles"] == {"pages": 1, "files": 3}
    # The volume's own failure first, then page order (p2 before p10); a page no longer in
    # the volume is left out.
    assert [(f["page"], f["stage"]) for f in report["failures"]] == [
        ("", "manifest"),
        ("p1", "tiles"),
        ("p2", "ocr"),
    ]


# -- the report of a volume with a bit of everything, pinned in tests/golden/ ---------------------
GENERATED = "2026-01-01T00:00:00+0000"
ODD = "a<b>&\"c'.tif"  # a master file name that is hostile in HTML


def _rich_store(tmp_path: Path) -> tuple[StateStore, Volume]:
    """A volume with conversions, warnings, a page to review, replay checks, failures of
    pages and of the volume, a missing, an unlisted and an ignored file, a numbering gap,
    and the last fixity check."""
    folder = tmp_path / "scans" / "vol"
    folder.mkdir(parents=True)
    names = ["p1.tif", "p2.tif", "p3.tif", "p5.tif", ODD]
    for name in [*names, "extra.tif", "notes.txt"]:
        (folder / name).touch()
    listed = ", ".join(json.dumps(n) for n in [*names, "gone.tif"])
    (folder / "volume.toml").write_text(f"pages = [{listed}]\n", encoding="utf-8")
    volume = load_volume(folder, ["kor"])
    odd = volume.pages[4].page
    state = StateStore(tmp_path / "state.sqlite")
    records = [
        StageRecord("ingest", "vol", "p1", "ok", duration_s=0.5, data={
            "file": "p1.tif", "width": 100, "height": 200, "sha256": "a" * 64, "orientation": 6,
            "has_icc": True, "bits": 16, "has_alpha": True, "warnings": ["odd <tag> & more"]}),
        StageRecord("tiles", "vol", "p1", "ok", duration_s=1.25, data={"replay_missing": 0},
                    outputs={f"vol/images/p1/{n}.jpg": "0" * 64 for n in range(4)}),
        StageRecord("ocr", "vol", "p1", "ok", data={
            "confidence": 41.5, "needs_review": True, "published": False, "words": 12,
            "language": "kor", "txt": "vol/ocr/p1.txt", "hocr": "vol/ocr/p1.hocr"}),
        StageRecord("ingest", "vol", "p2", "ok", data={
            "file": "p2.tif", "width": 10, "height": 20, "sha256": "b" * 64,
            "interpretation": "cmyk", "palette": True, "format": "float"}),
        StageRecord("tiles", "vol", "p2", "failed", error="disk <full>", error_type="TilingError"),
        StageRecord("ocr", "vol", "p2", "skipped", error="upstream failed: tiles"),
        StageRecord("ingest", "vol", "p3", "ok", data={
            "file": "p3.tif", "bits": 1, "width": 5, "height": 5, "sha256": "c" * 64}),
        StageRecord("ocr", "vol", "p3", "ok", data={"confidence": 90, "needs_review": False}),
        StageRecord("ingest", "vol", "p5", "failed", error="unreadable", error_type="ScanError",
                    data={"traceback": "Traceback ..."}),
        StageRecord("ingest", "vol", odd, "ok", data={
            "file": ODD, "width": 7, "height": 8, "sha256": "d" * 64}),
        StageRecord("ocr", "vol", odd, "failed", error="tesseract <timed> out",
                    error_type="OcrError", data={"file": ODD}),
        StageRecord("manifest", "vol", "", "ok", data={
                        "id": "https://example.org/iiif/vol/manifest.json", "canvases": 5,
                        "warnings": ["label <script>alert(1)</script>: markup removed"],
                        "replay_result": "ok", "replay_missing": 2}),
        StageRecord("text", "vol", "", "ok", outputs={"vol/text.txt": "0" * 64},
                    data={"text": "vol/text.txt"}),
        StageRecord("ingest", "vol", "gone", "failed", error="renamed"),
    ]  # fmt: skip
    for rec in records:
        state.put(rec)
    run = state.start_run("verify")
    checked = {"masters": 4, "derivatives": 9, "problems": 1}
    state.finish_run(run, json.dumps({"checked_at": 1767225600.0, "volumes": {"vol": checked}}))
    return state, volume


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC (the HTML shows the fixity check's time in local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _rich_report(tmp_path: Path) -> dict[str, Any]:
    state, volume = _rich_store(tmp_path)
    with state:
        report = volume_report(state, volume, "vol")
    assert len(report["built_from"]) == 64  # a digest of paths under tmp_path: not pinned
    report.update(generated=GENERATED, built_from="")
    report["ocr"]["review_list"] = "out/.pipeline/reports/vol-review.csv"
    return report


def _golden(name: str, actual: str, request: pytest.FixtureRequest) -> str:
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def test_report_json_is_the_golden_one(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    actual = _rich_report(tmp_path)
    assert json.loads(report_json(actual)) == actual
    assert "\n" not in report_json(actual).rstrip("\n")  # compact: one line
    pretty = json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert pretty == _golden("report.json", pretty, request), "pytest --update-golden if meant"


def test_the_report_is_the_previous_versions_without_page_data(tmp_path: Path) -> None:
    # tests/golden/report-v2.json was written by version 2 of the report (before its typed
    # model) from the same state store: version 3 leaves out each page stage's data (the
    # state store keeps it) and says what it was built from; nothing else changed.
    old = json.loads((GOLDEN / "report-v2.json").read_text(encoding="utf-8"))
    for page in old["pages"]:
        for stage in page["stages"].values():
            del stage["data"]
    old.update(version=3, built_from="")
    # The transcription stage came later: its row lists every page as pending.
    new = _rich_report(tmp_path)
    assert new["stages"].pop("transcription") == {
        "ok": 0,
        "failed": 0,
        "skipped": 0,
        "pending": len(old["pages"]),
        "errors": [],
    }
    assert new == old


def test_report_html_is_the_golden_one(
    tmp_path: Path, request: pytest.FixtureRequest, utc: None
) -> None:
    actual = render_html(_rich_report(tmp_path))
    assert actual == _golden("report.html", actual, request), "pytest --update-golden if meant"


def test_the_html_escapes_every_value_from_the_state(tmp_path: Path, utc: None) -> None:
    page = render_html(_rich_report(tmp_path))
    assert "<script>" not in page and "<tag>" not in page and "<timed>" not in page
    assert "label &lt;script&gt;alert(1)&lt;/script&gt;: markup removed" in page
    assert "<td>a&lt;b&gt;&amp;&#34;c&#39;.tif</td>" in page
    assert "disk &lt;full&gt;" in page and "odd &lt;tag&gt; &amp; more" in page


def test_long_lists_are_cut_in_the_html(tmp_path: Path) -> None:
    report = volume_report(None, None, "vol<1>")
    report["failures"] = [
        {"page": f"p{n}", "file": "", "stage": "ocr", "error": "<x>"} for n in range(205)
    ]
    page = render_html(report)
    assert page.count("<li>") == MAX_LISTED
    assert "<li class=muted>… 5 more</li>" in page
    assert "<h1>vol&lt;1&gt;</h1>" in page and "<li>p0 [ocr]: &lt;x&gt;</li>" in page


def test_an_unreadable_volume_is_reported_with_its_reason(tmp_path: Path) -> None:
    state, _ = _rich_store(tmp_path)
    with state:
        report = volume_report(state, None, "vol", error="volume.toml: bad key")
    assert report["error"] == "volume.toml: bad key" and report["stages"] == {}
    assert report["failures"][0] == {
        "page": "", "file": "volume.toml", "stage": "ingest", "error": "volume.toml: bad key",
        "error_type": "ConfigError"}  # fmt: skip
    assert [p["page"] for p in report["pages"]][:2] == ["a-b-c-5b64d0a1", "gone"]  # sorted ids
    assert report["pages_found"] == 0 and report["input"]["missing_files"] == []


def test_the_review_list_holds_the_pages_ocr_held_for_review(tmp_path: Path) -> None:
    state, volume = _rich_store(tmp_path)
    with state:
        entries = review_entries(build_report(state, volume, "vol"))
    assert [e["page"] for e in entries] == ["p1"]  # p3's confidence is above the threshold
    rows = list(csv.DictReader(io.StringIO(render_csv(entries))))
    assert rows == [
        {"page_number": "1", "page": "p1", "file": "p1.tif", "stage": "ocr",
         "confidence": "41.5", "words": "12", "language": "kor", "published": "False",
         "text": "vol/ocr/p1.txt", "hocr": "vol/ocr/p1.hocr"}
    ]  # fmt: skip


# -- a report still current is read back, not rebuilt ---------------------------------------------
def _written(layout: Layout) -> dict[str, tuple[int, bytes]]:
    return {
        p.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in layout.report_path("vol").parent.iterdir()
    }


def test_records_version_changes_with_every_stored_or_deleted_record(tmp_path: Path) -> None:
    state, _ = _rich_store(tmp_path)
    with state:
        seen = [state.records_version("vol")]
        rec = state.get("vol", "p1", "ocr")
        assert rec is not None
        state.put(rec)  # the same record again
        seen.append(state.records_version("vol"))
        state.delete("vol", "p1", "ocr")
        seen.append(state.records_version("vol"))
        state.put(rec)  # back, as the row stored last
        seen.append(state.records_version("vol"))
        assert state.records_version("other") != seen[-1]
    assert len(set(seen)) == len(seen)


def test_a_current_report_is_left_as_it_is(tmp_path: Path) -> None:
    layout = Layout(out=tmp_path / "out", base_url="https://example.org/iiif/")
    state, volume = _rich_store(tmp_path)
    with state:
        path = write_volume_report(layout, state, volume)
        first = _written(layout)
        assert set(first) == {"vol.json", "vol.html", "vol-review.csv"}
        write_volume_report(layout, state, volume)
        assert _written(layout) == first  # not rewritten
        rec = state.get("vol", "p3", "ocr")
        assert rec is not None
        state.put(replace(rec, data={**rec.data, "confidence": 20, "needs_review": True}))
        write_volume_report(layout, state, volume)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert [r["page"] for r in report["ocr"]["needs_review"]] == ["p1", "p3"]
    assert "p3" in layout.review_list_path("vol").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", ["record", "verify", "new file", "html gone"])
def test_a_report_is_rebuilt_when_what_it_shows_changed(tmp_path: Path, change: str) -> None:
    layout = Layout(out=tmp_path / "out", base_url="https://example.org/iiif/")
    state, volume = _rich_store(tmp_path)
    with state:
        path = write_volume_report(layout, state, volume)
        built = json.loads(path.read_text(encoding="utf-8"))["built_from"]
        if change == "record":
            state.put(StageRecord("annotations", "vol", "p1", "ok"))
        elif change == "verify":
            state.finish_run(state.start_run("verify"), json.dumps({"volumes": {}}))
        elif change == "new file":
            (volume.folder / "p6.tif").touch()
            volume = load_volume(volume.folder, ["kor"])
        else:
            html_file(path).unlink()
        write_volume_report(layout, state, volume)
    rebuilt = json.loads(path.read_text(encoding="utf-8"))
    assert rebuilt["built_from"] != built or change == "html gone"
    assert html_file(path).is_file()
    if change == "new file":
        assert rebuilt["input"]["unlisted_files"] == ["extra.tif", "p6.tif"]


def test_status_reads_the_written_report_while_current_and_writes_nothing(
    tmp_path: Path,
) -> None:
    layout = Layout(out=tmp_path / "out", base_url="https://example.org/iiif/")
    state, volume = _rich_store(tmp_path)
    with state:
        path = write_volume_report(layout, state, volume)
        written = json.loads(path.read_text(encoding="utf-8"))
        before = _written(layout)
        assert status_report(layout, state, [volume], [])["volumes"] == [written]
        state.put(StageRecord("tiles", "vol", "p2", "ok"))
        (fresh,) = status_report(layout, state, [volume], [])["volumes"]
        assert _written(layout) == before
    assert fresh["built_from"] != written["built_from"]
    pages = {p["page"]: p for p in fresh["pages"]}
    assert pages["p2"]["stages"]["tiles"]["status"] == "ok"
