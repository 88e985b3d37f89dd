"""The search services' answers vs the query engine alone, on the same index files.

Ten volumes of 100 pages (14 lines each) of the sample generator's biographies in North Korean
spelling, indexed by the index stage's writer. In the same run, for each kind of request:

- ours: :meth:`pipeline.search.service.SearchService.handle` with the query string as a browser
  sends it: parsing, routing, the query engine, the Search 1.0/2.0 or autocomplete JSON;
- the peer: the query engine alone (:func:`pipeline.search.query.search` or ``suggest``) on the
  same files with the same limit, the floor any answer starts from.

The rows give the median over the requests; the note gives ours at p50 and p95. Target (issue
15): p95 under 50 ms; the ratio is what building the answer adds to finding the hits.
"""

from __future__ import annotations

import statistics
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.layout import Layout
from pipeline.samples.text import PEOPLE
from pipeline.search.index import Box, Line, build_index
from pipeline.search.indexes import IndexFolder, open_service
from pipeline.search.query import search, suggest
from pipeline.search.service import MAX_TERMS, PAGE_SIZE
from tests.bench.common import Row

BASE = "https://example.org/iiif/"
VOLUMES = 10
PAGES = 100
REPEAT = 30
TARGET_MS = 50.0


def _build(out: Path) -> None:
    layout = Layout(out=out, base_url=BASE)
    sentences = [s for p in PEOPLE for s in (f"{p.role_ko} {p.name_ko}", *p.sentences)]
    for v in range(1, VOLUMES + 1):
        volume = f"vol-{v:02d}"
        lines = []
        for seq in range(1, PAGES + 1):
            page = f"p{seq:03d}"
            for n in range(1, 15):
                text = sentences[(v * 7 + seq * 3 + n) % len(sentences)]
                box = Box(100, 100 + 60 * n, 1000, 48)
                lines.append(
                    Line(
                        volume,
                        page,
                        seq,
                        layout.canvas_id(volume, page),
                        layout.manifest_id(volume),
                        n,
                        box,
                        text,
                    )  # fmt: skip
                )
        build_index(lines, layout.search_index_path(volume), base_url=layout.base_url)


def _times(fn: Callable[[], Any]) -> list[float]:
    fn()  # the first call opens files the others find in the page cache
    out = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _row(name: str, ours: list[float], peer: list[float], peer_name: str) -> Row:
    p95 = statistics.quantiles(ours, n=20)[18]
    return Row(
        name,
        statistics.median(ours),
        statistics.median(peer),
        "ms",
        peer_name=peer_name,
        target=f"p95 < {TARGET_MS:g} ms",
        note=f"ours p50 {statistics.median(ours):.1f} ms, p95 {p95:.1f} ms",
    )


def run(workdir: Path) -> list[Row]:
    out = workdir / "search-site"
    _build(out)
    service = open_service(out)
    folder = IndexFolder(out)
    base = f"{BASE}search/"
    rows = []
    cases = [
        ("Search 1.0, one volume, 력사 (2 syllables)", "vol-01/search1", "력사", "vol-01"),
        (
            "Search 1.0, one volume, phrase 로동의 어려움",
            "vol-01/search1",
            "로동의 어려움",
            "vol-01",
        ),
        ("Search 2.0, collection (10 volumes), 역사 (folded)", "search2", "역사", None),
        ("Search 2.0, collection, romanized Kim Chol Min", "search2", "Kim Chol Min", None),
    ]
    for name, rel, q, volume in cases:
        query = urllib.parse.urlencode({"q": q}).encode("ascii")
        files = folder.files(volume)
        ours = _times(lambda rel=rel, query=query: service.handle("GET", rel, query, base))
        peer = _times(lambda files=files, q=q: search(files, q, limit=PAGE_SIZE))
        rows.append(_row(f"{name}: answer", ours, peer, "query engine alone (search)"))
    query = urllib.parse.urlencode({"q": "로"}).encode("ascii")
    files = folder.files("vol-01")
    ours = _times(lambda: service.handle("GET", "vol-01/autocomplete1", query, base))
    peer = _times(lambda: suggest(files, "로", limit=MAX_TERMS))
    rows.append(_row("Autocomplete 1.0, one volume, 로: answer", ours, peer, "suggest alone"))
    return rows
