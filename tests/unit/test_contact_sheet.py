"""The contact sheet's checks that need no tool: shape outliers and transcription files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.archive.contact import shape_flags, transcribed_pages
from pipeline.archive.report_model import IngestFacts, PageEntry
from pipeline.input.volumes import load_volume


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
