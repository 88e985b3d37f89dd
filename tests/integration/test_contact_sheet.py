"""The contact sheet of the run report: real OCR, an upside-down page, Chromium opening the file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pyvips

from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from tests.conftest import VIEWER, artifact_path, assert_clean_exit, config_at, invoke, require

pytestmark = [pytest.mark.slow, pytest.mark.tesseract]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A volume of three pages, the second scanned upside down, the third transcribed."""
    require(shutil.which("tesseract") is not None, "tesseract not installed")
    tmp = tmp_path_factory.mktemp("contact")
    scans = tmp / "scans"
    generate_volume(scans, volume_id="vol-1", pages=3, seed=11, width=900, height=1273,
                    fonts=["print"], conditions=["clean"])  # fmt: skip
    master = scans / "vol-1" / "p002.tif"
    upside_down = pyvips.Image.new_from_file(str(master)).rotate(180)
    upside_down.write_to_file(str(master.with_name("p002-rotated.tif")))
    master.with_name("p002-rotated.tif").replace(master)
    (tmp / "transcriptions" / "vol-1").mkdir(parents=True)
    (tmp / "transcriptions" / "vol-1" / "p003.txt").write_text("인물전기\n", encoding="utf-8")
    cfg = config_at(tmp)
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    path = layout_for(cfg).report_path("vol-1")
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_pages_in_order_with_their_facts(built: tuple[Path, dict[str, Any]]) -> None:
    path, report = built
    sheet = report["contact_sheet"]
    assert [p["page"] for p in sheet] == ["p001", "p002", "p003"]
    assert [p["transcription"] for p in sheet] == [False, False, True]
    for page in sheet:
        assert (page["width"], page["height"]) == (900, 1273)
        assert (path.parent / page["thumbnail"]).is_file()
        assert page["ocr_confidence"] is not None


def test_the_upside_down_page_is_marked(built: tuple[Path, dict[str, Any]]) -> None:
    sheet = {p["page"]: p for p in built[1]["contact_sheet"]}
    assert sheet["p002"]["needs_review"]
    assert any(f.startswith("likely upside down") for f in sheet["p002"]["flags"])
    for page in ("p001", "p003"):
        assert not any("upside down" in f for f in sheet[page]["flags"]), sheet[page]


def test_verify_rebuilds_the_sheet_without_tesseract(
    built: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The orientation is OCR's record: verify (which rewrites the report) runs no tesseract."""
    root = next(p for p in built[0].parents if (p / "scans").is_dir())
    shutil.copytree(root, tmp_path / "ws", symlinks=True)
    work = tmp_path / "ws"
    report = work / built[0].relative_to(root)
    report.unlink()
    result = invoke(work, "verify", env={"PATH": str(tmp_path / "no-tools")})
    assert_clean_exit(result, 0)
    sheet = {p["page"]: p for p in json.loads(report.read_text(encoding="utf-8"))["contact_sheet"]}
    assert sheet == {p["page"]: p for p in built[1]["contact_sheet"]}
    assert any(f.startswith("likely upside down") for f in sheet["p002"]["flags"])


@pytest.mark.browser
def test_every_thumbnail_loads_in_chromium(
    built: tuple[Path, dict[str, Any]], chromium: str, tmp_path: Path
) -> None:
    node = shutil.which("node")
    require(node is not None, "node not installed")
    require((VIEWER / "node_modules/playwright-core").is_dir(), "viewer/node_modules missing")
    assert node is not None
    html = built[0].with_suffix(".html")
    argv = [
        node, str(VIEWER / "report-check.mjs"),
        "--page", html.as_uri(),
        "--screenshot", str(artifact_path(tmp_path, "contact-sheet.png")),
        "--chromium", chromium,
        "--profile", str(tmp_path / "chromium-profile"),
    ]  # fmt: skip
    proc = subprocess.run(argv, cwd=VIEWER, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert not result["errors"] and not result["failed"], result
    pages = result["pages"]
    assert [p["id"] for p in pages] == ["contact-p001", "contact-p002", "contact-p003"]
    assert all(p["loaded"] for p in pages), pages
    assert pages[1]["flagged"]
    assert any(f.startswith("likely upside down") for f in pages[1]["flags"])
    assert "no transcription" in pages[0]["caption"]
    assert "no transcription" not in pages[2]["caption"]
