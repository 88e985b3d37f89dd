"""The searchable PDF of a volume, from real runs: libvips derivatives, tesseract text, poppler.

``pdftotext`` (poppler) and ``qpdf --check`` read the file as readers do; the text each page
gives back is compared with the lines the OCR stage recorded for it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import pyvips

from pipeline.config import Config
from pipeline.records import StageRecord
from pipeline.results import OcrResult
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import assert_clean_exit, config_at, have_nanum_fonts, have_tesseract, invoke
from tests.conftest import require as require_tool
from tests.manifest_samples import check_presentation
from tests.s3server import S3Server

pytestmark = pytest.mark.slow


def _tools() -> None:
    for tool in ("pdftotext", "qpdf"):
        require_tool(shutil.which(tool) is not None, f"{tool} missing (apt: poppler-utils, qpdf)")


def _built(root: Path, workers: int) -> Config:
    """A two-page volume (Korean; Korean with Russian passages) run with OCR into root/out."""
    require_tool(have_nanum_fonts(), "Nanum fonts are not installed")
    require_tool(have_tesseract("kor"), "tesseract with kor is not installed")
    _tools()
    generate_volume(root / "scans", volume_id="vol-1", pages=2, seed=3, fonts=["print", "mixed"])
    cfg = config_at(root, run={"workers": workers})
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    return cfg


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return _built(tmp_path_factory.mktemp("pdf"), workers=1)


def _records(cfg: Config, stage: str) -> list[StageRecord]:
    with StateStore(layout_for(cfg).state_db) as state:
        return sorted(
            (r for r in state.records() if r.stage == stage), key=lambda r: (r.volume, r.page)
        )


def _page_text(path: Path, page: int) -> list[str]:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        check=True,
    )
    return [" ".join(line.split()) for line in done.stdout.decode().splitlines() if line.strip()]


def _manifest(cfg: Config) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (cfg.site.out / "vol-1" / "manifest.json").read_text(encoding="utf-8")
    )
    return data


@pytest.mark.tesseract
def test_each_page_gives_back_its_ocr_lines_in_reading_order(built: Config) -> None:
    pdf = built.site.out / "vol-1" / "vol-1.pdf"
    ocr = [r.result_as(OcrResult) for r in _records(built, "ocr")]
    assert [o.published for o in ocr] == [True, True]
    for number, result in enumerate(ocr, start=1):
        expected = [" ".join(text.split()) for text, _ in result.line_boxes]
        expected = [line for line in expected if line]
        assert expected, f"page {number}: OCR found no lines"
        assert _page_text(pdf, number) == expected
    first, second = (" ".join(_page_text(pdf, n)) for n in (1, 2))
    # Hangul and Cyrillic copy out as themselves, not as mojibake or private-use codes.
    assert "인물전기" in first.replace(" ", "")
    assert any("\u0410" <= c <= "\u044f" for c in second), second
    assert "\ufffd" not in first + second
    # The Russian lines of the mixed page are marked as Russian for screen readers.
    doc = pikepdf.open(pdf)
    marks = [i for i in pikepdf.parse_content_stream(doc.pages[1]) if str(i.operator) == "BDC"]
    assert marks and {str(m.operands[1].Lang) for m in marks} == {"ru"}


@pytest.mark.tesseract
def test_the_pdf_passes_qpdf_and_has_a_page_per_canvas_at_its_size(built: Config) -> None:
    path = built.site.out / "vol-1" / "vol-1.pdf"
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    canvases = _manifest(built)["items"]
    pdf = pikepdf.open(path)
    assert len(pdf.pages) == len(canvases) == 2
    for page, canvas in zip(pdf.pages, canvases, strict=True):
        _, _, width, height = (float(v) for v in page.MediaBox)
        assert width / height == pytest.approx(canvas["width"] / canvas["height"], rel=0.002)
        master = built.site.scans / "vol-1" / f"{canvas['id'].rsplit('/', 1)[1]}.tif"
        dpi = pyvips.Image.new_from_file(str(master)).xres * 25.4
        # The canvas (the master's pixels) at the master's declared resolution.
        assert width == pytest.approx(canvas["width"] * 72 / dpi, abs=0.01)


@pytest.mark.tesseract
def test_the_manifest_declares_the_pdf_and_its_bookmarks_are_the_ranges(built: Config) -> None:
    manifest = _manifest(built)
    check_presentation(manifest)
    (rendering,) = [r for r in manifest["rendering"] if r["format"] == "application/pdf"]
    assert rendering["type"] == "Text"
    assert rendering["label"]["en"] == ["PDF with text"]
    assert rendering["id"] == f"{built.site.base_url}vol-1/vol-1.pdf"
    pdf = pikepdf.open(built.site.out / "vol-1" / "vol-1.pdf")
    canvases = [c["id"] for c in manifest["items"]]
    with pdf.open_outline() as outline:
        marks = [(i.title, pdf.pages.index(pikepdf.Page(i.destination[0]))) for i in outline.root]
    ranges = [
        (r["label"]["ko"][0], canvases.index(r["items"][0]["id"])) for r in manifest["structures"]
    ]
    assert marks == ranges and marks
    assert str(pdf.docinfo.Title) == manifest["label"]["ko"][0]
    assert str(pdf.Root.Lang) == "ko"


@pytest.mark.tesseract
def test_another_run_with_more_workers_writes_the_same_bytes(built: Config, tmp_path: Path) -> None:
    again = _built(tmp_path, workers=2)
    first = (built.site.out / "vol-1" / "vol-1.pdf").read_bytes()
    assert (again.site.out / "vol-1" / "vol-1.pdf").read_bytes() == first


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[Path]:
    """A one-page volume run without OCR (an image-only PDF), through the CLI."""
    require_tool(have_nanum_fonts(), "Nanum fonts are not installed")
    _tools()
    generate_volume(tmp_path / "scans", volume_id="vol-1", pages=1, seed=5, width=620, height=877)
    result = invoke(tmp_path, "run", "--quiet", env={"PIPELINE_OCR__ENABLED": "false"})
    assert_clean_exit(result, 0)
    yield tmp_path / "out" / "vol-1"


def test_without_ocr_the_pdf_has_the_images_only(quick: Path) -> None:
    pdf = pikepdf.open(quick / "vol-1.pdf")
    assert len(pdf.pages) == 1
    assert "/Font" not in pdf.pages[0].Resources
    assert _page_text(quick / "vol-1.pdf", 1) == []


def test_a_pdf_that_cannot_be_built_fails_alone_and_the_manifest_goes_without_it(
    quick: Path, tmp_path: Path
) -> None:
    for jpeg in (quick / "images" / "p001" / "full").rglob("default.jpg"):
        jpeg.write_bytes(jpeg.read_bytes()[:200])  # damaged after tiling
    env = {"PIPELINE_OCR__ENABLED": "false", "PIPELINE_PDF__QUALITY": "70"}
    result = invoke(tmp_path, "run", "--quiet", env=env)
    assert_clean_exit(result, 1)
    (line,) = [x for x in result.output.splitlines() if "[pdf]" in x]
    assert "vol-1" in line and "default.jpg: not a readable JPEG" in line, result.output
    manifest = json.loads((quick / "manifest.json").read_text(encoding="utf-8"))
    assert not [r for r in manifest.get("rendering", []) if r["format"] == "application/pdf"]
    assert not (quick / "vol-1.pdf").exists()  # nothing published that the manifest lacks
    cfg = config_at(tmp_path, ocr={"enabled": False})
    assert [r.status for r in _records(cfg, "pdf")] == ["failed"]
    assert [r.status for r in _records(cfg, "manifest")] == ["ok"]


def test_switched_off_the_pdf_is_removed_and_no_longer_declared(
    quick: Path, tmp_path: Path
) -> None:
    assert (quick / "vol-1.pdf").is_file()
    env = {"PIPELINE_OCR__ENABLED": "false", "PIPELINE_PDF__ENABLED": "false"}
    assert_clean_exit(invoke(tmp_path, "run", "--quiet", env=env), 0)
    assert not (quick / "vol-1.pdf").exists()
    manifest = json.loads((quick / "manifest.json").read_text(encoding="utf-8"))
    assert "vol-1.pdf" not in json.dumps(manifest)


@pytest.mark.s3
def test_the_pdf_is_published_with_its_media_type(
    quick: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    env = {**s3_server.env(), "PIPELINE_OCR__ENABLED": "false"}
    assert_clean_exit(invoke(tmp_path, "publish", "--to", f"s3://{bucket}", env=env), 0)
    got = s3_server.client().get_object(Bucket=bucket, Key="vol-1/vol-1.pdf")
    assert got["Body"].read() == (quick / "vol-1.pdf").read_bytes()
    assert got["ContentType"] == "application/pdf"
    assert got["CacheControl"] == "public, max-age=3600"
