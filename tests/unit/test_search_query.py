"""The query engine over index files built from known lines (no OCR noise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import SearchIndexError, SearchQueryError
from pipeline.search import Box, Hit, Line, build_index, search, suggest

BASE = "https://example.org/iiif/"

PAGES = {
    "p001": [
        "인물전기 제1권",
        "김칠성은 1934년 력사의 로동자이다",
        "그는 공장에서 혁명 력",
        "사를 배웠다",
        "Ёлка и ёж. Почётной грамотой",
    ],
    "p002": [
        "조선의 역사와 노동",
        'a-b (NEAR) AND "x" *star*',
        "나무가지 할 수 있다 되였다",
    ],
    "p003": ["리정숙은 녀성 교원이였다"],
}


def box_of(page: str, line: int) -> Box:
    return Box(10 + line, 100 * line + int(page[1:]), 800, 40)


def lines_of(volume: str, pages: dict[str, list[str]]) -> list[Line]:
    return [
        Line(
            volume=volume,
            page=page,
            seq=seq,
            canvas=f"{BASE}{volume}/canvas/{page}",
            manifest=f"{BASE}{volume}/manifest.json",
            line=n,
            box=box_of(page, n),
            text=text,
        )
        for seq, (page, texts) in enumerate(pages.items())
        for n, text in enumerate(texts, start=1)
    ]


@pytest.fixture
def index(tmp_path: Path) -> Path:
    path = tmp_path / "vol" / "search.sqlite"
    build_index(lines_of("vol", PAGES), path, base_url=BASE)
    return path


def where(hits: list[Hit]) -> list[tuple[str, tuple[int, ...]]]:
    return [(h.page, tuple(x.line for x in h.lines)) for h in hits]


def marked(hit: Hit) -> list[str]:
    return [hit.text[s:e] for s, e in hit.spans]


def test_north_and_south_spelling_give_the_same_hits(index: Path) -> None:
    north, south = search([index], "력사", limit=10), search([index], "역사", limit=10)
    assert north == south
    assert where(north.hits) == [("p001", (2,)), ("p001", (3, 4)), ("p002", (1,))]
    assert [marked(h) for h in north.hits] == [["력사"], ["력\n사"], ["역사"]]
    assert north.total == 3
    assert search([index], "로동", limit=10) == search([index], "노동", limit=10)
    assert where(search([index], "여성", limit=10).hits) == [("p003", (1,))]


def test_a_phrase_across_a_line_break(index: Path) -> None:
    (hit,) = search([index], "혁명 력사를", limit=10).hits
    assert [x.line for x in hit.lines] == [3, 4]
    assert marked(hit) == ["혁명 력\n사를"]
    assert [[x.text[s:e] for s, e in x.spans] for x in hit.lines] == [["혁명 력"], ["사를"]]
    first, second = box_of("p001", 3), box_of("p001", 4)
    assert [x.box for x in hit.lines] == [first, second]
    assert hit.box == Box(first.x, first.y, second.x + second.w - first.x, second.y + 40 - first.y)
    assert hit.line == 3 and hit.text == "그는 공장에서 혁명 력\n사를 배웠다"


def test_a_query_ending_or_starting_with_a_syllable_alone(index: Path) -> None:
    (hit,) = search([index], "1934년", limit=10).hits
    assert (hit.page, hit.line, marked(hit)) == ("p001", 2, ["1934년"])
    (hit,) = search([index], "제1권", limit=10).hits
    assert (hit.page, hit.line, marked(hit)) == ("p001", 1, ["제1권"])
    assert search([index], "재1권", limit=10).total == 0


def test_a_phrase_inside_one_line_is_not_also_a_hit_across_lines(index: Path) -> None:
    assert where(search([index], "공장에서", limit=10).hits) == [("p001", (3,))]


def test_a_one_syllable_query(index: Path) -> None:
    result = search([index], "칠", limit=10)
    assert where(result.hits) == [("p001", (2,))]
    assert marked(result.hits[0]) == ["칠"]
    assert search([index], "리", limit=10) == search([index], "이", limit=10)


@pytest.mark.parametrize(
    "query", ["Kim Ch'il-sŏng", "Kim Chʻil-sŏng", "Kim Chil-song", "Kim Chilseong", "kim chil song"]
)
def test_a_romanized_name_finds_the_hangul(index: Path, query: str) -> None:
    (hit,) = search([index], query, limit=10).hits
    assert (hit.page, hit.line, marked(hit)) == ("p001", 2, ["김칠성"])


@pytest.mark.parametrize(("query", "name"), [("Yi Chŏng-suk", "리정숙"), ("Ri Jongsuk", "리정숙")])
def test_a_romanized_name_in_either_spelling(index: Path, query: str, name: str) -> None:
    (hit,) = search([index], query, limit=10).hits
    assert marked(hit) == [name]


def test_a_romanized_query_does_not_find_another_name(index: Path) -> None:
    assert search([index], "Kim Il-sŏng", limit=10).total == 0


@pytest.mark.parametrize(
    ("query", "shown"),
    [("ЕЛКА", ["Ёлка"]), ("ёж", ["ёж"]), ("почетной грамотой", ["Почётной грамотой"])],
)
def test_russian_with_yo(index: Path, query: str, shown: list[str]) -> None:
    (hit,) = search([index], query, limit=10).hits
    assert (hit.page, hit.line, marked(hit)) == ("p001", 5, shown)


def test_every_hit_box_is_the_box_of_the_line_holding_the_word(index: Path) -> None:
    for query in ("력사", "노동", "칠", "ёж", "Kim Chilsong", "할수", "되었다", "x"):
        for hit in search([index], query, limit=100).hits:
            for part in hit.lines:
                assert part.box == box_of(hit.page, part.line)
                assert part.text == PAGES[hit.page][part.line - 1]
                assert part.spans, (query, hit)


@pytest.mark.parametrize(
    ("query", "lines"),
    [
        ('"x"', [("p002", (2,))]),
        ("NEAR", [("p002", (2,))]),
        ("(NEAR) AND", [("p002", (2,))]),
        ("*star*", [("p002", (2,))]),
        ("a-b", [("p002", (2,))]),
        ("-조선", [("p002", (1,))]),
        ("조선 OR 노동", []),
        ("NEAR(조선 노동)", []),
        ("조선 AND 노동", []),
        ('"조선', [("p002", (1,))]),
        ("조선*", [("p002", (1,))]),
        ("^조선", [("p002", (1,))]),
        ("phrase : 조선", []),
        ("{phrase syll} : 조선", []),
    ],
)
def test_fts5_syntax_is_literal_text(
    index: Path, query: str, lines: list[tuple[str, tuple[int, ...]]]
) -> None:
    assert where(search([index], query, limit=10).hits) == lines


@pytest.mark.parametrize("query", [None, "", "   ", '"', "*", "()", "-", "!!!", "…", '""', "(*)"])
def test_empty_or_punctuation_only_finds_nothing(index: Path, query: str | None) -> None:
    assert search([index], query, limit=10).total == 0


def test_a_query_over_the_length_limit_is_refused(index: Path) -> None:
    assert search([index], "역" * 1000, limit=10).total == 0
    with pytest.raises(SearchQueryError, match="1001 characters"):
        search([index], "역" * 1001, limit=10)
    with pytest.raises(SearchQueryError):
        suggest([index], "a" * 1001, limit=10)


def test_paging_slices_one_ordered_list(index: Path) -> None:
    every = search([index], "다", limit=100)
    assert every.total == len(every.hits) >= 4
    pages = [search([index], "다", limit=2, offset=o) for o in range(0, every.total, 2)]
    assert all(p.total == every.total for p in pages)
    assert [h for p in pages for h in p.hits] == every.hits
    assert search([index], "다", limit=0).hits == []
    assert search([index], "다", limit=5, offset=100).hits == []


def test_hits_follow_the_order_of_the_index_files(tmp_path: Path, index: Path) -> None:
    other = tmp_path / "other" / "search.sqlite"
    build_index(lines_of("other", {"p001": ["력사 연구"]}), other, base_url=BASE)
    result = search([other, index], "역사", limit=10)
    assert [h.volume for h in result.hits] == ["other", "vol", "vol", "vol"]
    assert result.total == 4
    assert search([other, index], "역사", limit=2, offset=1).hits == result.hits[1:3]
    assert result.hits[0].canvas == "https://example.org/iiif/other/canvas/p001"
    assert result.hits[0].manifest == "https://example.org/iiif/other/manifest.json"


def test_the_same_lines_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "search.sqlite", tmp_path / "b" / "search.sqlite"
    assert build_index(lines_of("vol", PAGES), first, base_url=BASE) == build_index(
        lines_of("vol", PAGES), second, base_url=BASE
    )
    assert first.read_bytes() == second.read_bytes()
    changed = dict(PAGES, p003=["리정숙은 녀성 교원이였다."])
    build_index(lines_of("vol", changed), second, base_url=BASE)
    assert first.read_bytes() != second.read_bytes()
    assert sorted(p.name for p in second.parent.iterdir()) == ["search.sqlite"]


def test_searching_leaves_the_index_untouched(index: Path) -> None:
    before = index.read_bytes(), index.stat().st_mtime_ns
    search([index], "력사", limit=10)
    suggest([index], "력", limit=10)
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert sorted(p.name for p in index.parent.iterdir()) == ["search.sqlite"]


def test_a_missing_or_foreign_index_is_named(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match="nothing.sqlite"):
        search([tmp_path / "nothing.sqlite"], "역사", limit=10)
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_bytes(b"not a database at all" * 100)
    with pytest.raises(SearchIndexError, match="foreign.sqlite"):
        search([foreign], "역사", limit=10)


def test_suggest_completes_both_spellings_with_counts(index: Path) -> None:
    assert suggest([index], "력", limit=10) == [("력", 1), ("력사의", 1), ("역사와", 1)]
    assert suggest([index], "역사", limit=10) == [("력사의", 1), ("역사와", 1)]
    assert suggest([index], "역", limit=1) == [("력", 1)]
    assert suggest([index], "ел", limit=10) == [("Ёлка", 1)]
    assert suggest([index], "", limit=10) == []
    assert suggest([index], "!!", limit=10) == []
    assert suggest([index, index], "노", limit=10) == [("노동", 2), ("로동자이다", 2)]


def test_a_rebuilt_index_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    build_index(lines_of("vol", {"p001": ["력사"]}), path, base_url=BASE)
    assert search([path], "역사", limit=10).total == 1
    build_index(lines_of("vol", {"p001": ["노동"], "p002": ["로동"]}), path, base_url=BASE)
    assert search([path], "역사", limit=10).total == 0
    assert search([path], "노동", limit=10).total == 2
