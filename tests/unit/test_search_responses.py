"""IIIF Content Search answers: shapes checked against the specifications' examples.

The examples below follow the structure of those in the Search 1.0 and 2.0 specifications
(https://iiif.io/api/search/1.0/ sections 3.3 to 3.5 and 4.3; https://iiif.io/api/search/2.0/
sections 4.2, 4.3 and 5.2). An answer *conforms* to an example when every key of the example is
present with a value of the same JSON type (lists: every element conforms to the example's
first), and it has no key the specification does not define for that object.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from pipeline.search.responses import (
    CONTEXT_CHARS,
    Match,
    Paging,
    Piece,
    search1,
    search2,
    terms1,
    terms2,
)
from tests.conftest import SCHEMAS

CANVAS = "https://example.org/iiif/vol-1/canvas/p001"
MANIFEST = "https://example.org/iiif/vol-1/manifest.json"
ANNOS = "https://example.org/iiif/vol-1/annotations/p001.json"
URL = "https://example.org/iiif/search/vol-1/search1"

SEARCH1_EXAMPLE: dict[str, Any] = {
    "@context": ["http://iiif.io/api/presentation/2/context.json",
                 "http://iiif.io/api/search/1/context.json"],
    "@id": "http://example.org/service/manifest/search?q=bird&page=1",
    "@type": "sc:AnnotationList",
    "within": {"@type": "sc:Layer", "total": 125, "first": "http://example.org/s?q=bird&page=1",
               "last": "http://example.org/s?q=bird&page=13"},
    "startIndex": 0,
    "resources": [{"@id": "http://example.org/identifier/annotation/anno-line",
                   "@type": "oa:Annotation", "motivation": "sc:painting",
                   "resource": {"@type": "cnt:ContentAsText", "chars": "A bird in the hand"},
                   "on": "http://example.org/identifier/canvas1#xywh=100,100,250,20"}],
    "hits": [{"@type": "search:Hit",
              "annotations": ["http://example.org/identifier/annotation/anno-line"],
              "match": "bird", "before": "A ", "after": " in the hand"}],
}  # fmt: skip
SEARCH1_KEYS = {
    "": {"@context", "@id", "@type", "within", "next", "prev", "startIndex", "resources", "hits"},
    "within": {"@type", "total", "first", "last", "ignored"},
    "resources": {"@id", "@type", "motivation", "resource", "on"},
    "hits": {"@type", "annotations", "match", "before", "after"},
}
TERMS1_EXAMPLE: dict[str, Any] = {
    "@context": "http://iiif.io/api/search/1/context.json",
    "@id": "http://example.org/service/identifier/autocomplete?q=bir",
    "@type": "search:TermList",
    "terms": [{"match": "bird", "url": "http://example.org/service/identifier/search?q=bird",
               "count": 15}],
}  # fmt: skip
SEARCH2_EXAMPLE: dict[str, Any] = {
    "@context": "http://iiif.io/api/search/2/context.json",
    "id": "https://example.org/service/manifest/search?q=bird&page=1",
    "type": "AnnotationPage",
    "partOf": {"id": "https://example.org/service/manifest/search?q=bird",
               "type": "AnnotationCollection", "total": 125,
               "first": {"id": "https://example.org/s?q=bird&page=1", "type": "AnnotationPage"},
               "last": {"id": "https://example.org/s?q=bird&page=13", "type": "AnnotationPage"}},
    "startIndex": 0,
    "items": [{"id": "https://example.org/identifier/annotation/anno-bird", "type": "Annotation",
               "motivation": "painting",
               "body": {"type": "TextualBody", "value": "There are two birds in the bush",
                        "format": "text/plain"},
               "target": "https://example.org/identifier/canvas1#xywh=200,100,200,20"}],
    "annotations": [{"type": "AnnotationPage", "items": [{
        "id": "https://example.org/identifier/annotation/match-1", "type": "Annotation",
        "motivation": "highlighting",
        # One target, or (a match across annotations, section 4.3.4) a list of them; the
        # selector's prefix and suffix are there when text comes before or after the match.
        "target": [{"type": "SpecificResource",
                    "source": "https://example.org/identifier/annotation/anno-bird",
                    "selector": [{"type": "TextQuoteSelector", "exact": "birds"}]}]}]}],
}  # fmt: skip
# Searching a collection (section 4.2.3): each target names the manifest it is part of.
SEARCH2_COLLECTION_EXAMPLE: dict[str, Any] = {
    **SEARCH2_EXAMPLE,
    "items": [{**SEARCH2_EXAMPLE["items"][0], "target": {
        "id": "https://example.org/identifier/canvas1#xywh=100,100,250,20",
        # The label is a language map: any languages.
        "partOf": {"id": "https://example.org/manifest1868", "type": "Manifest", "label": {}}}}],
}  # fmt: skip
SEARCH2_KEYS = {
    "": {"@context", "id", "type", "partOf", "next", "prev", "startIndex", "ignored", "items",
         "annotations"},
    "partOf": {"id", "type", "total", "first", "last"},
    "items": {"id", "type", "motivation", "body", "target"},
}  # fmt: skip
TERMS2_EXAMPLE: dict[str, Any] = {
    "@context": "http://iiif.io/api/search/2/context.json",
    "id": "https://example.org/service/identifier/autocomplete?q=bir",
    "type": "TermPage",
    "items": [{"value": "bird", "total": 15}],
}


def conforms(ours: Any, example: Any, where: str = "") -> list[str]:
    """Where ``ours`` departs from the example's shape (see the module docstring)."""
    if isinstance(example, dict):
        if not isinstance(ours, dict):
            return [f"{where}: {type(ours).__name__}, not an object"]
        out = [f"{where}.{k}: missing" for k in example if k not in ours]
        for key in example:
            if key in ours:
                out += conforms(ours[key], example[key], f"{where}.{key}")
        return out
    if isinstance(example, list):
        if not isinstance(ours, list):
            return [f"{where}: {type(ours).__name__}, not a list"]
        return [
            p for n, item in enumerate(ours) for p in conforms(item, example[0], f"{where}[{n}]")
        ]
    if type(ours) is not type(example):
        return [f"{where}: {type(ours).__name__}, not {type(example).__name__}"]
    return []


