"""The URLs of the IIIF Content Search services, and the way back from a request path to one.

Kept apart from the output layout so that the search services (``pipeline.search``: the ASGI
application, the Lambda function) import no more than this and the ids' rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.layout import SAFE_ID, check_id

#: Where the search services answer when ``search.url`` is not set: under the site's base URL.
SEARCH_DIR = "search"
SearchKind = Literal["search", "autocomplete"]
SEARCH_VERSIONS = (1, 2)
KINDS: tuple[SearchKind, ...] = ("search", "autocomplete")


@dataclass(frozen=True)
class SearchRoute:
    """What a request to the search services asks for: a service of a volume or the collection."""

    kind: SearchKind
    version: int
    volume: str | None  # None: the whole collection


@dataclass(frozen=True)
class SearchUrls:
    """The URLs of the search services under one base (``search.url``), and the way back.

    A volume's services are ``BASE<volume>/search1``, ``autocomplete1``, ``search2`` and
    ``autocomplete2``; the collection's are ``BASEsearch2`` and ``BASEautocomplete2``.
    """

    base: str

    @classmethod
    def under(cls, base_url: str, url: str | None = None) -> SearchUrls:
        """The services at ``url`` (``search.url``), else under the site at ``base_url``."""
        return cls(url or f"{base_url}{SEARCH_DIR}/")

    def url(self, kind: SearchKind, version: int, volume: str | None = None) -> str:
        """Return the URL of one service (``volume=None``: the collection's)."""
        tail = f"{kind}{version}"
        return f"{self.base}{check_id(volume)}/{tail}" if volume is not None else self.base + tail

    def route(self, rel: str) -> SearchRoute | None:
        """Return the service a path relative to the base names, or ``None`` if none.

        Args:
            rel: The request path after the base URL's path (``vol-1/search1``).
        """
        parts = [p for p in rel.split("/") if p]
        if not parts or len(parts) > 2 or (len(parts) == 2 and not SAFE_ID.match(parts[0])):
            return None
        for kind in KINDS:
            for version in SEARCH_VERSIONS:
                if parts[-1] == f"{kind}{version}":
                    volume = parts[0] if len(parts) == 2 else None
                    if volume is None and version == 1:
                        return None  # the collection has Search 2.0 only
                    return SearchRoute(kind, version, volume)
        return None
