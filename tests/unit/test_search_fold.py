"""Folding of Korean, Russian and Latin text for search: word pairs written from the rules.

Each pair is checked both ways: the first as a query finds the second in a text, and the
second as a query finds the first. The rules are the DPRK/ROK spelling differences (initial
ㄹ/ㄴ, 여/였 after front vowels, the 사이시옷, spacing), Unicode normalisation and case.
"""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.search.fold import find_units, query_forms, term_key, units


def spans(query: str, text: str) -> list[tuple[int, int]]:
    """Where ``query`` is found in ``text`` (original offsets), as the index would find it."""
    found = units(text)
    out: list[tuple[int, int]] = []
    for form in query_forms(query):
        out += find_units(found, form.units)
    return sorted(set(out))


def finds(query: str, text: str) -> bool:
    return bool(spans(query, text))


SAME = [
    # Initial ㄹ and ㄴ (두음법칙): North writes them, South drops or changes them.
    pytest.param("력사", "역사", id="ryeoksa-yeoksa"),
    pytest.param("로동", "노동", id="rodong-nodong"),
    pytest.param("녀성", "여성", id="nyeoseong-yeoseong"),
    pytest.param("리", "이", id="ri-i"),
    pytest.param("리론", "이론", id="riron-iron"),
    pytest.param("량심", "양심", id="ryangsim-yangsim"),
    pytest.param("래일", "내일", id="raeil-naeil"),
    pytest.param("락원", "낙원", id="ragwon-nagwon"),
    pytest.param("례절", "예절", id="ryejeol-yejeol"),
    pytest.param("뉴스", "유스", id="nyu-yu"),
    # ... inside a compound, where a word starts mid-run.
    pytest.param("조선로동당", "조선노동당", id="compound-rodong"),
    pytest.param("신녀성", "신여성", id="compound-nyeo"),
    # 여/였 after ㅣ ㅐ ㅔ ㅚ ㅟ ㅢ.
    pytest.param("되였다", "되었다", id="doeyeotda"),
    pytest.param("이였다", "이었다", id="iyeotda"),
    pytest.param("임명되였다", "임명되었다", id="imyeong-doeyeotda"),
    pytest.param("개여서", "개어서", id="gaeyeoseo"),
    pytest.param("베여", "베어", id="beyeo"),
    pytest.param("쥐여", "쥐어", id="jwiyeo"),
    pytest.param("희여", "희어", id="huiyeo"),
    # 사이시옷.
    pytest.param("나무가지", "나뭇가지", id="namugaji"),
    pytest.param("바다가", "바닷가", id="badatga"),
    # Spacing inside a run of syllables.
    pytest.param("할수", "할 수", id="halsu"),
    pytest.param("작업 반장", "작업반장", id="compound-spaced"),
    # Normalisation: decomposed (as typed on macOS) and composed.
    pytest.param(unicodedata.normalize("NFD", "로동자"), "노동자", id="nfd-query"),
    pytest.param("노동자", unicodedata.normalize("NFD", "로동자"), id="nfd-text"),
    # Russian: case and ё.
    pytest.param("ёлка", "Елка", id="yolka"),
    pytest.param("ЁЖ", "еж", id="yozh-upper"),
    pytest.param("почётной", "Почетной", id="pochetnoi"),
    # Latin: case and diacritics.
    pytest.param("Café", "cafe", id="cafe"),
    pytest.param("SŎUL", "sŏul", id="latin-breve-case"),
]

DIFFERENT = [
    pytest.param("역사", "역시", id="yeoksa-yeoksi"),
    pytest.param("노동", "노등", id="nodong-nodeung"),
    pytest.param("김칠성", "김철성", id="chil-cheol"),
    pytest.param("서울", "소울", id="eo-o-in-hangul"),
    pytest.param("여성", "야성", id="yeo-ya"),
    pytest.param("되었다", "되었나", id="ending"),
    pytest.param("하였다", "하었다", id="yeo-after-a-stays"),
    pytest.param("사", "자", id="sa-ja"),
    pytest.param("강", "공", id="gang-gong"),
    pytest.param("나뭇가지", "나무가시", id="gaji-gasi"),
    # й is a letter of its own, not и with a mark.
    pytest.param("йод", "иод", id="russian-short-i"),
    pytest.param("ель", "ёлка", id="russian-prefix-is-not-a-word"),
    pytest.param("Ким", "Кимов", id="russian-whole-words"),
]


