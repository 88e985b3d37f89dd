"""The query engine: hits for a query over one or more index files, and word completions.

The query is compiled by :mod:`pipeline.search.plan` (as text, never as FTS5 syntax), the
index files are read through :mod:`pipeline.search.store` (read-only), and each hit returned is
checked on its line's original text, which gives the spans to mark.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.search.fold import find_units, term_key, units
from pipeline.search.index import Box, join_text
from pipeline.search.plan import Plan, check_query, plan
from pipeline.search.romanize import roman_key_mapped, roman_keys
from pipeline.search.store import connection, statement

Span = tuple[int, int]


@dataclass(frozen=True)
class HitLine:
    """One line a hit covers: its number on the page, box, text and the matched spans in it."""

    line: int
    box: Box
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Hit:
    r"""One match: where it is, and the text it is in with the matched spans marked.

    A match inside one line has one entry in ``lines``; a phrase broken by a line end has one
    per line it covers. ``text`` is the covered lines' original text joined by ``\n``,
    ``spans`` are ``(start, end)`` offsets into it, ``box`` is the union of the lines' boxes
    and ``line`` the number of the first line (from 1, as in the annotation ids).
    """

    volume: str
    page: str
    canvas: str
    manifest: str
    line: int
    box: Box
    text: str
    spans: tuple[Span, ...]
    lines: tuple[HitLine, ...]


@dataclass(frozen=True)
class SearchResults:
    """The number of hits in all, and the requested slice of them in canvas order."""

    total: int
    hits: list[Hit]


def _phrase_spans(text: str, plan: Plan) -> list[Span]:
    found = units(text)
    spans: list[Span] = []
    for form in plan.forms:
        spans += find_units(found, form.units)
    if plan.roman is not None:
        orig, fold = plan.roman
        written, folded = roman_keys(text)
        # Mapping a key back to the text costs more than the key: only where the key holds it.
        keys = [k for k in dict.fromkeys((orig, fold)) if k in written]
        if keys:
            spans += _roman_spans(text, keys, folded=False)
        if folded and fold in folded:  # folded "": the line's key as written is the folded one
            spans += _roman_spans(text, [fold], folded=True)
    return _merged(spans)


def _roman_spans(text: str, keys: Sequence[str], *, folded: bool) -> list[Span]:
    rom, where = roman_key_mapped(text, folded=folded)
    spans = []
    for key in keys:
        at = rom.find(key)
        while at >= 0:
            spans.append((where[at][0], where[at + len(key) - 1][1]))
            at = rom.find(key, at + 1)
    return spans


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(set(spans)):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _crossing(first: str, second: str, plan: Plan) -> list[Span]:
    """Spans of a phrase that starts in ``first`` and ends in ``second`` (joined text offsets)."""
    found = units(join_text(first, second))
    split = len(first)
    spans = [
        (s, e) for form in plan.forms for s, e in find_units(found, form.units) if s < split < e
    ]
    return _merged(spans)


def _confirmed(
    db: sqlite3.Connection, found: Sequence[tuple[int, int]], plan: Plan
) -> list[tuple[int, int]]:
    """The hits the index found that hold the query on their text (for a checked plan)."""
    ids = sorted({i for first, last in found for i in range(first, last + 1)})
    texts = dict(_rows(db, ids, "id, text"))
    return [
        (first, last)
        for first, last in found
        if (
            _phrase_spans(texts[first], plan)
            if first == last
            else _crossing(texts[first], texts[last], plan)
        )
    ]


def _rows(
    db: sqlite3.Connection, ids: Sequence[int], columns: str, source: str = "lines"
) -> list[tuple[Any, ...]]:
    """Rows of ``lines`` by id, in chunks (SQLite limits the parameters of one statement)."""
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = f"SELECT {columns} FROM {source} WHERE lines.id IN ({','.join('?' * len(chunk))})"
        rows += db.execute(sql, chunk).fetchall()
    return rows


def _hits(db: sqlite3.Connection, wanted: Sequence[tuple[int, int]], plan: Plan) -> list[Hit]:
    """Build the hits of one index from their line ids."""
    ids = sorted({i for first, last in wanted for i in range(first, last + 1)})
    columns = "lines.id, volume, pages.page, canvas, manifest, line, x, y, w, h, text"
    rows = {
        row[0]: row for row in _rows(db, ids, columns, "lines JOIN pages ON pages.id = lines.page")
    }
    hits = []
    for first, last in wanted:
        covered = [rows[i] for i in range(first, last + 1)]
        if first == last:
            spans = _phrase_spans(covered[0][10], plan)
        else:
            spans = _crossing(covered[0][10], covered[1][10], plan)
        hits.append(_hit(covered, spans))
    return hits


def _hit(rows: Sequence[tuple[object, ...]], spans: Sequence[Span]) -> Hit:
    """One hit over consecutive lines, ``spans`` given in their text joined by a newline."""
    lines: list[HitLine] = []
    offset = 0
    for row in rows:
        text = str(row[10])
        box = Box(*(int(str(v)) for v in row[6:10]))
        end = offset + len(text)
        own = tuple(
            (max(s, offset) - offset, min(e, end) - offset)
            for s, e in spans
            if s < end and e > offset
        )
        lines.append(HitLine(line=int(str(row[5])), box=box, text=text, spans=own))
        offset = end + 1
    x0 = min(h.box.x for h in lines)
    y0 = min(h.box.y for h in lines)
    x1 = max(h.box.x + h.box.w for h in lines)
    y1 = max(h.box.y + h.box.h for h in lines)
    first = rows[0]
    return Hit(
        volume=str(first[1]),
        page=str(first[2]),
        canvas=str(first[3]),
        manifest=str(first[4]),
        line=lines[0].line,
        box=Box(x0, y0, x1 - x0, y1 - y0),
        text="\n".join(h.text for h in lines),
        spans=tuple(spans),
        lines=tuple(lines),
    )


def search(indexes: Sequence[Path], q: str | None, *, limit: int, offset: int = 0) -> SearchResults:
    """Find a query in index files; hits in the order of the files, then canvas and line order.

    Args:
        indexes: Index files (a volume's, or several for a collection), in the order their
            hits are listed.
        q: The query as typed (``None`` or blank: no hits).
        limit: At most this many hits are returned.
        offset: Hits skipped before the first returned (paging).

    Returns:
        The total number of hits and the requested slice.

    Raises:
        SearchQueryError: The query is over :data:`~pipeline.search.plan.MAX_QUERY` characters.
        SearchIndexError: An index file is missing, unreadable or of another format.
    """
    compiled = plan(check_query(q))
    stmt = statement(compiled) if compiled is not None else None
    if compiled is None or stmt is None:
        return SearchResults(total=0, hits=[])
    start, stop = max(offset, 0), max(offset, 0) + max(limit, 0)
    total = 0
    hits: list[Hit] = []
    for path in indexes:
        db = connection(path)
        if total >= stop and not compiled.checked:
            total += stmt.count(db)  # past the requested page: only the number counts
            continue
        found = stmt.matches(db)
        if compiled.checked:
            found = _confirmed(db, found, compiled)
        wanted = found[max(start - total, 0) : max(stop - total, 0)]
        if wanted:
            hits += _hits(db, wanted, compiled)
        total += len(found)
    return SearchResults(total=total, hits=hits)


def suggest(indexes: Sequence[Path], prefix: str | None, *, limit: int) -> list[tuple[str, int]]:
    """Words of the indexed text that start with a prefix, with how often they occur.

    The prefix is folded as words are (력 completes 역사 and 력사 alike); words are returned as
    written, the most frequent first, then in code-point order.

    Args:
        indexes: Index files.
        prefix: What the reader typed so far.
        limit: At most this many words.

    Returns:
        ``(word, count)`` pairs.

    Raises:
        SearchQueryError: The prefix is over :data:`~pipeline.search.plan.MAX_QUERY` characters.
        SearchIndexError: An index file is missing, unreadable or of another format.
    """
    key = term_key(check_query(prefix))
    if not key or limit <= 0:
        return []
    counts: Counter[str] = Counter()
    sql = "SELECT term, count FROM terms WHERE key >= ? AND key < ?"
    for path in indexes:
        for term, count in connection(path).execute(sql, (key, key + "\U0010ffff")):
            counts[term] += count
    return sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))[:limit]
