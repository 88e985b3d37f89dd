"""The contact sheet's checks, which need no tool: shapes, transcription files, orientation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.archive.contact import rotation_flag, shape_flags, transcribed_pages
from pipeline.archive.report import write_volume_report
from pipeline.archive.report_model import IngestFacts, PageEntry
from pipeline.input.volumes import load_volume
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.results import IngestResult, OcrResult, TilesResult
from pipeline.state import StateStore


def _entry(page: str, width: int, height: int) -> PageEntry:
    facts = IngestFacts(f"{page}.tif", width, height, None, (), ())
    return PageEntry(page, f"{page}.tif", 0, "ok", {}, ingest=facts)


def test_a_spread_and_a_fold_out_are_marked_among_single_pages() -> None:
    entries = [_entry("p1", 700, 1000), _entry("p2", 710, 1000), _entry("p3", 1400, 1000),
               _entry("p4", 690, 1000), _entry("p5", 700, 2000)]  # fmt: skip
    flags = shape_flags(entries)
    assert set(flags) == {"p3", "p5"}
    assert flags["p3"] == "wide (1.40 vs 0.70 in this volume)"
    assert flags["p5"] == "tall (0.35 vs 0.70 in this volume)"


def test_too_few_pages_have_no_outliers() -> None:
    assert shape_flags([_entry("p1", 700, 1000), _entry("p2", 2000, 1000)]) == {}


def test_pages_with_a_transcription_file_are_known(
    make_scan: Callable[..., Path], tmp_path: Path
) -> None:
    for page in ("f001r", "f001v", "f002r"):
        make_scan(f"vol/{page}.tif", 64, 64)
    folder = tmp_path / "transcriptions" / "vol"
    folder.mkdir(parents=True)
    for name in ("f001v.xml", "f002r.txt", "notes-about-the-volume.txt", ".DS_Store"):
        (folder / name).write_text("x", encoding="utf-8")
    scans = tmp_path / "scans" / "vol"
    volume = load_volume(scans, ["kor"], transcriptions=tmp_path / "transcriptions")
    assert transcribed_pages(volume) == {"f001v", "f002r"}
    assert transcribed_pages(load_volume(scans, ["kor"])) == set()


@pytest.mark.parametrize(
    ("ocr", "flag"),
    [
        pytest.param(
            OcrResult(needs_review=True, orientation=180, orientation_confidence=12.4),
            "likely upside down (orientation confidence 12.4)",
            id="upside-down",
        ),
        pytest.param(
            OcrResult(needs_review=True, orientation=90, orientation_confidence=3.0),
            "likely turned 90 degrees (orientation confidence 3.0)",
            id="sideways",
        ),
        pytest.param(
            OcrResult(needs_review=True, orientation=180, orientation_confidence=1.5),
            None,
            id="unsure",
        ),
        pytest.param(
            OcrResult(needs_review=True, orientation=0, orientation_confidence=20.0),
            None,
            id="upright",
        ),
        pytest.param(OcrResult(confidence=91.0), None, id="not-held"),
        pytest.param(
            OcrResult(needs_review=True, orientation_error="orientation not detected: too few"),
            "orientation not measured: orientation not detected: too few",
            id="not-measured",
        ),
    ],
)
def test_the_orientation_flag_says_what_ocr_recorded(ocr: OcrResult, flag: str | None) -> None:
    assert rotation_flag(ocr) == flag


def test_the_report_is_built_without_tesseract(
    make_scan: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Report and verify read what OCR recorded: no tesseract on PATH, the page is still marked."""
    for page in ("p1", "p2"):
        make_scan(f"vol/{page}.tif", 64, 90)
    volume = load_volume(tmp_path / "scans" / "vol", ["kor"])
    layout = Layout(out=tmp_path / "out", base_url="https://example.org/iiif/")
    held = OcrResult(
        confidence=31.0, needs_review=True, orientation=180, orientation_confidence=9.8
    )
    with StateStore(tmp_path / "state.sqlite") as state:
        for page, ocr in (("p1", OcrResult(confidence=92.0)), ("p2", held)):
            state.put(StageRecord.done("ingest", "vol", page, IngestResult(width=64, height=90)))
            state.put(StageRecord.done("tiles", "vol", page, TilesResult(width=64, height=90)))
            state.put(StageRecord.done("ocr", "vol", page, ocr))
        monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
        path = write_volume_report(layout, state, volume)
    sheet = {p["page"]: p for p in json.loads(path.read_text(encoding="utf-8"))["contact_sheet"]}
    assert sheet["p1"]["flags"] == []
    assert sheet["p2"]["flags"] == ["likely upside down (orientation confidence 9.8)"]
