"""The folder of index files the search services answer from: which files, in which order."""

from __future__ import annotations

from pathlib import Path

from pipeline.layout import Layout
from pipeline.search.index import Box, Line, build_index
from pipeline.search.indexes import IndexFolder

BASE_URL = "https://example.org/iiif/"
VOLUMES = ("vol-10", "vol-2", "vol-1", "Vol-3")


def build(out: Path, volumes: tuple[str, ...]) -> Layout:
    """One index per volume, each with one line holding the same word."""
    layout = Layout(out=out, base_url=BASE_URL)
    for volume in volumes:
        line = Line(
            volume=volume,
            page="p001",
            seq=0,
            canvas=layout.canvas_id(volume, "p001"),
            manifest=layout.manifest_id(volume),
            line=1,
            box=Box(10, 10, 100, 20),
            text="력사",
        )
        build_index([line], layout.search_index_path(volume), base_url=BASE_URL)
    return layout


def test_the_collection_is_searched_in_the_natural_order_of_volumes(tmp_path: Path) -> None:
    layout = build(tmp_path, VOLUMES)
    folder = IndexFolder(tmp_path)
    expected = ["vol-1", "vol-2", "Vol-3", "vol-10"]
    files = folder.files(None)
    assert [p.parent.name for p in files] == expected
    total, matches = folder.search(files, "력사", limit=10, offset=0, labels=False)
    assert total == 4
    assert [m.manifest for m in matches] == [layout.manifest_id(v) for v in expected]


def test_annotation_ids_are_under_the_base_url_the_index_was_built_for(tmp_path: Path) -> None:
    # A copy of the index files answers with the ids of the site they were built for.
    layout = build(tmp_path / "site", ("vol-1",))
    copy = tmp_path / "copy"
    (copy / "vol-1").mkdir(parents=True)
    (copy / "vol-1" / "search.sqlite").write_bytes(layout.search_index_path("vol-1").read_bytes())
    folder = IndexFolder(copy)
    _, [match] = folder.search(folder.files("vol-1"), "력사", limit=10, offset=0, labels=False)
    assert [p.annotation for p in match.pieces] == [layout.annotation_id("vol-1", "p001", 1)]
    assert layout.annotation_id("vol-1", "p001", 1).startswith(BASE_URL)
