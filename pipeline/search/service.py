"""The search services' one request handler, shared by ``pipeline serve``, the ASGI app and Lambda.

A front end hands over the method, the path after the search base URL, the raw query string
and the base URL as the client sees it; it gets back a :class:`Response` (status, JSON body,
headers with CORS). The query string is read the way viewers really send it. Mirador 4.0.0
sends a query typed into its search box form-encoded (``URLSearchParams``: a space is ``+``,
``&`` is ``%26``), but puts a window's ``defaultSearchQuery`` into the URL as it is, so there
``?q=a&b`` means the query ``a&b``: a piece after ``q`` that is not one of the specification's
parameters belongs to ``q``. ``+`` is a space (as in every form-encoded query; a literal plus
is punctuation, which no search key holds), a ``%`` not followed by two hex digits is a percent
sign (as browsers read it), and ``#`` and what follows never arrive (the browser keeps them).
Bytes that are not UTF-8 once decoded are a bad request, answered 400 with a JSON message, like
a query over the length limit or a bad ``page``; nothing a client sends is answered 500.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline.errors import SearchIndexError
from pipeline.layout.search import SearchRoute, SearchUrls
from pipeline.search.responses import Match, Paging, quote, search1, search2, terms1, terms2

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
#: Hits per page of a search answer, and completions in an autocomplete answer.
PAGE_SIZE = 100
MAX_TERMS = 20
#: The parameters the specifications define; ``q``, ``page`` and (autocomplete) ``min`` are
#: supported, the others are answered as ``ignored``.
PARAMETERS = ("q", "page", "motivation", "date", "user", "min")
SUPPORTED = {"search": ("q", "page"), "autocomplete": ("q", "min")}
METHODS = "GET, HEAD, OPTIONS"


class BadRequest(Exception):
    """A request the services cannot answer: the message says which parameter and why."""


class Engine(Protocol):
    """What the handler needs of the index files: search, complete, and say what exists."""

    def files(self, volume: str | None) -> Sequence[Path]:
        """The index files of a volume, or (``None``) of the collection; none: no service."""

    def search(
        self, files: Sequence[Path], q: str, *, limit: int, offset: int, labels: bool
    ) -> tuple[int, list[Match]]:
        """Return the total number of hits in ``files`` and one page of them.

        Raises:
            BadRequest: The query cannot be searched (too long).
            SearchIndexError: An index file cannot be read.
        """

    def suggest(self, files: Sequence[Path], prefix: str, *, limit: int) -> list[tuple[str, int]]:
        """Return up to ``limit`` completions of ``prefix`` and how many lines hold each.

        Raises:
            BadRequest: The prefix cannot be searched (too long).
            SearchIndexError: An index file cannot be read.
        """


@dataclass(frozen=True)
class Response:
    """An answer: status, body and its type; :meth:`headers` adds CORS."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    extra: tuple[tuple[str, str], ...] = field(default=())

    def headers(self) -> list[tuple[str, str]]:
        """The HTTP headers: type, length, CORS (any origin, GET only) and caching."""
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", METHODS),
            ("Access-Control-Allow-Headers", "*"),
            ("Cache-Control", "no-cache"),
            *self.extra,
        ]


