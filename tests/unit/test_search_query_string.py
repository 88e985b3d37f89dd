"""Reading the query string as viewers send it: Mirador 4.0.0 does not encode what was typed."""

from __future__ import annotations

import urllib.parse

import pytest

from pipeline.layout.search import SearchRoute, SearchUrls
from pipeline.search.service import BadRequest, parse_query


def typed_in_mirador_400(typed: str) -> bytes:
    """What Mirador 4.0.0 sends for a query typed into its search box: ``URLSearchParams``."""
    return urllib.parse.urlencode({"q": typed}).encode("ascii")


def default_query_in_mirador_400(typed: str) -> bytes:
    """The query string Chromium sends for 4.0.0's ``{id}?q={defaultSearchQuery}``.

    The browser's URL parser percent-encodes spaces and non-ASCII (UTF-8) in the query, keeps
    ``&``, ``+`` and ``%``, and cuts the URL at ``#`` (the rest is a fragment, never sent).
    """
    url = urllib.parse.urlsplit("https://example.org/s?q=" + typed)
    return urllib.parse.quote(url.query, safe="&=+%/?:@!$'()*,;").encode("ascii")


def encoded_in_later_mirador(typed: str) -> bytes:
    """What later Mirador releases send: ``encodeURIComponent(typed)``."""
    return b"q=" + urllib.parse.quote(typed, safe="-_.!~*'()").encode("ascii")


TYPED = ["력사", "김 칠성", "로동&력사", "로동+력사", "력사#3", "100%", "a&b=c", "Kim Ch'il-sŏng"]


@pytest.mark.parametrize("typed", TYPED)
def test_typed_and_encoded_queries_read_as_typed(typed: str) -> None:
    assert parse_query(typed_in_mirador_400(typed))["q"] == typed
    assert parse_query(encoded_in_later_mirador(typed))["q"] == typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param("력사", "력사", id="hangul"),
        pytest.param("김 칠성", "김 칠성", id="space"),
        pytest.param("로동&력사", "로동&력사", id="ampersand"),
        pytest.param("로동+력사", "로동 력사", id="plus-reads-as-a-space"),
        pytest.param("력사#3", "력사", id="hash-cut-by-the-browser"),
        pytest.param("100%", "100%", id="lone-percent"),
        pytest.param("a&b=c", "a&b=c", id="ampersand-and-equals"),
        pytest.param("Kim Ch'il-sŏng", "Kim Ch'il-sŏng", id="romanized"),
    ],
)
def test_unencoded_default_query_reads_as_typed(typed: str, expected: str) -> None:
    assert parse_query(default_query_in_mirador_400(typed))["q"] == expected


def test_known_parameters_after_q_are_parameters() -> None:
    params = parse_query(b"q=a&b&page=2&motivation=painting")
    assert params == {"q": "a&b", "page": "2", "motivation": "painting"}


def test_repeated_parameter_keeps_the_first() -> None:
    assert parse_query(b"q=first&q=second") == {"q": "first"}


def test_empty_and_missing() -> None:
    assert parse_query(b"") == {}
    assert parse_query(b"q=") == {"q": ""}


@pytest.mark.parametrize("raw", [b"q=%FF", b"q=%C3%28", b"q=ok&page=%ED%A0%80", b"%FF=1"])
def test_bytes_that_are_not_utf8_are_a_bad_request(raw: bytes) -> None:
    with pytest.raises(BadRequest, match="malformed percent-encoding"):
        parse_query(raw)


@pytest.mark.parametrize(
    ("rel", "route"),
    [
        ("vol-1/search1", SearchRoute("search", 1, "vol-1")),
        ("vol-1/autocomplete1", SearchRoute("autocomplete", 1, "vol-1")),
        ("vol-1/search2", SearchRoute("search", 2, "vol-1")),
        ("vol-1/autocomplete2/", SearchRoute("autocomplete", 2, "vol-1")),
        ("search2", SearchRoute("search", 2, None)),
        ("autocomplete2", SearchRoute("autocomplete", 2, None)),
        ("search2/search2", SearchRoute("search", 2, "search2")),
        ("search1", None),  # the collection has Search 2.0 only
        ("vol-1", None),
        ("", None),
        ("a/b/search1", None),
        ("..%2F/search1", None),
        (".hidden/search1", None),
    ],
)
def test_routes(rel: str, route: SearchRoute | None) -> None:
    assert SearchUrls("").route(rel) == route


def test_urls_and_routes_agree() -> None:
    urls = SearchUrls("https://example.org/iiif/search/")
    for version in (1, 2):
        for kind in ("search", "autocomplete"):
            url = urls.url(kind, version, "vol-1")  # type: ignore[arg-type]
            rel = url.removeprefix(urls.base)
            assert urls.route(rel) == SearchRoute(kind, version, "vol-1")  # type: ignore[arg-type]
    assert urls.url("search", 2) == "https://example.org/iiif/search/search2"
