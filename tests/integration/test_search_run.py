"""Search through a real run: generated pages in North Korean spelling, tesseract, the index stage.

OCR is real, so assertions are about what the run found, never about an exact text: a word of
the ground truth that OCR read is found in both spellings, the hits point at the lines and
boxes the annotations give, and the index is rebuilt only when its input changes.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.records import StageRecord
from pipeline.results import IndexResult
from pipeline.run.job import run_job
from pipeline.samples import HEADER_PHRASE, generate_volume
from pipeline.samples.generate import SamplePage
from pipeline.samples.text import PEOPLE
from pipeline.search import Hit, search
from pipeline.search.indexes import open_service
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import config_at, have_nanum_fonts, have_tesseract, require

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

# North Korean spellings in the sample biographies, and how the South writes them.
SPELLINGS = [
    ("력사", "역사"),
    ("로동자", "노동자"),
    ("되였다", "되었다"),
    ("태여났다", "태어났다"),
    ("리정숙", "이정숙"),
    ("리론", "이론"),
    ("량심", "양심"),
    ("녀성", "여성"),
]


def generate(root: Path) -> list[SamplePage]:
    require(have_nanum_fonts(), "fonts-nanum not installed")
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    return generate_volume(
        root / "scans",
        volume_id="vol-1",
        pages=2,
        seed=7,
        fonts=["print", "gothic"],
        conditions=["clean"],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, list[SamplePage]]:
    root = tmp_path_factory.mktemp("search-run")
    pages = generate(root)
    cfg = config_at(root)
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    return cfg, pages


def index_record(cfg: Config) -> StageRecord:
    with StateStore(layout_for(cfg).state_db) as state:
        rec = state.get("vol-1", "", "index")
    assert rec is not None
    return rec


def annotation_boxes(cfg: Config, hit: Hit) -> dict[str, str]:
    """The line annotations of a hit's page: id -> target."""
    layout = layout_for(cfg)
    page = json.loads(layout.annotations_path(hit.volume, hit.page).read_text(encoding="utf-8"))
    return {a["id"]: a["target"] for a in page["items"]}


def ocr_text(cfg: Config) -> str:
    return (layout_for(cfg).text_path("vol-1")).read_text(encoding="utf-8").replace(" ", "")


def test_the_run_writes_a_published_index(built: tuple[Config, list[SamplePage]]) -> None:
    cfg, pages = built
    layout = layout_for(cfg)
    rec = index_record(cfg)
    result = rec.result_as(IndexResult)
    assert rec.status == "ok" and result.index == "vol-1/search.sqlite"
    assert result.pages == len(pages) and result.lines > 10
    path = layout.search_index_path("vol-1")
    assert layout.is_published(path) and "vol-1/search.sqlite" in layout.published_rels("vol-1")


def test_hits_point_at_the_canvas_and_the_box_of_their_line(
    built: tuple[Config, list[SamplePage]],
) -> None:
    cfg, pages = built
    layout = layout_for(cfg)
    manifest = json.loads(layout.manifest_path("vol-1").read_text(encoding="utf-8"))
    canvases = [c["id"] for c in manifest["items"]]
    result = search([layout.search_index_path("vol-1")], HEADER_PHRASE, limit=10)
    assert [h.canvas for h in result.hits] == canvases  # every page's header, in canvas order
    for hit in result.hits:
        assert hit.manifest == manifest["id"] and hit.line == 1
        assert [hit.text[s:e] for s, e in hit.spans] == [HEADER_PHRASE]
        targets = annotation_boxes(cfg, hit)
        box = hit.box
        target = f"{hit.canvas}#xywh={box.x},{box.y},{box.w},{box.h}"
        assert targets[layout.annotation_id("vol-1", hit.page, hit.line)] == target