def json_response(status: int, data: object) -> Response:
    """A JSON answer (UTF-8, keys in a stable order)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(status, body.encode("utf-8"))


def error(status: int, message: str, extra: tuple[tuple[str, str], ...] = ()) -> Response:
    """A JSON error answer: ``{"error": message}``."""
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    return Response(status, body, extra=extra)


def _decode(raw: bytes, name: str) -> str:
    try:
        return urllib.parse.unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{name}: malformed percent-encoding (the bytes are not UTF-8)") from None


def parse_query(raw: bytes) -> dict[str, str]:
    """Read a query string as viewers send it (see the module docstring).

    Args:
        raw: The query string as it arrived, without ``?``.

    Returns:
        Each parameter's value (the first one given, for a repeated parameter).

    Raises:
        BadRequest: A name or value is not UTF-8 once percent-decoded.

    """
    params: dict[str, str] = {}
    last: str | None = None
    for piece in raw.split(b"&") if raw else []:
        name_raw, eq, value_raw = piece.partition(b"=")
        name = _decode(name_raw, "query string")
        if last == "q" and not (eq and name in PARAMETERS):
            params["q"] += "&" + _decode(piece, "q")
            continue
        last = name if name not in params else None
        if last is not None:
            params[name] = _decode(value_raw, name)
    return params


def _number(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not value.isascii() or int(value) < 1:
        raise BadRequest(f"{name}: {value[:40]!r} is not a whole number from 1 up")
    return int(value)


class SearchService:
    """Answers search and autocomplete requests over one set of index files.

    Args:
        engine: The index files.
    """

    def __init__(self, engine: Engine) -> None:
        """Keep the engine."""
        self.engine = engine

    def answer(
        self, method: str, path: str, query: bytes, *, root: str, host: str, scheme: str
    ) -> Response:
        """Answer one request as a web server hands it over (the ASGI app, Lambda).

        Args:
            method: The HTTP method.
            path: The request path, ``root`` included when the client sent it.
            query: The raw query string.
            root: The path the services are reached under (``/search``), or ``""``.
            host: The ``Host`` the client asked for (``example.org:8010``).
            scheme: ``http`` or ``https``, as the client sees it.

        Returns:
            The answer, its links under ``scheme://host/root/``.
        """
        root = root.rstrip("/")
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        return self.handle(method, path.lstrip("/"), query, f"{scheme}://{host}{root}/")

    def handle(self, method: str, rel: str, query: bytes, base: str) -> Response:
        """Answer one request.

        Args:
            method: The HTTP method.
            rel: The request path after the search base URL's path (``vol-1/search1``).
            query: The raw query string.
            base: The search base URL as the client sees it (ends with ``/``), for the
                links the answer holds.

        Returns:
            The answer; errors are JSON (400 bad parameter, 404 no such service, 405 method).

        """
        if method == "OPTIONS":
            return Response(204, b"", extra=(("Access-Control-Max-Age", "86400"),))
        if method not in ("GET", "HEAD"):
            return error(
                405, f"{method}: the search services answer GET only", (("Allow", METHODS),)
            )
        route = SearchUrls("").route(rel)
        files = self.engine.files(route.volume) if route is not None else []
        if route is None or not files:
            return error(404, f"{rel or '/'}: no search service here")
        try:
            params = parse_query(query)
            url = f"{base}{rel.strip('/')}"
            if route.kind == "autocomplete":
                return self._autocomplete(route, files, params, url, base)
            return self._search(route, files, params, url)
        except BadRequest as exc:
            return error(400, str(exc))
        except SearchIndexError as exc:
            log.error("search: %s", exc)
            return error(503, f"the search index cannot be read: {exc}")

    @staticmethod
    def _ignored(route: SearchRoute, params: dict[str, str]) -> list[str]:
        supported = SUPPORTED[route.kind]
        return [p for p in params if p in PARAMETERS and p not in supported]

    def _search(
        self, route: SearchRoute, files: Sequence[Path], params: dict[str, str], url: str
    ) -> Response:
        q = params.get("q", "").strip()
        page = _number(params, "page", 1)
        offset = (page - 1) * PAGE_SIZE
        collection = route.volume is None
        total, matches = (
            self.engine.search(files, q, limit=PAGE_SIZE, offset=offset, labels=collection)
            if q
            else (0, [])
        )
        paging = Paging(
            total=total,
            start=offset,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            url=f"{url}?q={quote(q)}",
        )
        ignored = self._ignored(route, params)
        if route.version == 1:
            return json_response(200, search1(matches, paging, ignored))
        return json_response(200, search2(matches, paging, ignored, collection=collection))

    def _autocomplete(
        self,
        route: SearchRoute,
        files: Sequence[Path],
        params: dict[str, str],
        url: str,
        base: str,
    ) -> Response:
        q = params.get("q", "").strip()
        least = _number(params, "min", 1)
        terms = self.engine.suggest(files, q, limit=MAX_TERMS) if q else []
        terms = [(t, n) for t, n in terms if n >= least]
        ignored = self._ignored(route, params)
        here = f"{url}?q={quote(q)}"
        if route.version == 1:
            search_url = SearchUrls(base).url("search", 1, route.volume)
            return json_response(200, terms1(terms, search_url, here, ignored))
        return json_response(200, terms2(terms, here, ignored))
