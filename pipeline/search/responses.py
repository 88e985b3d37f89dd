"""IIIF Content Search response bodies: Search 1.0 and 2.0 answers and their autocomplete lists.

The builders take matches already found (:class:`Match`: one or more line pieces) and the
request's URLs, and return JSON-ready dicts shaped as the specifications' examples are:
Search 1.0 (https://iiif.io/api/search/1.0/) an ``sc:AnnotationList`` with ``resources``,
``hits`` and ``within``, which is what Mirador 4 reads; Search 2.0
(https://iiif.io/api/search/2.0/) an ``AnnotationPage`` whose ``items`` are the matching lines
and whose ``annotations`` hold the highlighting annotations.
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

PRESENTATION2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"
PRESENTATION3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH1_CONTEXT = "http://iiif.io/api/search/1/context.json"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"

#: Characters of a line shown before and after a match in a snippet.
CONTEXT_CHARS = 40
ELLIPSIS = "…"

JsonDict = dict[str, object]


@dataclass(frozen=True)
class Piece:
    """The part of one line a match covers: a phrase across a line break has two."""

    annotation: str  # the id the line's annotation has in the response
    canvas: str
    box: tuple[int, int, int, int]  # x, y, w, h on the canvas
    text: str  # the line's original text
    start: int  # the match within ``text`` (character offsets, end exclusive)
    end: int

    @property
    def target(self) -> str:
        """The line's place on its canvas: ``canvas#xywh=x,y,w,h``."""
        return f"{self.canvas}#xywh={','.join(str(v) for v in self.box)}"


@dataclass(frozen=True)
class Match:
    """One hit: the lines it covers, in reading order, and the manifest they belong to."""

    pieces: tuple[Piece, ...]
    manifest: str
    manifest_label: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class Paging:
    """Where a page of results sits: its URL, the URL of every page, and the total."""

    total: int
    start: int  # index of the page's first hit
    page: int  # 1-based
    pages: int
    url: str  # the search without its page: ``...search1?q=term``

    def page_url(self, page: int) -> str:
        """The URL of one page of the results."""
        return f"{self.url}&page={page}"


def _prefix(piece: Piece) -> str:
    """The text just before the match on its line (at most :data:`CONTEXT_CHARS`)."""
    return piece.text[max(0, piece.start - CONTEXT_CHARS) : piece.start]


def _suffix(piece: Piece) -> str:
    """The text just after the match on its line (at most :data:`CONTEXT_CHARS`)."""
    return piece.text[piece.end : piece.end + CONTEXT_CHARS]


def _before(piece: Piece) -> str:
    """A snippet's start: :func:`_prefix`, with an ellipsis where the line was cut."""
    return (ELLIPSIS if piece.start > CONTEXT_CHARS else "") + _prefix(piece)


def _after(piece: Piece) -> str:
    """A snippet's end: :func:`_suffix`, with an ellipsis where the line was cut."""
    return _suffix(piece) + (ELLIPSIS if len(piece.text) - piece.end > CONTEXT_CHARS else "")


def matched_text(match: Match) -> str:
    """The text a match covers, its lines joined by a space."""
    return " ".join(p.text[p.start : p.end] for p in match.pieces)


def _lines(matches: Sequence[Match]) -> list[Piece]:
    """Each line the matches cover, once, in the order first met."""
    seen: dict[str, Piece] = {}
    for match in matches:
        for piece in match.pieces:
            seen.setdefault(piece.annotation, piece)
    return list(seen.values())


# -- Search 1.0 ----------------------------------------------------------------------------------
def search1(matches: Sequence[Match], paging: Paging, ignored: Sequence[str]) -> JsonDict:
    """Build a Search 1.0 answer: an AnnotationList with ``resources``, ``hits`` and ``within``.

    ``before``, ``match`` and ``after`` are HTML (viewers show them as such, Mirador after
    sanitising): the line's text is escaped, so markup in a transcription shows as text.

    Args:
        matches: The hits of this page, in result order.
        paging: The page's place in the results.
        ignored: Request parameters that were not taken into account.

    Returns:
        The JSON-ready body.

    """
    within: JsonDict = {
        "@type": "sc:Layer",
        "total": paging.total,
        "first": paging.page_url(1),
        "last": paging.page_url(paging.pages),
    }
    if ignored:
        within["ignored"] = list(ignored)
    body: JsonDict = {
        "@context": [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT],
        "@id": paging.page_url(paging.page),
        "@type": "sc:AnnotationList",
        "within": within,
        "startIndex": paging.start,
    }
    if paging.page < paging.pages:
        body["next"] = paging.page_url(paging.page + 1)
    if paging.page > 1:
        body["prev"] = paging.page_url(paging.page - 1)
    body["resources"] = [
        {
            "@id": piece.annotation,
            "@type": "oa:Annotation",
            "motivation": "sc:painting",
            "resource": {"@type": "cnt:ContentAsText", "chars": piece.text},
            "on": piece.target,
        }
        for piece in _lines(matches)
    ]
    body["hits"] = [_hit1(m) for m in matches]
    return body