def test_north_and_south_spellings_find_the_same_lines(
    built: tuple[Config, list[SamplePage]],
) -> None:
    cfg, pages = built
    index = [layout_for(cfg).search_index_path("vol-1")]
    truth = "".join(p.text for p in pages).replace(" ", "")
    read = [
        (north, south) for north, south in SPELLINGS if north in truth and north in ocr_text(cfg)
    ]
    assert len(read) >= 3, read  # OCR of clean print reads most of them
    for north, south in read:
        found = search(index, north, limit=50)
        assert found.total >= 1 and found == search(index, south, limit=50), north
        for hit in found.hits:
            assert north in hit.text.replace(" ", "").replace("\n", "")


def test_a_romanized_name_finds_the_person(built: tuple[Config, list[SamplePage]]) -> None:
    cfg, pages = built
    index = [layout_for(cfg).search_index_path("vol-1")]
    people = [p for p in PEOPLE if p.name_ko in ocr_text(cfg)]
    assert people
    for person in people:
        # name_en is written the North Korean way ("Ri Jong Suk"); catalogues write MR.
        by_name = search(index, person.name_ko, limit=50)
        assert by_name.total >= 1
        assert search(index, person.name_en, limit=50) == by_name, person.name_en


def test_a_rerun_keeps_the_index_and_a_new_base_url_rebuilds_it(
    built: tuple[Config, list[SamplePage]],
) -> None:
    cfg, _ = built
    path = layout_for(cfg).search_index_path("vol-1")
    before = path.read_bytes(), path.stat().st_mtime_ns, index_record(cfg).fingerprint
    report = run_job(cfg, stages=["index"])
    assert report.counts["ok"] == 0 and report.counts["current"] == 1
    assert (path.read_bytes(), path.stat().st_mtime_ns, index_record(cfg).fingerprint) == before
    moved = cfg.model_copy(
        update={"site": cfg.site.model_copy(update={"base_url": "https://other.example/iiif/"})}
    )
    report = run_job(moved, stages=["index"])
    assert report.counts["ok"] == 1
    hits = search([path], HEADER_PHRASE, limit=10).hits
    assert hits and all(h.canvas.startswith("https://other.example/iiif/vol-1/") for h in hits)


def test_the_index_bytes_do_not_depend_on_the_worker_count(tmp_path: Path) -> None:
    generate(tmp_path)
    built: list[bytes] = []
    for workers in (1, 2):
        cfg = config_at(
            tmp_path, site={"out": str(tmp_path / f"out-{workers}")}, run={"workers": workers}
        )
        report = run_job(cfg, stages=["ingest", "ocr", "index"])
        assert not report.failures, [f.error for f in report.failures]
        built.append(layout_for(cfg).search_index_path("vol-1").read_bytes())
    assert built[0] == built[1]


def test_a_volume_with_a_failed_page_is_searched_only_with_allow_partial(tmp_path: Path) -> None:
    generate(tmp_path)
    (tmp_path / "scans" / "vol-1" / "p999.tif").write_bytes(b"II*\x00 not really a TIFF")
    cfg = config_at(tmp_path)
    stages = ["ingest", "ocr", "index"]
    report = run_job(cfg, stages=stages)
    assert [f.page for f in report.failures] == ["p999"]
    # Its manifest waits for the page, so its index does: the collection's search finds
    # nothing in a volume the site does not show.
    assert index_record(cfg).result_as(IndexResult) == IndexResult(index=None, missing=["p999"])
    layout = layout_for(cfg)
    assert not layout.search_index_path("vol-1").exists()
    service = open_service(layout.out)
    query = f"q={urllib.parse.quote(HEADER_PHRASE)}".encode("ascii")
    assert service.handle("GET", "search2", query, f"{cfg.site.base_url}search/").status == 404
    partial = config_at(tmp_path, manifest={"allow_partial": True})
    run_job(partial, stages=stages)
    result = index_record(partial).result_as(IndexResult)
    assert result.index == "vol-1/search.sqlite" and result.missing == ["p999"]
    answer = service.handle("GET", "search2", query, f"{cfg.site.base_url}search/")
    assert answer.status == 200 and json.loads(answer.body)["items"]
