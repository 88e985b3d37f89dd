"""A folder of search index files laid out as an output folder, from generated pages' text.

Two volumes: ``vol-1`` and ``vol-2`` hold the ground truth of sample volumes from the project's
generator (invented biographies in North Korean spelling: 력사, 로동자, 리정숙 ...), one line
per line of text, each with a box on its canvas; ``vol-1`` also has a page of lines written for
the query-string cases (``&``, ``+``, ``#``, markup, a phrase broken by a line end, Russian
with ё). The index files are built by the index stage's own writer
(:func:`pipeline.search.index.build_index`), and each volume has a small manifest.json with
its label, as the output folder does.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.layout import Layout
from pipeline.samples.generate import generate_volume
from pipeline.search.index import Box, Line, build_index

BASE_URL = "https://example.org/iiif/"
LABELS = {"vol-1": {"ko": ["인물전기 제1권"]}, "vol-2": {"ko": ["인물전기 제2권"]}}
#: The lines of vol-1's page ``p900``, written for the query-string and snippet cases.
EXTRA_LINES = (
    "로동&력사 그리고 C++ 력사#1 기록",
    "<b>굵은</b> 글씨의 력사",
    "그는 아이들에게 우리 말과 력",
    "사를 가르쳤다",
    "Ёлкин родился в Хамхыне",
)
EXTRA_PAGE = "p900"


def line_box(n: int) -> Box:
    """The box of line ``n`` (from 1) of a page: 60 px apart, 1,000 px wide."""
    return Box(100, 100 + 60 * (n - 1), 1000, 48)


def _lines(layout: Layout, volume: str, pages: dict[str, list[str]]) -> list[Line]:
    out = []
    for seq, (page, texts) in enumerate(pages.items(), start=1):
        for n, text in enumerate(texts, start=1):
            out.append(
                Line(
                    volume=volume,
                    page=page,
                    seq=seq,
                    canvas=layout.canvas_id(volume, page),
                    manifest=layout.manifest_id(volume),
                    line=n,
                    box=line_box(n),
                    text=text,
                )
            )
    return out


def ground_truth(scans: Path, volume: str, pages: int, seed: int) -> dict[str, list[str]]:
    """The text lines of a generated volume's pages (no images are needed, but written)."""
    generate_volume(
        scans, volume_id=volume, pages=pages, seed=seed, width=620, height=877,
        fonts=["print"], conditions=["clean"],
    )  # fmt: skip
    folder = scans / volume / "ground-truth"
    return {
        p.stem: [t for t in p.read_text(encoding="utf-8").splitlines() if t.strip()]
        for p in sorted(folder.glob("*.txt"))
    }


def build_folder(tmp: Path) -> Path:
    """Write the two volumes' index files and manifests under ``tmp/out``; return that folder."""
    out = tmp / "out"
    layout = Layout(out=out, base_url=BASE_URL)
    for n, volume in enumerate(("vol-1", "vol-2"), start=1):
        pages = ground_truth(tmp / "scans", volume, pages=4, seed=n)
        if volume == "vol-1":
            pages[EXTRA_PAGE] = list(EXTRA_LINES)
        build_index(
            _lines(layout, volume, pages), layout.search_index_path(volume), base_url=BASE_URL
        )
        manifest = {"id": layout.manifest_id(volume), "type": "Manifest", "label": LABELS[volume]}
        layout.manifest_path(volume).write_text(json.dumps(manifest), encoding="utf-8")
    return out