def extra_keys(data: dict[str, Any], allowed: dict[str, set[str]]) -> list[str]:
    out = sorted(set(data) - allowed[""])
    for key, keys in allowed.items():
        if not key:
            continue
        values = data.get(key)
        for value in values if isinstance(values, list) else [values] if values else []:
            out += [f"{key}.{k}" for k in sorted(set(value) - keys)]
    return out


def piece(text: str, word: str, line: int = 1, canvas: str = CANVAS) -> Piece:
    start = text.index(word)
    return Piece(f"{ANNOS}#line-{line}", canvas, (10, 20 * line, 300, 18), text, start,
                 start + len(word))  # fmt: skip


def paging(total: int, page: int = 1, size: int = 100) -> Paging:
    pages = max(1, -(-total // size))
    return Paging(total=total, start=(page - 1) * size, page=page, pages=pages, url=f"{URL}?q=x")


def test_search1_conforms_to_the_example_and_marks_the_match() -> None:
    text = "<b>력사</b> & 로동의 력사"
    matches = [Match((piece(text, "력사"),), MANIFEST)]
    body = search1(matches, paging(1), ["motivation"])
    assert conforms(body, SEARCH1_EXAMPLE) == []
    assert extra_keys(body, SEARCH1_KEYS) == []
    hit = body["hits"][0]  # type: ignore[index]
    assert hit["match"] == "력사"
    assert hit["before"] == "&lt;b&gt;"  # the line's text escaped: markup shows as text
    assert hit["after"] == "&lt;/b&gt; &amp; 로동의 력사"
    assert hit["annotations"] == [f"{ANNOS}#line-1"]
    assert body["resources"][0]["on"] == f"{CANVAS}#xywh=10,20,300,18"  # type: ignore[index]
    assert body["within"]["ignored"] == ["motivation"]  # type: ignore[index]


def test_search1_phrase_across_lines_is_one_hit_on_both_lines() -> None:
    a = piece("첫 줄의 끝에 력", "력", 1)
    b = piece("사를 쓴다", "사", 2)
    body = search1([Match((a, b), MANIFEST)], paging(1), [])
    hit = body["hits"][0]  # type: ignore[index]
    assert hit["annotations"] == [f"{ANNOS}#line-1", f"{ANNOS}#line-2"]
    assert (hit["before"], hit["match"], hit["after"]) == ("첫 줄의 끝에 ", "력 사", "를 쓴다")
    assert len(body["resources"]) == 2  # type: ignore[arg-type]


def test_search1_two_hits_on_one_line_list_the_line_once() -> None:
    text = "력사와 력사"
    first = Piece(f"{ANNOS}#line-1", CANVAS, (1, 2, 3, 4), text, 0, 2)
    second = Piece(f"{ANNOS}#line-1", CANVAS, (1, 2, 3, 4), text, 4, 6)
    body = search1([Match((first,), MANIFEST), Match((second,), MANIFEST)], paging(2), [])
    assert len(body["resources"]) == 1  # type: ignore[arg-type]
    assert [h["before"] for h in body["hits"]] == ["", "력사와 "]  # type: ignore[attr-defined]


def test_search1_paging_links() -> None:
    body = search1([], paging(250, page=2), [])
    assert body["@id"] == f"{URL}?q=x&page=2"
    assert body["next"] == f"{URL}?q=x&page=3"
    assert body["prev"] == f"{URL}?q=x&page=1"
    assert body["startIndex"] == 100
    assert body["within"] == {  # no ignored parameter: no "ignored"
        "@type": "sc:Layer",
        "total": 250,
        "first": f"{URL}?q=x&page=1",
        "last": f"{URL}?q=x&page=3",
    }
    last = search1([], paging(250, page=3), [])
    assert "next" not in last


def test_long_lines_are_cut_around_the_match() -> None:
    text = "가" * 100 + "력사" + "나" * 100
    hit = search1([Match((piece(text, "력사"),), MANIFEST)], paging(1), [])["hits"][0]  # type: ignore[index]
    assert hit["before"] == "…" + "가" * CONTEXT_CHARS
    assert hit["after"] == "나" * CONTEXT_CHARS + "…"


def test_terms1_conforms_and_links_each_term_to_its_search() -> None:
    body = terms1([("력사", 3), ("a&b c", 1)], URL, f"{URL}?q=x", ["user"])
    assert conforms(body, TERMS1_EXAMPLE) == []
    assert body["ignored"] == ["user"]
    terms = body["terms"]
    assert terms[0] == {"match": "력사", "url": f"{URL}?q=%EB%A0%A5%EC%82%AC", "count": 3}  # type: ignore[index]
    assert terms[1]["url"] == f"{URL}?q=a%26b%20c"  # type: ignore[index]


@pytest.fixture(scope="module")
def annotation_schema() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "presentation-3.schema.json").read_text(encoding="utf-8"))
    sub = {**schema, "oneOf": [{"$ref": "#/classes/annotation"}]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(sub)


def _targets_as_lists(body: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    for page in copy.get("annotations", []):
        for anno in page["items"]:
            if isinstance(anno["target"], dict):
                anno["target"] = [anno["target"]]
            for target in anno["target"]:
                for selector in target["selector"]:
                    assert set(selector) <= {"type", "prefix", "exact", "suffix"}, selector
    return copy


@pytest.mark.parametrize("collection", [False, True], ids=["manifest", "collection"])
def test_search2_conforms_to_the_example(
    collection: bool, annotation_schema: jsonschema.protocols.Validator
) -> None:
    a = piece("첫 줄의 끝에 력", "력", 1)
    b = piece("사를 쓴다", "사", 2)
    c = piece("로동과 력사", "력사", 3)
    label = {"ko": ["제1권"]}
    matches = [Match((a, b), MANIFEST, label), Match((c,), MANIFEST, label)]
    body = search2(matches, paging(2), ["date"], collection=collection)
    example = SEARCH2_COLLECTION_EXAMPLE if collection else SEARCH2_EXAMPLE
    assert conforms(_targets_as_lists(body), example) == []
    assert extra_keys(body, SEARCH2_KEYS) == []
    assert body["ignored"] == ["date"]
    items = body["items"]
    assert [i["id"] for i in items] == [f"{ANNOS}#line-{n}" for n in (1, 2, 3)]  # type: ignore[attr-defined]
    # Items are Presentation 3 annotations; searching a collection, their target takes the
    # Search 2.0 form (partOf an object), which the Presentation schema does not know.
    for item in items if not collection else []:  # type: ignore[attr-defined]
        errors = [e.message for e in annotation_schema.iter_errors(item)]
        assert errors == [], errors
    highlights = body["annotations"][0]["items"]  # type: ignore[index]
    assert [h["motivation"] for h in highlights] == ["highlighting"] * 2
    # A phrase across two lines: one highlighting annotation with a target on each line.
    first = highlights[0]["target"]
    assert [t["source"] for t in first] == [f"{ANNOS}#line-1", f"{ANNOS}#line-2"]
    assert first[0]["selector"] == [
        {"type": "TextQuoteSelector", "prefix": "첫 줄의 끝에 ", "exact": "력"}
    ]
    assert first[1]["selector"] == [
        {"type": "TextQuoteSelector", "exact": "사", "suffix": "를 쓴다"}
    ]
    assert highlights[1]["target"]["selector"][0]["prefix"] == "로동과 "
    if collection:
        assert items[0]["target"] == {  # type: ignore[index]
            "id": f"{CANVAS}#xywh=10,20,300,18",
            "type": "Canvas",
            "partOf": {"id": MANIFEST, "type": "Manifest", "label": {"ko": ["제1권"]}},
        }
    else:
        assert items[0]["target"] == f"{CANVAS}#xywh=10,20,300,18"  # type: ignore[index]


def test_terms2_conforms() -> None:
    body = terms2([("력사", 3)], f"{URL}?q=x", [])
    assert conforms(body, TERMS2_EXAMPLE) == []
    assert "ignored" not in body
