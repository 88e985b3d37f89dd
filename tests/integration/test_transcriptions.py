"""Transcriptions through the whole pipeline: real tesseract, libvips, the CLI and verify."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips

from pipeline.archive.fixity import verify_workspace
from pipeline.config import Config
from pipeline.input.transcripts.read import read_transcript
from pipeline.run.job import run_job
from pipeline.samples.generate import SamplePage, generate_volume
from pipeline.siteurl import layout_for
from tests.conftest import (
    BASE_URL,
    assert_clean_exit,
    config_at,
    have_nanum_fonts,
    have_tesseract,
    invoke,
    require,
    rerun_changes,
    stage_records,
)

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

VOLUME = "vol-1"
DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two sample pages through every stage, real tesseract included; built once per module."""
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    require(have_nanum_fonts(), "fonts-nanum not installed")
    root = tmp_path_factory.mktemp("built")
    pages = generate_volume(
        root / "scans", volume_id=VOLUME, pages=2, seed=3, width=700, height=990, fonts=["print"]
    )
    report = run_job(config_at(root))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    yield {"root": root, "pages": pages}


@pytest.fixture
def work(built: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the built workspace (copies keep modification times)."""
    shutil.copytree(built["root"], tmp_path / "ws", symlinks=True)
    return tmp_path / "ws"


def transcribe(root: Path, name: str, text: str) -> Path:
    path = root / "transcriptions" / VOLUME / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def annotation_texts(root: Path, page: str) -> list[str]:
    doc = json.loads((root / "out" / VOLUME / "annotations" / f"{page}.json").read_text("utf-8"))
    return [item["body"]["value"] for item in doc["items"]]


def ocr_records(cfg: Config) -> dict[tuple[str, str], object]:
    """What the OCR stage stored per page (its fingerprint and result; not its duration)."""
    return {k: (r.fingerprint, r.data) for k, r in stage_records(cfg).items() if k[1] == "ocr"}


REDONE = {
    ("p001", "transcription"),
    ("p001", "annotations"),
    ("", "text"),
    ("", "index"),
    ("", "pdf"),
    ("", "manifest"),
}


def test_a_transcription_and_its_changes_redo_only_what_depends_on_it(
    work: Path, built: dict[str, Any]
) -> None:
    cfg = config_at(work)
    truth: SamplePage = built["pages"][0]
    ocr_before = ocr_records(cfg)
    lines = truth.text.splitlines()
    transcribe(work, "p001.txt", truth.text + "\n")
    assert rerun_changes(cfg) == REDONE
    assert annotation_texts(work, "p001") == [line.strip() for line in lines if line.strip()]

    lines[0] = "고친 첫 줄"
    transcribe(work, "p001.txt", "\n".join(lines) + "\n")
    assert rerun_changes(cfg) == REDONE
    assert annotation_texts(work, "p001")[0] == "고친 첫 줄"
    # Tesseract never ran again: the OCR records are exactly as they were.
    assert ocr_records(cfg) == ocr_before

    manifest = json.loads((work / "out" / VOLUME / "manifest.json").read_text("utf-8"))
    first, second = manifest["items"]
    assert first["annotations"][0]["label"] == {"en": ["Transcription"]}
    assert "label" not in second["annotations"][0]
    assert first["seeAlso"][0]["id"] == f"{BASE_URL}{VOLUME}/transcription/p001.alto.xml"
    assert second["seeAlso"][0]["id"] == f"{BASE_URL}{VOLUME}/ocr/p002.alto.xml"
    (text_link,) = [r for r in manifest["rendering"] if r["format"] == "text/plain"]
    assert text_link["label"]["en"] == ["Text of the volume: transcriptions and OCR (plain text)"]
    volume_text = (work / "out" / VOLUME / f"{VOLUME}.txt").read_text("utf-8")
    assert "=== p001 (1) ===\n[transcription]\n고친 첫 줄" in volume_text
    assert "=== p002 (2) ===\n[machine-generated OCR]\n" in volume_text

    result = verify_workspace(cfg)
    assert result.problems == [], [p.line() for p in result.problems]

    # The file goes: the page's OCR comes back, the transcription's files go.
    (work / "transcriptions" / VOLUME / "p001.txt").unlink()
    assert rerun_changes(cfg) == REDONE
    assert not (work / "out" / VOLUME / "transcription" / "p001.alto.xml").exists()
    assert verify_workspace(cfg).problems == []


def levenshtein(a: str, b: str) -> int:
    """The test's own edit distance (not the package's)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_the_report_measures_our_ocr_against_the_human_text(
    work: Path, built: dict[str, Any]
) -> None:
    cfg = config_at(work)
    for page in built["pages"]:
        transcribe(work, f"{page.page_id}.txt", page.text + "\n")
    assert not run_job(cfg).failures
    report = json.loads(layout_for(cfg).report_path(VOLUME).read_text("utf-8"))
    measured = report["ocr_accuracy"]
    recs = stage_records(cfg)
    edits = chars = 0
    for page in built["pages"]:
        ocr = recs[(page.page_id, "ocr")].data
        hypothesis = "".join("".join(text for text, _ in ocr["line_boxes"]).split())
        reference = "".join(page.text.split())
        page_edits = levenshtein(reference, hypothesis)
        entry = next(e for e in measured["per_page"] if e["page"] == page.page_id)
        assert entry["cer"] == round(100 * page_edits / len(reference), 2)
        assert entry["held_for_review"] == ocr["needs_review"]
        edits, chars = edits + page_edits, chars + len(reference)
    assert measured["cer"] == round(100 * edits / chars, 2)