@pytest.mark.parametrize(("first", "second"), SAME)
def test_spellings_fold_the_same_both_ways(first: str, second: str) -> None:
    assert finds(first, second), f"{first!r} should find {second!r}"
    assert finds(second, first), f"{second!r} should find {first!r}"


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_words_do_not_match(first: str, second: str) -> None:
    assert not finds(first, second), f"{first!r} must not find {second!r}"
    assert not finds(second, first), f"{second!r} must not find {first!r}"


@pytest.mark.parametrize(
    ("query", "text", "shown"),
    [
        pytest.param("역사", "조선의 력사를 배웠다", ["력사"], id="folded-word"),
        pytest.param("할수", "그는 할 수 있다", ["할 수"], id="space-inside"),
        pytest.param("되었다", "임명되였다.", ["되였다"], id="yeo"),
        pytest.param(
            "노동", unicodedata.normalize("NFD", "로동과 로동"), ["로동", "로동"], id="nfd-offsets"
        ),
        pytest.param("ЕЖ", "Ёж и ёж", ["Ёж", "ёж"], id="russian-twice"),
        pytest.param("사", "력사 사", ["사", "사"], id="one-syllable"),
    ],
)
def test_spans_point_at_the_original_text(query: str, text: str, shown: list[str]) -> None:
    assert [text[s:e] for s, e in spans(query, text)] == [
        unicodedata.normalize("NFD", w) if not unicodedata.is_normalized("NFC", text) else w
        for w in shown
    ]


@pytest.mark.parametrize("query", ["", "   ", "!!!", '"', "*", "()", "-", "—…·", "\u200b"])
def test_a_query_without_letters_has_no_readings(query: str) -> None:
    assert query_forms(query) == []


@pytest.mark.parametrize(
    ("query", "text"),
    [("나뭇", "나뭇가지"), ("나무", "나뭇가지"), ("되였", "되었다"), ("었다", "되였다")],
)
def test_a_query_that_stops_inside_a_word_finds_it(query: str, text: str) -> None:
    assert finds(query, text)


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("1934년", "1934년에 태여났다", True),
        ("1934년", "1934 다년간", False),
        ("제1권", "인물전기 제1권", True),
        ("제1권", "인물전기 재1권", False),
        ("Ким 김", "Ким 김칠성", True),
        ("칠성", "김칠성", True),
    ],
)
def test_a_syllable_alone_at_a_query_edge_may_be_part_of_a_longer_run(
    query: str, text: str, found: bool
) -> None:
    assert finds(query, text) is found


def test_edge_syllables_are_asked_for_as_prefix_or_left_out_and_checked() -> None:
    (year,) = query_forms("1934년")
    assert (year.tokens, year.prefix, year.checked) == (("1934", "연"), True, False)  # 년 = 연
    (volume,) = query_forms("제1권")
    assert (volume.tokens, volume.prefix, volume.checked) == (("1", "권"), True, True)
    (word,) = query_forms("김칠성")
    assert (word.tokens, word.prefix, word.checked) == (("김칠", "칠성"), False, False)


def test_a_one_syllable_query_looks_among_single_syllables() -> None:
    (form,) = query_forms("철")
    assert form.unigram and form.tokens == ("철",)
    assert all(not f.unigram for f in query_forms("철민"))


def test_a_query_edge_is_read_both_ways_where_its_neighbour_is_unknown() -> None:
    # 였 may follow a front vowel in the text; a final ㅅ may precede another syllable.
    assert {f.tokens for f in query_forms("였다")} == {("였다",), ("었다",)}
    assert {f.tokens for f in query_forms("바닷")} == {("바닷",), ("바다",)}


@pytest.mark.parametrize(
    ("word", "key"),
    [("력사의", "역사의"), ("역사", "역사"), ("Ёлка", "елка"), ("«로동»", "노동"), ("", "")],
)
def test_term_keys_complete_both_spellings(word: str, key: str) -> None:
    assert term_key(word) == key
