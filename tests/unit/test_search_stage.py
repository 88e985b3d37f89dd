"""The index stage on OCR results given directly: which lines it indexes, in which order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.records import PageItem
from pipeline.results import IndexResult
from pipeline.search import Box, search
from pipeline.stages import STAGE_NAMES, index
from pipeline.stages.spec import PageInput, Upstream, VolumeInput

SETTINGS = index.IndexSettings(base_url="https://example.org/iiif/")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(out=tmp_path / "out", base_url="https://example.org/iiif/")


def page_input(
    page: str, ocr: dict[str, object], transcription: dict[str, object] | None = None
) -> PageInput:
    item = PageItem(
        volume="vol-1",
        page=page,
        source=f"/scans/vol-1/{page}.tif",
        index=int(page[1:]) - 1,
        label={"none": [page]},
        ocr_languages=("kor",),
    )
    # A published OCR record names its text file; the ingest record gives the canvas size.
    upstream = {
        "ingest": {"width": 2000, "height": 3000},
        "ocr": {"txt": f"vol-1/ocr/{page}.txt", "language": "kor", **ocr},
        "transcription": transcription,
    }
    return PageInput(item=item, upstream=Upstream.model_validate(upstream))


def lines(*texts: str) -> list[list[object]]:
    return [[text, [100, 50 * n, 700, 50 * n + 40]] for n, text in enumerate(texts, start=1)]


def volume(*pages: PageInput, order: tuple[str, ...] = ()) -> VolumeInput:
    return VolumeInput(volume="vol-1", descriptor=Descriptor(), pages=pages, order=order)


def test_published_lines_are_indexed_in_canvas_order(layout: Layout) -> None:
    inp = volume(
        page_input("p002", {"line_boxes": lines("로동자", "역사"), "published": True}),
        page_input("p001", {"line_boxes": lines("력사"), "published": True}),
        page_input("p003", {"line_boxes": lines("력사는"), "published": False}),
        page_input("p004", {"line_boxes": [], "blank": True}),
        order=("p001", "p002", "p003", "p004", "p005"),
    )
    rec = index.run(inp, SETTINGS, layout)
    result = rec.result_as(IndexResult)
    assert rec.status == "ok" and result == IndexResult(
        index="vol-1/search.sqlite", pages=2, lines=3
    )
    assert rec.outputs == {"vol-1/search.sqlite": rec.outputs["vol-1/search.sqlite"]}
    hits = search([layout.search_index_path("vol-1")], "역사", limit=10).hits
    assert [(h.page, h.line) for h in hits] == [("p001", 1), ("p002", 2)]  # p003 is withheld
    first = hits[0]
    assert first.canvas == layout.canvas_id("vol-1", "p001")
    assert first.manifest == layout.manifest_id("vol-1")
    assert first.box == Box(100, 50, 600, 40)  # from x0, y0, x1, y1


def test_a_volume_without_text_has_no_index(layout: Layout) -> None:
    path = layout.search_index_path("vol-1")
    index.run(
        volume(page_input("p001", {"line_boxes": lines("력사"), "published": True})),
        SETTINGS,
        layout,
    )
    assert path.exists()
    rec = index.run(volume(page_input("p001", {"line_boxes": [], "blank": True})), SETTINGS, layout)
    assert rec.result_as(IndexResult).index is None and not rec.outputs
    assert not path.exists()


def test_a_chosen_transcription_is_indexed_instead_of_the_ocr(layout: Layout) -> None:
    transcription = {
        "file": "p001.txt",
        "provenance": {"kind": "human", "creator": "Kim"},
        "lines": [{"text": "로동신문"}, {"text": "력사", "box": [10, 20, 300, 60]}],
        "chosen": True,
    }
    page = page_input("p001", {"line_boxes": lines("로둥신분")}, transcription)
    # A line without a box stands for the whole canvas, as its annotation does.
    assert index.page_lines(page) == [("로동신문", (0, 0, 2000, 3000)), ("력사", (10, 20, 300, 60))]
    index.run(volume(page), SETTINGS, layout)
    found = search([layout.search_index_path("vol-1")], "노동", limit=10)
    assert [(hit.line, hit.text) for hit in found.hits] == [(1, "로동신문")]
    assert not search([layout.search_index_path("vol-1")], "로둥", limit=10).hits
    # Not chosen (precedence puts OCR first): the OCR lines are indexed.
    unchosen = page_input(
        "p001", {"line_boxes": lines("로둥신분")}, {**transcription, "chosen": False}
    )
    assert index.page_lines(unchosen) == [("로둥신분", (100, 50, 700, 90))]


def test_the_index_is_published_with_the_volume(layout: Layout) -> None:
    path = layout.search_index_path("vol-1")
    assert layout.is_published(path) and layout.rel(path) == "vol-1/search.sqlite"


def test_the_stage_runs_before_the_manifest() -> None:
    assert STAGE_NAMES.index("ocr") < STAGE_NAMES.index("index") < STAGE_NAMES.index("manifest")
    assert index.SPEC.writes_urls and index.SPEC.requires == ("ocr",)


def test_a_volume_with_failed_pages_is_not_indexed_unless_partial_is_allowed(
    layout: Layout,
) -> None:
    path = layout.search_index_path("vol-1")
    page = page_input("p001", {"line_boxes": lines("력사"), "published": True})
    index.run(volume(page), SETTINGS, layout)
    assert path.exists()
    # p002 failed: the manifest holds the volume back, and so does its index (the stale one
    # goes), or the collection's search would find a volume the site does not show.
    failed = VolumeInput(volume="vol-1", descriptor=Descriptor(), pages=(page,), missing=("p002",))
    rec = index.run(failed, SETTINGS, layout)
    assert rec.status == "ok" and not rec.outputs
    assert rec.result_as(IndexResult) == IndexResult(index=None, missing=["p002"])
    assert not path.exists()
    partial = SETTINGS.model_copy(update={"allow_partial": True})
    result = index.run(failed, partial, layout).result_as(IndexResult)
    assert result == IndexResult(index="vol-1/search.sqlite", pages=1, lines=1, missing=["p002"])
    assert search([path], "력사", limit=10).total == 1
