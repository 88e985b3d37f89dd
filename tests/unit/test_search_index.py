"""The index holds the keys the query engine looks for, on the sample generator's pages."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from pipeline.samples.compose import compose_volume
from pipeline.samples.grid import lines_per_page
from pipeline.search import Box, Line, build_index, search
from pipeline.search.fold import segments, stream, stream_keys, units
from pipeline.search.romanize import roman_key_mapped, roman_keys

BASE = "https://example.org/iiif/"

PAGE_IDS = [f"p{n:03d}" for n in range(1, 13)]


@pytest.fixture(scope="module")
def pages() -> list[list[str]]:
    text = compose_volume(
        seed=3,
        volume_no=1,
        page_ids=PAGE_IDS,
        styles=["print", "mixed", "hand"] * 4,
        capacity=lines_per_page(width=1240, height=1754),
        russian_set="tuning",
    )
    return text.pages


def test_the_index_keys_are_the_keys_queries_are_matched_on(pages: list[list[str]]) -> None:
    texts = [t for page in pages for t in page]
    texts += [unicodedata.normalize("NFD", t) for t in texts[:20]]
    for text in texts:
        found = segments(text)
        keyed = units(text)
        assert stream_keys(found) == [u.key for u in stream(keyed)], text
        assert "".join(s.key for s in found if s.run) == "".join(u.key for u in keyed if u.syllable)
        written, folded = roman_keys(text)
        assert written == roman_key_mapped(text, folded=False)[0], text
        assert (folded or written) == roman_key_mapped(text, folded=True)[0], text


def test_every_phrase_across_a_line_break_is_found(tmp_path: Path, pages: list[list[str]]) -> None:
    lines = [
        Line("vol", page, seq, "c", "m", n, Box(0, 40 * n, 100, 30), text)
        for seq, (page, texts) in enumerate(zip(PAGE_IDS, pages, strict=True))
        for n, text in enumerate(texts, start=1)
    ]
    path = tmp_path / "search.sqlite"
    build_index(lines, path, base_url=BASE)
    checked = 0
    for first, second in zip(lines, lines[1:], strict=False):
        end = re.search(r"[가-힣]{2}$", first.text)
        start = re.match(r"[가-힣]{2}", second.text)
        if first.page != second.page or not end or not start:
            continue
        query = end.group() + start.group()
        hits = search([path], query, limit=1000).hits
        assert any(
            (h.page, [x.line for x in h.lines]) == (first.page, [first.line, second.line])
            for h in hits
        ), (query, first.text, second.text)
        checked += 1
    assert checked >= 20


def test_the_file_has_a_fixed_page_size_and_no_journal(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    build_index([Line("v", "p", 0, "c", "m", 1, Box(0, 0, 1, 1), "력사")], path, base_url=BASE)
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    assert db.execute("PRAGMA page_size").fetchone() == (4096,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search.sqlite"]


def test_a_long_phrase_across_a_break_between_long_runs(tmp_path: Path) -> None:
    first = "그는 " + "가나다라마바사아자차카타파하" * 2 + "력"
    second = "사를나뭇가지" + "거너더러머버서어저처커터퍼허" * 2
    lines = [
        Line("vol", "p001", 0, "c", "m", n, Box(0, 40 * n, 100, 30), text)
        for n, text in enumerate([first, second], start=1)
    ]
    path = tmp_path / "search.sqlite"
    build_index(lines, path, base_url=BASE)
    tail, head = first.replace(" ", ""), second
    for before, after in [(2, 2), (9, 9), (1, 9), (9, 1), (5, 3)]:
        query = tail[-before:] + head[:after]  # up to 8 bigrams on each side of the bridge
        hits = search([path], query, limit=10).hits
        assert [[x.line for x in h.lines] for h in hits] == [[1, 2]], query
    assert search([path], tail[-12:] + head[:12], limit=10).total == 0  # beyond the window