def test_the_cli_takes_a_transcriptions_folder_and_says_what_is_wrong(
    work: Path, built: dict[str, Any]
) -> None:
    elsewhere = work / "elsewhere"
    (elsewhere / VOLUME).mkdir(parents=True)
    (elsewhere / VOLUME / "p001.txt").write_text("사람이 고친 글\n", encoding="utf-8")
    (elsewhere / VOLUME / "p002.xml").write_text("<PcGts><Page>", encoding="utf-8")
    (elsewhere / VOLUME / "p999.txt").write_text("어느 면도 아닌 글\n", encoding="utf-8")
    result = invoke(work, "run", "--transcriptions", str(elsewhere), "--jobs", "1")
    assert_clean_exit(result, 1)
    bad = [line for line in result.output.splitlines() if "p002.xml" in line]
    assert len(bad) >= 1 and all("Traceback" not in line for line in bad)
    assert any("malformed XML" in line or "root element" in line for line in bad)
    assert any(
        "p999.txt: no page of this volume matches its name" in line
        for line in result.output.splitlines()
    )
    assert annotation_texts(work, "p001") == ["사람이 고친 글"]
    # The invalid file's page keeps its OCR, published as before.
    assert annotation_texts(work, "p002") and (work / "out" / VOLUME / "ocr" / "p002.txt").exists()
    assert_clean_exit(invoke(work, "verify"), 0)


REAL = [
    # (export, master file name: the image it declares, or its own name when it declares none)
    ("transkribus-page2013-0002.xml", "0002.tif"),
    ("escriptorium-page2019-0003.xml", "0003.tif"),
    ("escriptorium-alto4-0003.xml", "0003.tif"),
    ("abbyy-alto2-PPN750717092-00000780.xml", "abbyy-alto2-PPN750717092-00000780.tif"),
]


@pytest.mark.parametrize(("export", "master"), REAL)
def test_a_real_export_dropped_in_as_it_is_lands_on_a_blank_master(
    export: str, master: str, tmp_path: Path
) -> None:
    declared = read_transcript(DATA / export).image_size
    assert declared is not None
    (tmp_path / "scans" / "vol").mkdir(parents=True)
    pyvips.Image.black(*declared).write_to_file(str(tmp_path / "scans" / "vol" / master))
    (tmp_path / "transcriptions" / "vol").mkdir(parents=True)
    shutil.copy(DATA / export, tmp_path / "transcriptions" / "vol" / export)
    cfg = config_at(tmp_path, ocr={"enabled": False})
    report = run_job(cfg, stages=["ingest", "ocr", "transcription", "annotations"])
    assert not report.failures, [f.error for f in report.failures]
    page = Path(master).stem
    doc = json.loads((tmp_path / "out" / "vol" / "annotations" / f"{page}.json").read_text())
    lines = read_transcript(DATA / export).lines
    assert [a["body"]["value"] for a in doc["items"]] == [line.text for line in lines]
    for line, annotation in zip(lines, doc["items"], strict=True):
        assert line.box is not None
        x, y, w, h = (int(v) for v in annotation["target"].rsplit("=", 1)[1].split(","))
        assert abs(x - line.box[0]) <= 2 and abs(y - line.box[1]) <= 2
        assert abs(x + w - line.box[2]) <= 2 and abs(y + h - line.box[3]) <= 2


def test_a_file_of_an_exif_rotated_masters_stored_pixels_lands_upright(tmp_path: Path) -> None:
    # The master's pixels are stored 5680 x 4180 with EXIF orientation 6 (turn 90 degrees
    # clockwise to stand upright); eScriptorium's kraken saw the stored pixels, the canvas is
    # the upright 4180 x 5680.
    export = "escriptorium-page2019-0003.xml"
    stored_w, stored_h = 5680, 4180
    master = pyvips.Image.black(stored_w, stored_h).copy()
    master.set_type(pyvips.GValue.gint_type, "orientation", 6)
    (tmp_path / "scans" / "vol").mkdir(parents=True)
    master.write_to_file(str(tmp_path / "scans" / "vol" / "0003.tif"))
    (tmp_path / "transcriptions" / "vol").mkdir(parents=True)
    shutil.copy(DATA / export, tmp_path / "transcriptions" / "vol" / export)
    cfg = config_at(tmp_path, ocr={"enabled": False})
    report = run_job(cfg, stages=["ingest", "ocr", "transcription", "annotations"])
    assert not report.failures, [f.error for f in report.failures]
    ingest = stage_records(cfg)[("0003", "ingest")].data
    assert (ingest["orientation"], ingest["width"], ingest["height"]) == (6, stored_h, stored_w)
    doc = json.loads((tmp_path / "out" / "vol" / "annotations" / "0003.json").read_text())
    for line, annotation in zip(read_transcript(DATA / export).lines, doc["items"], strict=True):
        assert line.box is not None
        x0, y0, x1, y1 = line.box
        # Upright (x', y') = (stored height - y, x).
        expected = (stored_h - y1, x0, stored_h - y0, x1)
        x, y, w, h = (int(v) for v in annotation["target"].rsplit("=", 1)[1].split(","))
        got = (x, y, x + w, y + h)
        assert all(abs(a - b) <= 2 for a, b in zip(got, expected, strict=True)), (got, expected)