def _hit1(match: Match) -> JsonDict:
    first, last = match.pieces[0], match.pieces[-1]
    return {
        "@type": "search:Hit",
        "annotations": [p.annotation for p in match.pieces],
        "match": html.escape(matched_text(match), quote=False),
        "before": html.escape(_before(first), quote=False),
        "after": html.escape(_after(last), quote=False),
    }


def terms1(
    terms: Sequence[tuple[str, int]], search_url: str, url: str, ignored: Sequence[str]
) -> JsonDict:
    """Build a Search 1.0 autocomplete answer: a TermList of ``match``, ``url`` and ``count``.

    Args:
        terms: The completions and how many lines hold each.
        search_url: The search service the terms' ``url`` runs them on.
        url: This request's URL.
        ignored: Request parameters that were not taken into account.

    Returns:
        The JSON-ready body.

    """
    body: JsonDict = {
        "@context": SEARCH1_CONTEXT,
        "@id": url,
        "@type": "search:TermList",
    }
    if ignored:
        body["ignored"] = list(ignored)
    body["terms"] = [
        {"match": term, "url": f"{search_url}?q={quote(term)}", "count": count}
        for term, count in terms
    ]
    return body


# -- Search 2.0 ----------------------------------------------------------------------------------
def search2(
    matches: Sequence[Match], paging: Paging, ignored: Sequence[str], *, collection: bool
) -> JsonDict:
    """Build a Search 2.0 answer: an AnnotationPage of the matching lines plus highlighting.

    ``items`` holds each matching line once as a fully embedded annotation; ``annotations``
    holds one AnnotationPage with a ``highlighting`` annotation per hit, whose targets (one per
    line the hit covers) select the match with a TextQuoteSelector.

    Args:
        matches: The hits of this page, in result order.
        paging: The page's place in the results.
        ignored: Request parameters that were not taken into account.
        collection: The search is over a collection: each target names its manifest
            (``partOf``), as the specification asks.

    Returns:
        The JSON-ready body.

    """
    manifests = {p.annotation: m for m in matches for p in m.pieces}
    body: JsonDict = {
        "@context": SEARCH2_CONTEXT,
        "id": paging.page_url(paging.page),
        "type": "AnnotationPage",
        "startIndex": paging.start,
        "partOf": {
            "id": paging.url,
            "type": "AnnotationCollection",
            "total": paging.total,
            "first": {"id": paging.page_url(1), "type": "AnnotationPage"},
            "last": {"id": paging.page_url(paging.pages), "type": "AnnotationPage"},
        },
    }
    if paging.page < paging.pages:
        body["next"] = {"id": paging.page_url(paging.page + 1), "type": "AnnotationPage"}
    if paging.page > 1:
        body["prev"] = {"id": paging.page_url(paging.page - 1), "type": "AnnotationPage"}
    if ignored:
        body["ignored"] = list(ignored)
    body["items"] = [
        _item2(p, manifests[p.annotation] if collection else None) for p in _lines(matches)
    ]
    body["annotations"] = [
        {
            "type": "AnnotationPage",
            "items": [_highlight2(m, f"{body['id']}#hit-{n}") for n, m in enumerate(matches, 1)],
        }
    ]
    return body


def _item2(piece: Piece, match: Match | None) -> JsonDict:
    target: object = piece.target
    if match is not None:
        part: JsonDict = {"id": match.manifest, "type": "Manifest"}
        if match.manifest_label:
            part["label"] = match.manifest_label
        target = {"id": piece.target, "type": "Canvas", "partOf": part}
    return {
        "id": piece.annotation,
        "type": "Annotation",
        "motivation": "supplementing",
        "body": {"type": "TextualBody", "value": piece.text, "format": "text/plain"},
        "target": target,
    }


def _highlight2(match: Match, hit_id: str) -> JsonDict:
    targets: list[JsonDict] = []
    for piece in match.pieces:
        selector: JsonDict = {"type": "TextQuoteSelector"}
        if piece.start:
            selector["prefix"] = _prefix(piece)
        selector["exact"] = piece.text[piece.start : piece.end]
        if piece.end < len(piece.text):
            selector["suffix"] = _suffix(piece)
        targets.append(
            {"type": "SpecificResource", "source": piece.annotation, "selector": [selector]}
        )
    return {
        "id": hit_id,
        "type": "Annotation",
        "motivation": "highlighting",
        "target": targets[0] if len(targets) == 1 else targets,
    }


def terms2(terms: Sequence[tuple[str, int]], url: str, ignored: Sequence[str]) -> JsonDict:
    """Build a Search 2.0 autocomplete answer: a TermPage of ``value`` and ``total``.

    Args:
        terms: The completions and how many lines hold each.
        url: This request's URL.
        ignored: Request parameters that were not taken into account.

    Returns:
        The JSON-ready body.

    """
    body: JsonDict = {"@context": SEARCH2_CONTEXT, "id": url, "type": "TermPage"}
    if ignored:
        body["ignored"] = list(ignored)
    body["items"] = [{"value": term, "total": count} for term, count in terms]
    return body


def quote(value: str) -> str:
    """Percent-encode a query value as ``encodeURIComponent`` does (for links we write)."""
    return urllib.parse.quote(value, safe="-_.!~*'()")
