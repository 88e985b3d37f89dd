"""OCR with real tesseract on small generated pages: text, hOCR, ALTO, annotations, coordinates.

Pages are A4 at 150 dpi (1240 x 1754), the resolution the stage resamples to anyway, so each
page costs tesseract one to two seconds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import pyvips
from lxml import etree
from PIL import ImageFont

from pipeline.config import Config, load_config
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.layout import Layout
from pipeline.ocr import alto, hocr
from pipeline.records import PageItem, StageRecord
from pipeline.run.job import run_job
from pipeline.samples import HEADER_PHRASE, generate_volume, render_page
from pipeline.siteurl import layout_for
from pipeline.stages import ocr
from pipeline.stages.spec import PageInput
from pipeline.state import StateStore
from tests.conftest import SCHEMAS, assert_clean_exit, have_tesseract, invoke, require
from tests.unit.test_hocr import alto_schema

pytestmark = pytest.mark.tesseract

CONTRACT = {
    "language", "bcp47", "words", "lines", "confidence", "needs_review", "blank", "published",
    "hocr", "alto", "txt", "line_boxes", "engine", "lines_reread", "lines_replaced",
}  # fmt: skip


@pytest.fixture
def volume(tmp_path: Path, nanum_fonts: None, tesseract_kor: None) -> Path:
    generate_volume(
        tmp_path / "scans",
        volume_id="vol-1",
        pages=1,
        seed=3,
        fonts=["print"],
        conditions=["clean"],
    )
    return tmp_path / "scans" / "vol-1"


def records(cfg: Config, stage: str) -> dict[str, StageRecord]:
    with StateStore(layout_for(cfg).state_db) as state:
        return {r.page: r for r in state.records("vol-1") if r.stage == stage}


def boxes_inside(root: etree._Element, width: int, height: int) -> int:
    count = 0
    for element in root.iter():
        props = hocr.properties(element.get("title") or "")
        if "bbox" in props:
            x0, y0, x1, y1 = (int(v) for v in props["bbox"].split())
            assert 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height, props["bbox"]
            count += 1
    return count


def test_page_outputs_are_readable_valid_and_in_canvas_coordinates(
    volume: Path, make_cfg: Callable[..., Config]
) -> None:
    cfg = make_cfg()
    report = run_job(cfg, stages=["ingest", "ocr", "annotations", "text"])
    assert not report.failures, [f.error for f in report.failures]
    layout = layout_for(cfg)
    rec = records(cfg, "ocr")["p001"]
    anno_rel = records(cfg, "annotations")["p001"].data["annotations"]
    data = rec.data
    assert set(data) >= CONTRACT
    assert data["language"] == "kor" and data["bcp47"] == "ko"
    assert data["lines_reread"] == 0  # a Korean page costs no second reading
    assert data["confidence"] > 80 and not data["needs_review"] and data["published"]
    assert not data["blank"] and data["words"] > 20 and data["lines"] > 10
    assert set(rec.outputs) == {data[k] for k in ("hocr", "alto", "txt")}
    assert len(data["line_boxes"]) == data["lines"]

    text = layout.path(data["txt"]).read_text(encoding="utf-8")
    assert HEADER_PHRASE in text.replace(" ", "")

    hocr_text = layout.path(data["hocr"]).read_text(encoding="utf-8")
    root = etree.fromstring(hocr_text.encode("utf-8"))
    classes = {c for e in root.iter() for c in (e.get("class") or "").split()}
    assert {"ocr_page", "ocr_line", "ocrx_word"} <= classes
    assert boxes_inside(root, 1240, 1754) > 50
    # No temporary path leaks into the output: tesseract's input is named as the master.
    page_title = hocr.properties(root.find(".//{*}div").get("title"))
    assert page_title["image"] == '"p001.tif"'
    assert "page.png" not in hocr_text and "ocr-p001-" not in hocr_text

    alto_doc = etree.parse(str(layout.path(data["alto"])))
    assert data["alto_profile"] == alto.ALTO4
    schema = alto_schema("alto-4-4.xsd")
    assert schema.validate(alto_doc), schema.error_log
    assert alto_doc.findtext(".//{*}fileName") == "p001.tif"

    annotations = json.loads(layout.path(anno_rel).read_text(encoding="utf-8"))
    pres = json.loads((SCHEMAS / "presentation-3.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(pres).validate(annotations)
    assert annotations["id"] == layout.annotations_id("vol-1", "p001")
    assert len(annotations["items"]) == data["lines"]
    canvas = layout.canvas_id("vol-1", "p001")
    for anno in annotations["items"]:
        target, _, xywh = anno["target"].partition("#xywh=")
        x, y, w, h = (int(v) for v in xywh.split(","))
        assert target == canvas and w > 0 and h > 0
        assert x >= 0 and y >= 0 and x + w <= 1240 and y + h <= 1754
    assert HEADER_PHRASE in annotations["items"][0]["body"]["value"].replace(" ", "")

    volume_text = layout.text_path("vol-1").read_text(encoding="utf-8")
    assert "=== p001 (1) ===" in volume_text and HEADER_PHRASE in volume_text.replace(" ", "")


@pytest.mark.parametrize("font", ["hand", "hand2"])
def test_handwriting_like_pages_are_read(
    font: str, tmp_path: Path, nanum_fonts: None, tesseract_kor: None
) -> None:
    scans = tmp_path / "scans"
    generate_volume(scans, volume_id="vol-1", pages=1, seed=5, fonts=[font], conditions=["faded"])
    layout, rec = run_page(tmp_path, scans / "vol-1" / "p001.tif", "out")
    text = layout.path(rec.data["txt"]).read_text(encoding="utf-8")
    assert HEADER_PHRASE in text.replace(" ", "")
    assert rec.data["confidence"] > 60 and rec.data["lines"] > 10


@pytest.fixture
def mixed(tmp_path: Path, nanum_fonts: None, tesseract_kor: None) -> Path:
    """A Korean page with Russian lines; its volume.toml says ocr_languages = ["kor"]."""
    require(have_tesseract("rus"), "tesseract rus.traineddata not installed")
    generate_volume(
        tmp_path / "scans",
        volume_id="vol-1",
        pages=1,
        seed=2,
        fonts=["mixed"],
        conditions=["clean"],
    )
    return tmp_path / "scans" / "vol-1"


def test_russian_lines_are_found_and_tagged_with_no_language_configured(
    mixed: Path, make_cfg: Callable[..., Config]
) -> None:
    cfg = make_cfg()
    report = run_job(cfg, stages=["ingest", "ocr", "annotations"])
    assert not report.failures, [f.error for f in report.failures]
    data = records(cfg, "ocr")["p001"].data
    assert data["language"].startswith("kor+rus") and data["bcp47"][:2] == ["ko", "ru"]
    layout = layout_for(cfg)
    anno_rel = records(cfg, "annotations")["p001"].data["annotations"]
    items = json.loads(layout.path(anno_rel).read_text(encoding="utf-8"))["items"]
    russian = [a["body"]["value"] for a in items if a["body"]["language"] == "ru"]
    assert len(russian) >= 5 and all(re.search("[А-Яа-я]", v) for v in russian)
    assert data["lines_reread"] >= data["lines_replaced"] == len(russian)
    assert any("Морозова" in v for v in russian)
    assert sum(a["body"]["language"] == "ko" for a in items) > 5
    text = layout.path(data["txt"]).read_text(encoding="utf-8")
    assert "товарищ" in text and HEADER_PHRASE in text.replace(" ", "")

    # hOCR and ALTO say which lines are Russian, and the ALTO still validates.
    root = etree.parse(str(layout.path(data["hocr"]))).getroot()
    tagged = [e for e in root.iter("{*}span") if e.get("lang") == "ru"]
    assert len(tagged) == len(russian)
    assert "Морозова" in "".join("".join(e.itertext()) for e in tagged)
    schema = alto_schema("alto-4-4.xsd")
    alto4 = etree.parse(str(layout.path(data["alto"])))
    assert schema.validate(alto4), schema.error_log
    lines = [e for e in alto4.iter("{*}TextLine") if e.get("LANG") == "ru"]
    assert len(lines) == len(russian)
    assert any(s.get("CONTENT") == "Морозова," for e in lines for s in e.iter("{*}String"))
    step = alto4.find(".//{*}processingStepSettings")
    assert step is not None and "-l rus --psm 7" in (step.text or "")


def test_latin_lines_are_read_with_eng(
    tmp_path: Path, nanum_fonts: None, tesseract_kor: None
) -> None:
    require(have_tesseract("rus") and have_tesseract("eng"), "tesseract rus/eng not installed")
    lines = [
        "인물전기 제2권",
        "그는 1957년 대학을 졸업하였다.",
        "Moscow State University, 1957",
        "졸업 후 그는 연구소에서 일하였다.",
        "Окончил университет в 1957 году.",
        "그는 1996년 고향에서 세상을 떠났다.",
    ]
    image = render_page(
        text_lines=lines, font="print", condition="clean", seed=1, width=1240, height=1754
    )
    source = tmp_path / "p001.tif"
    image.save(source, dpi=(150, 150))
    layout, rec = run_page(tmp_path, source, "out")
    assert rec.data["language"] == "kor+rus+eng"
    root = etree.parse(str(layout.path(rec.data["hocr"]))).getroot()
    tagged = {e.get("lang"): "".join(e.itertext()) for e in root.iter("{*}span") if e.get("lang")}
    assert "University" in tagged["en"] and "университет" in tagged["ru"]
    text = layout.path(rec.data["txt"]).read_text(encoding="utf-8")
    assert "졸업" in text


def test_line_languages_off_reads_the_page_with_its_languages_only(
    mixed: Path, tmp_path: Path
) -> None:
    layout, rec = run_page(tmp_path, mixed / "p001.tif", "off", line_languages=[])
    assert rec.data["language"] == "kor" and rec.data["lines_reread"] == 0
    assert not re.search("[А-Яа-я]", layout.path(rec.data["txt"]).read_text(encoding="utf-8"))


def test_russian_lines_are_read_the_same_every_time(mixed: Path, tmp_path: Path) -> None:
    runs = [run_page(tmp_path, mixed / "p001.tif", name) for name in ("a", "b")]
    for kind in ("hocr", "alto", "txt"):
        first, second = (layout.path(rec.data[kind]).read_bytes() for layout, rec in runs)
        assert first == second, kind
    assert "Морозова" in runs[0][0].path(runs[0][1].data["txt"]).read_text(encoding="utf-8")


def test_explicit_languages_read_the_page_in_one_pass(mixed: Path, tmp_path: Path) -> None:
    layout, rec = run_page(tmp_path, mixed / "p001.tif", "explicit", languages=("kor+rus",))
    assert rec.data["language"].startswith("kor+rus")
    settings = etree.parse(str(layout.path(rec.data["alto"]))).find(".//{*}processingStepSettings")
    assert settings is not None and "-l rus --psm 7" not in (settings.text or "")


def header_box(layout: Layout, rec: StageRecord) -> tuple[int, int, int, int]:
    """Canvas box of the line holding the header phrase."""
    page = hocr.parse(layout.path(rec.data["hocr"]).read_text(encoding="utf-8"))
    for line in page.lines:
        if HEADER_PHRASE[:2] in "".join(w.text for w in line.words):
            return line.bbox
    raise AssertionError("header line not found")


def run_page(
    tmp_path: Path, source: Path, name: str, **ocr_cfg: object
) -> tuple[Layout, StageRecord]:
    """Run the OCR stage alone on one file."""
    layout = Layout(out=tmp_path / name, base_url="https://example.org/iiif/")
    languages = tuple(ocr_cfg.pop("languages", ("kor",)))  # type: ignore[call-overload]
    cfg = load_config(None, overrides={"ocr": ocr_cfg}, environ={})
    item = PageItem(
        volume="vol-1",
        page=source.stem,
        source=str(source),
        index=0,
        label={"none": ["1"]},
        ocr_languages=languages,
    )
    rec = ocr.run(PageInput(item=item), ocr.settings(cfg), layout)
    return layout, rec


@pytest.mark.slow
def test_downscaled_and_cropped_runs_map_to_the_same_canvas_boxes(
    volume: Path, tmp_path: Path
) -> None:
    original = volume / "p001.tif"
    base_layout, base = run_page(tmp_path, original, "base")
    x0, y0, x1, y1 = header_box(base_layout, base)

    # The same page at 300 dpi: the stage resamples it to 150 dpi and maps boxes back up.
    big = tmp_path / "big" / "p001.tif"
    big.parent.mkdir()
    pyvips.Image.new_from_file(str(original)).resize(2, kernel="linear").copy(
        xres=300 / 25.4, yres=300 / 25.4
    ).tiffsave(str(big))
    big_layout, big_rec = run_page(tmp_path, big, "big", alto_version=3)
    assert "resampled to 150 dpi" in big_rec.data["preprocessing"]
    schema = alto_schema("alto-3-0.xsd")
    alto3 = etree.parse(str(big_layout.path(big_rec.data["alto"])))
    assert schema.validate(alto3), schema.error_log
    page = alto3.find(".//{*}Page")
    assert page is not None and (page.get("WIDTH"), page.get("HEIGHT")) == ("2480", "3508")
    bx0, by0, bx1, by1 = header_box(big_layout, big_rec)
    tolerance = 8  # px at 300 dpi: tesseract's boxes on two renderings of the same page
    assert abs(bx0 - 2 * x0) <= tolerance and abs(by0 - 2 * y0) <= tolerance
    assert abs(bx1 - 2 * x1) <= tolerance and abs(by1 - 2 * y1) <= tolerance

    # The same page inside a black scanner border: cropped off, boxes shifted back.
    framed = tmp_path / "framed" / "p001.tif"
    framed.parent.mkdir()
    image = pyvips.Image.new_from_file(str(original))
    image.embed(70, 50, image.width + 140, image.height + 90, background=[0]).copy(
        xres=150 / 25.4, yres=150 / 25.4
    ).tiffsave(str(framed))
    framed_layout, framed_rec = run_page(tmp_path, framed, "framed")
    assert any("border cropped" in s for s in framed_rec.data["preprocessing"])
    fx0, fy0, fx1, fy1 = header_box(framed_layout, framed_rec)
    assert abs(fx0 - 70 - x0) <= 2 and abs(fy0 - 50 - y0) <= 2
    assert abs(fx1 - 70 - x1) <= 2 and abs(fy1 - 50 - y1) <= 2


def test_ocr_starts_from_ingests_working_image_and_writes_the_same_bytes_without_it(
    volume: Path, tmp_path: Path, make_cfg: Callable[..., Config], caplog: pytest.LogCaptureFixture
) -> None:
    # A 300-dpi master, so that OCR resamples: only then does ingest keep a working image.
    master = volume / "p001.tif"
    image = pyvips.Image.new_from_file(str(master)).resize(2, kernel="linear")
    image.copy(xres=300 / 25.4, yres=300 / 25.4).tiffsave(str(master) + ".new")
    Path(str(master) + ".new").replace(master)
    written: dict[str, dict[str, bytes]] = {}
    for case in ("kept", "missing", "damaged"):
        cfg = make_cfg(site={"out": str(tmp_path / case)})
        layout = layout_for(cfg)
        assert not run_job(cfg, stages=["ingest"]).failures
        kept = list((layout.work_dir / "cache").rglob("*.png"))
        assert len(kept) == 1, kept
        grey = pyvips.Image.new_from_file(str(kept[0]))
        assert (grey.width, grey.height, grey.bands) == (1240, 1754, 1)
        if case == "missing":
            kept[0].unlink()
        elif case == "damaged":
            kept[0].write_bytes(kept[0].read_bytes()[:20000])
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="pipeline.imaging.working_image"):
            report = run_job(cfg, stages=["ocr"])
        assert not report.failures, [f.error for f in report.failures]
        said = {
            "kept": "starting from the working image",
            "missing": "no working image kept",
            "damaged": "ignoring the unreadable working image",
        }
        assert [r for r in caplog.records if said[case] in r.getMessage()], caplog.text
        # Used (or passed over) and removed: the cache does not grow with the collection.
        assert not list((layout.work_dir / "cache").rglob("*.png"))
        rec = records(cfg, "ocr")["p001"]
        assert "resampled to 150 dpi" in rec.data["preprocessing"]
        written[case] = {k: layout.path(rec.data[k]).read_bytes() for k in ("hocr", "alto", "txt")}
        assert HEADER_PHRASE.encode("utf-8") in written[case]["txt"]
    assert written["kept"] == written["missing"] == written["damaged"]

    # Touched master: ingest runs again and keeps a new copy, OCR is current and does not use
    # it; a job that ran OCR clears what is left, one that only ingests keeps it.
    cfg = make_cfg(site={"out": str(tmp_path / "kept")})
    cache = layout_for(cfg).cache_dir
    os.utime(master)
    assert run_job(cfg, stages=["ingest"]).counts["ok"] == 1
    assert len(list(cache.rglob("*.png"))) == 1
    os.utime(master)
    report = run_job(cfg, stages=["ingest", "ocr"])
    assert report.counts["ok"] == 1 and report.counts["current"] == 1
    assert not cache.exists()

    # A job on one volume clears that volume's copies only.
    other = volume.parent / "vol-2"
    other.mkdir()
    shutil.copy(master, other / "p001.tif")
    cfg = make_cfg(site={"out": str(tmp_path / "two")})
    cache = layout_for(cfg).cache_dir
    assert not run_job(cfg, stages=["ingest"]).failures
    assert not run_job(cfg, volumes=["vol-1"], stages=["ingest", "ocr"]).failures
    assert not (cache / "vol-1").exists() and len(list((cache / "vol-2").rglob("*.png"))) == 1

    # OCR off: ingest validates the master the same way but keeps nothing.
    cfg = make_cfg(site={"out": str(tmp_path / "no-ocr")}, ocr={"enabled": False})
    assert not run_job(cfg, stages=["ingest"]).failures
    assert not (layout_for(cfg).work_dir / "cache").exists()


def test_switching_ocr_off_removes_the_pages_earlier_text(
    volume: Path, make_cfg: Callable[..., Config]
) -> None:
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "ocr", "annotations", "text"]).failures
    layout = layout_for(cfg)
    files = [layout.ocr_path("vol-1", "p001", kind) for kind in ("hocr", "alto", "txt")]
    files += [layout.annotations_path("vol-1", "p001"), layout.text_path("vol-1")]
    assert all(f.exists() for f in files)

    off = make_cfg(ocr={"enabled": False})
    assert not run_job(off, stages=["ingest", "ocr", "annotations", "text"]).failures
    assert not [f for f in files if f.exists()]
    assert records(off, "ocr")["p001"].outputs == {}


VERTICAL_COLUMNS = ("조선의 력사를 배우자", "로동자들의 생활은", "날로 좋아지고 있다")


def test_vertical_pages_are_read_with_the_vertical_mode(
    tmp_path: Path, nanum_fonts: None, make_cfg: Callable[..., Config]
) -> None:
    require(have_tesseract("kor_vert"), "tesseract with kor_vert.traineddata not installed")
    from PIL import Image, ImageDraw

    from pipeline.samples import find_font

    # Columns top to bottom, right to left, as vertical Korean is written.
    font = ImageFont.truetype(str(find_font("NanumMyeongjo.ttf")), 40)
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for n, column in enumerate(VERTICAL_COLUMNS):
        y = 200
        for char in column:
            if char != " ":
                draw.text((1040 - 80 * n, y), char, font=font, fill=0)
            y += 30 if char == " " else 52
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    page.save(folder / "p001.tif", dpi=(150, 150))
    (folder / "volume.toml").write_text('ocr_languages = ["kor_vert"]\n', encoding="utf-8")
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "ocr"]).failures
    rec = records(cfg, "ocr")["p001"]
    text = "".join(layout_for(cfg).path(rec.data["txt"]).read_text(encoding="utf-8").split())
    for column in VERTICAL_COLUMNS:
        # Each column read (tesseract may miss its last syllable: 있다 -> 있더).
        assert "".join(column.split())[:-1] in text, text
    # A line per column (besides stray fragments), each taller than wide, right to left.
    boxes = [box for line, box in rec.data["line_boxes"] if len(line.replace(" ", "")) >= 5]
    assert len(boxes) == len(VERTICAL_COLUMNS), rec.data["line_boxes"]
    assert all(y1 - y0 > 4 * (x1 - x0) for x0, y0, x1, y1 in boxes)
    assert [b[0] for b in boxes] == sorted((b[0] for b in boxes), reverse=True)


def test_blank_page_is_ok_and_not_flagged(tmp_path: Path, tesseract_kor: None) -> None:
    blank = tmp_path / "blank" / "p009.tif"
    blank.parent.mkdir()
    (pyvips.Image.black(1240, 1754) + 245).cast("uchar").copy(
        xres=150 / 25.4, yres=150 / 25.4
    ).tiffsave(str(blank))
    layout, rec = run_page(tmp_path, blank, "out")
    assert rec.status == "ok"
    assert rec.data["blank"] and rec.data["confidence"] is None
    assert not rec.data["needs_review"] and rec.data["published"]
    assert rec.data["line_boxes"] == [] and rec.data["lines"] == 0
    assert layout.path(rec.data["txt"]).read_text(encoding="utf-8") == ""


@pytest.mark.slow
def test_low_confidence_pages_are_flagged_and_withheld(
    volume: Path, make_cfg: Callable[..., Config]
) -> None:
    published_cfg = make_cfg()
    run_job(published_cfg, stages=["ingest", "ocr", "annotations"])
    layout = layout_for(published_cfg)
    public = [layout.ocr_path("vol-1", "p001", k) for k in ("hocr", "alto", "txt")]
    public.append(layout.annotations_path("vol-1", "p001"))
    assert all(p.exists() for p in public)

    # Same output folder, stricter policy: the public files must go, the review copy stays.
    cfg = make_cfg(ocr={"review_confidence": 99.9, "publish_low_confidence": False})
    report = run_job(cfg, stages=["ingest", "ocr", "annotations", "text"])
    assert not report.failures
    data = records(cfg, "ocr")["p001"].data
    assert data["needs_review"] and not data["published"]
    assert records(cfg, "annotations")["p001"].data["annotations"] is None
    assert data["txt"].startswith(".pipeline/") and layout.path(data["hocr"]).exists()
    assert not any(p.exists() for p in public)
    assert not any(layout.is_published(layout.path(data[k])) for k in ("hocr", "alto", "txt"))
    review = layout.review_list_path("vol-1").read_text(encoding="utf-8")
    assert review.splitlines()[0].startswith("page_number,page,file")
    assert ",p001,p001.tif,ocr," in review
    volume_text = layout.text_path("vol-1").read_text(encoding="utf-8")
    assert "[text withheld" in volume_text and HEADER_PHRASE not in volume_text.split("===")[-1]


def test_a_volume_asking_for_a_missing_language_is_reported_at_start(
    volume: Path, tmp_path: Path
) -> None:
    descriptor = volume / "volume.toml"
    text = descriptor.read_text(encoding="utf-8")
    descriptor.write_text(text.replace('ocr_languages = ["kor"]', 'ocr_languages = ["kor+xyz"]'))
    result = invoke(tmp_path, "run", "--stages", "ingest,ocr")
    assert_clean_exit(result, 1)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("WARNING: vol-1/volume.toml [ocr]: tesseract language 'xyz' is not")
    assert "apt-get install tesseract-ocr-xyz" in lines[0]
    assert any(
        ln.startswith("error: vol-1/p001.tif [ocr]: tesseract language 'xyz'") for ln in lines
    )


def test_missing_languages_are_named_with_their_package(
    volume: Path, tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    with pytest.raises(MissingDependencyError, match="tesseract-ocr-xyz"):
        run_job(make_cfg(ocr={"languages": ["kor+xyz"]}), stages=["ocr"])
    with pytest.raises(MissingDependencyError, match=r"tesseract-ocr-xyz.*line_languages = \[\]"):
        run_job(make_cfg(ocr={"line_languages": ["rus", "xyz"]}), stages=["ocr"])
    with pytest.raises(OcrError, match="'xyz' is not installed"):
        item = PageItem("vol-1", "p001", str(volume / "p001.tif"), 0, {}, ("kor", "xyz"))
        cfg = make_cfg()
        ocr.run(PageInput(item=item), ocr.settings(cfg), layout_for(cfg))


def fake_tesseract(tmp_path: Path, body: str) -> Path:
    """A folder with a tesseract that answers version and language probes but fails to read."""
    real = shutil.which("tesseract")
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "tesseract"
    script.write_text(
        f'#!/bin/sh\ncase "$1" in --version|--list-langs) exec {real} "$@";; esac\n{body}\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("body", "timeout", "message"),
    [
        pytest.param(
            'echo "Error in pixReadStream: Unknown format" >&2; exit 1',
            30,
            r"tesseract failed \(exit 1\): Error in pixReadStream: Unknown format",
            id="crash",
        ),
        pytest.param(
            'echo "Tesseract Open Source OCR Engine v5.3.0 with Leptonica" >&2\n'
            'echo "Error in pixReadStream: Unknown format" >&2; exit 1',
            30,
            r"tesseract failed \(exit 1\): Error in pixReadStream: Unknown format",
            id="crash-after-banner",
        ),
        pytest.param("sleep 10", 0.5, r"tesseract timed out after 0.5 s \(raise ocr", id="timeout"),
    ],
)
def test_tesseract_failures_become_page_errors(
    volume: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    timeout: float,
    message: str,
) -> None:
    monkeypatch.setenv("PATH", f"{fake_tesseract(tmp_path, body)}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(OcrError, match=message):
        run_page(tmp_path, volume / "p001.tif", "out", timeout_s=timeout)
    assert not any((tmp_path / "out" / ".pipeline" / "tmp").iterdir())
