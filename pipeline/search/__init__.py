"""Full-text search of the recognised text: folding, romanization, the index and queries."""

from __future__ import annotations

from pipeline.search.index import Box, Line, build_index
from pipeline.search.plan import MAX_QUERY
from pipeline.search.query import Hit, HitLine, SearchResults, search, suggest

__all__ = [
    "MAX_QUERY",
    "Box",
    "Hit",
    "HitLine",
    "Line",
    "SearchResults",
    "build_index",
    "search",
    "suggest",
]
