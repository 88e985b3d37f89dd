"""Romanization: McCune-Reischauer as the Library of Congress writes it, Revised Romanization,
and the loose form queries are compared in. Expected forms are the published romanizations
of well-known names and words (LC catalogue headings; the RR forms on Korean road signs).
"""

from __future__ import annotations

import pytest

from pipeline.search.romanize import fold_initials, has_latin, loose
from tests.romanized import romanize

# Hangul, MR (LC, without word division, capitals or name hyphens), RR.
WORDS = [
    ("김칠성", "kimch'ilsŏng", "gimchilseong"),
    ("김일성", "kimilsŏng", "gimilseong"),
    ("박정희", "pakchŏnghŭi", "bakjeonghui"),
    ("한국", "han'guk", "hanguk"),
    ("한국어", "han'gugŏ", "hangugeo"),
    ("독립", "tongnip", "dongnip"),
    ("신라", "silla", "silla"),
    ("종로", "chongno", "jongno"),
    ("심리", "simni", "simni"),
    ("설날", "sŏllal", "seollal"),
    ("역사", "yŏksa", "yeoksa"),
    ("력사", "ryŏksa", "ryeoksa"),
    ("로동신문", "rodongsinmun", "rodongsinmun"),
    ("평양", "p'yŏngyang", "pyeongyang"),
    ("부산", "pusan", "busan"),
    ("대구", "taegu", "daegu"),
    ("최", "ch'oe", "choe"),
    ("국가", "kukka", "gukga"),
    ("일요일", "iryoil", "iryoil"),
    ("의사", "ŭisa", "uisa"),
    ("쉬다", "shwida", "swida"),
]


@pytest.mark.parametrize(("hangul", "mr", "rr"), WORDS, ids=[w[0] for w in WORDS])
def test_mccune_reischauer_and_revised(hangul: str, mr: str, rr: str) -> None:
    assert romanize(hangul, "mr") == mr
    assert romanize(hangul, "rr") == rr


@pytest.mark.parametrize(("hangul", "mr", "rr"), WORDS, ids=[w[0] for w in WORDS])
def test_both_systems_have_the_same_loose_form(hangul: str, mr: str, rr: str) -> None:
    assert loose(mr) == loose(rr)


def test_runs_of_hangul_are_romanized_apart_and_other_text_left_out() -> None:
    assert romanize("김 칠성 (1934) 동지", "mr") == "kimch'ilsŏng tongji"


@pytest.mark.parametrize(
    "query",
    [
        "Kim Ch'il-sŏng",
        "Kim Chʻil-sŏng",  # the modifier-letter apostrophe of many catalogue records
        "Kim Ch’il-sŏng",
        "KIM CH'IL SŎNG",
        "Kim Chil-song",
        "Kim Chilseong",
        "Gim Chil-seong",
        "kimchilsong",
    ],
)
def test_ways_of_writing_a_name_have_one_loose_form(query: str) -> None:
    assert loose(query) == loose(romanize("김칠성"))


@pytest.mark.parametrize(
    "query", ["Kim Chŏl-sŏng", "Kim Il-sŏng", "Pak Ch'il-sŏng", "Kim Ch'il", "Kim Chil-sun"]
)
def test_other_names_keep_other_loose_forms(query: str) -> None:
    assert loose(query) != loose(romanize("김칠성"))


@pytest.mark.parametrize(
    ("query", "folded"),
    [
        ("Rodong sinmun", "nodong sinmun"),
        ("Ri Il-ryong", "i il-yong"),
        ("Ryŏksa", "yŏksa"),
        ("Nyŏsŏng", "yŏsŏng"),
        ("Kim Chil-song", "kim chil-song"),
    ],
)
def test_romanized_queries_fold_word_initial_r_and_n(query: str, folded: str) -> None:
    assert fold_initials(query) == folded


@pytest.mark.parametrize(
    ("query", "latin"), [("Kim", True), ("김 Kim", False), ("Ёлка", False), ("1934", False)]
)
def test_only_latin_queries_are_read_as_romanized(query: str, latin: bool) -> None:
    assert has_latin(query) is latin
