"""review-export: held pages as PAGE XML 2019 beside their image, the layout Transkribus reads."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import pyvips
from lxml import etree

from pipeline.archive.review_export import export_review
from pipeline.input.transcripts.match import match_files
from pipeline.input.transcripts.read import read_transcript
from pipeline.input.transcripts.schemas import load
from pipeline.ocr import hocr
from pipeline.run.job import run_job
from pipeline.state import StateStore
from tests.conftest import (
    assert_clean_exit,
    config_at,
    invoke,
)
from tests.integration.sample_build import HOLD_ALL, VOLUME, build_sample

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sample pages through every stage, both held for review."""
    return build_sample(tmp_path_factory.mktemp("built"), pages=2)


def _ocr(root: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    with StateStore(root / "out" / ".pipeline" / "state.sqlite") as state:
        return {
            rec.page: rec.data for rec in state.records(VOLUME) if rec.stage == "ocr" and rec.page
        }


def test_held_pages_are_written_as_valid_page_xml_beside_their_image(
    built: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "review"
    result = invoke(built, "review-export", VOLUME, str(dest))
    assert_clean_exit(result, 0)
    ocr = _ocr(built)
    assert "exported 2 page(s)" in result.output
    assert sorted(p.name for p in dest.glob("*.jpg")) == sorted(f"{p}.jpg" for p in ocr)
    schema = load("pagecontent-2019-07-15.xsd")
    for page, data in ocr.items():
        xml = dest / "page" / f"{page}.xml"
        assert schema.validate(etree.parse(str(xml)))
        transcript = read_transcript(xml)
        image = pyvips.Image.new_from_file(str(dest / transcript.image_file))
        assert transcript.image_file == f"{page}.jpg"
        assert transcript.image_size == (image.width, image.height)
        assert transcript.provenance.kind == "ocr"
        assert transcript.provenance.software.startswith("tesseract ")
        assert [line.text for line in transcript.lines] == [text for text, _ in data["line_boxes"]]
        hocr_page = hocr.parse((built / "out" / data["hocr"]).read_text(encoding="utf-8"))
        expected_conf = [
            sum(w.confidence for w in ln.words) / len(ln.words) / 100 for ln in hocr_page.lines
        ]
        assert [line.confidence for line in transcript.lines] == pytest.approx(
            expected_conf, abs=1e-4
        )
        sx = data_width(built, page) / image.width
        for line, (_, box) in zip(transcript.lines, data["line_boxes"], strict=True):
            assert line.box is not None
            back = (line.box[0] * sx, line.box[1] * sx, line.box[2] * sx, line.box[3] * sx)
            assert back == pytest.approx(box, abs=2 * sx)


def data_width(root: Path, page: str) -> int:
    info = json.loads((root / "out" / VOLUME / "images" / page / "info.json").read_text())
    return int(info["width"])


def test_the_export_is_byte_identical_and_its_files_match_their_pages(
    built: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for dest in (first, second):
        assert_clean_exit(invoke(built, "review-export", VOLUME, str(dest), "--all"), 0)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and files == sorted(
        p.relative_to(second) for p in second.rglob("*") if p.is_file()
    )
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    # A tool's export keeps the image name: renamed files still match their page by it.
    exports = {
        f"export_doc3_{i}.xml": read_transcript(p).image_file
        for i, p in enumerate(sorted((first / "page").glob("*.xml")))
    }
    pages = [(page, f"{page}.tif") for page in _ocr(built)]
    matching = match_files(exports, pages)
    assert matching.problems == ()
    assert sorted(matching.pages.values()) == sorted(_ocr(built))


def test_nothing_held_says_so_and_a_missing_volume_is_named(built: Path, tmp_path: Path) -> None:
    work = tmp_path / "ws"
    shutil.copytree(built, work, symlinks=True)
    db = work / "out" / ".pipeline" / "state.sqlite"
    with StateStore(db) as state:
        for rec in list(state.records(VOLUME)):
            if rec.stage == "ocr" and rec.page:
                state.put(replace(rec, data={**rec.data, "needs_review": False}))
    result = invoke(work, "review-export", VOLUME, str(tmp_path / "none"))
    assert_clean_exit(result, 0)
    assert f"no page of {VOLUME} is held for review" in result.output
    assert not (tmp_path / "none").exists()

    result = invoke(work, "review-export", "vol-9", str(tmp_path / "x"))
    assert_clean_exit(result, 4)
    assert "vol-9: volume folder not found" in result.output


def _annotations(root: Path, page: str) -> list[tuple[str, tuple[int, ...]]]:
    doc = json.loads((root / "out" / VOLUME / "annotations" / f"{page}.json").read_text())
    out = []
    for item in doc["items"]:
        target = item["target"] if isinstance(item["target"], str) else item["target"]["source"]
        xywh = tuple(int(v) for v in target.split("#xywh=")[1].split(","))
        out.append((item["body"]["value"], xywh))
    return out


def test_corrected_export_dropped_into_transcriptions_changes_exactly_those_lines(
    built: Path, tmp_path: Path
) -> None:
    work = tmp_path / "ws"
    shutil.copytree(built, work, symlinks=True)
    page = sorted(_ocr(work))[0]
    before = _annotations(work, page)
    dest = tmp_path / "review"
    assert_clean_exit(invoke(work, "review-export", VOLUME, str(dest)), 0)

    # What a correction tool gives back: two lines retyped, the person as creator; the
    # file keeps the image name it was given, under a name of the tool's own.
    ns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    tree = etree.parse(str(dest / "page" / f"{page}.xml"))
    unicode = tree.findall(".//p:TextLine/p:TextEquiv/p:Unicode", ns)
    unicode[0].text, unicode[2].text = "고친 첫 줄", "고친 셋째 줄"
    creator = tree.find(".//p:Metadata/p:Creator", ns)
    assert creator is not None
    creator.text = "Kim Minji"
    folder = work / "transcriptions" / VOLUME
    folder.mkdir(parents=True)
    tree.write(str(folder / "export_doc7_page1.xml"), xml_declaration=True, encoding="UTF-8")

    report = run_job(config_at(work, ocr=HOLD_ALL))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    after = _annotations(work, page)
    assert len(after) == len(before)
    changed = [n for n, (a, b) in enumerate(zip(before, after, strict=True)) if a[0] != b[0]]
    assert changed == [0, 2]
    assert (after[0][0], after[2][0]) == ("고친 첫 줄", "고친 셋째 줄")
    for (_, box_before), (_, box_after) in zip(before, after, strict=True):
        assert box_after == pytest.approx(box_before, abs=2)
    other = sorted(_ocr(work))[1]  # the other page keeps its OCR, untouched
    assert _annotations(work, other) == _annotations(built, other)


def test_a_folder_that_cannot_be_made_is_one_line(built: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = invoke(built, "review-export", VOLUME, str(tmp_path / "a-file" / "review"))
    assert_clean_exit(result, 4)
    assert "a-file" in result.output and "cannot write the export" in result.output


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".pipeline" not in p.parts
    }


@pytest.mark.parametrize(
    ("command", "dest", "named"),
    [
        pytest.param("review-export", f"scans/{VOLUME}", "the scans folder", id="review-scans"),
        pytest.param(
            "review-export",
            f"transcriptions/{VOLUME}",
            "the transcriptions folder",
            id="review-transcriptions",
        ),
        pytest.param("review-export", "out/review", "the output folder", id="review-out"),
        pytest.param("review-export", ".", "the scans folder", id="review-holding-all"),
        pytest.param("export-gt", f"scans/{VOLUME}", "the scans folder", id="gt-scans"),
        pytest.param(
            "export-gt", f"scans/{VOLUME}/../{VOLUME}/gt", "the scans folder", id="gt-dotdot"
        ),
        pytest.param(
            "export-gt",
            f"transcriptions/{VOLUME}",
            "the transcriptions folder",
            id="gt-transcriptions",
        ),
        pytest.param("export-gt", "out", "the output folder", id="gt-out"),
    ],
)
def test_an_export_into_the_scans_transcriptions_or_output_folder_is_refused(
    built: Path, tmp_path: Path, command: str, dest: str, named: str
) -> None:
    work = tmp_path / "ws"
    shutil.copytree(built, work, symlinks=True)
    (work / "transcriptions" / VOLUME).mkdir(parents=True)
    before = _files(work)
    every = ["--all"] if command == "review-export" else []
    result = invoke(work, command, VOLUME, str(work / dest), *every)
    assert_clean_exit(result, 2)
    line = result.output.strip()
    assert "\n" not in line and str(work / dest) in line, result.output
    assert f"must not contain or be inside {named}" in line
    assert _files(work) == before  # no master replaced, no file added anywhere


def test_an_export_through_a_link_into_the_scans_is_refused(built: Path, tmp_path: Path) -> None:
    work = tmp_path / "ws"
    shutil.copytree(built, work, symlinks=True)
    (tmp_path / "link").symlink_to(work / "scans" / VOLUME)
    before = _files(work)
    result = invoke(work, "review-export", VOLUME, str(tmp_path / "link"), "--all")
    assert_clean_exit(result, 2)
    assert "must not contain or be inside the scans folder" in result.output
    assert _files(work) == before


def test_an_unreadable_hocr_is_named_and_its_lines_exported_without_confidence(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work = tmp_path / "ws"
    shutil.copytree(built, work, symlinks=True)
    page, data = sorted(_ocr(work).items())[0]
    broken = work / "out" / data["hocr"]
    broken.write_text("<html><body>no page here</body></html>", encoding="utf-8")
    dest = tmp_path / "review"
    with caplog.at_level(logging.WARNING, logger="pipeline.archive.page_lines"):
        result = export_review(config_at(work, ocr=HOLD_ALL), VOLUME, dest, all_pages=True)
    assert page in result.pages and result.problems == ()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(broken) in warnings[0] and "unreadable hOCR" in warnings[0]
    lines = read_transcript(dest / "page" / f"{page}.xml").lines
    assert lines and all(line.confidence is None for line in lines)
