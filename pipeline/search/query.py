"""The query engine: hits for a query over one or more index files, and word completions.

Index files are opened read-only (``mode=ro``, ``immutable``): nothing here can write one.
A query is text, never FTS5 syntax: it is folded into keys the way the index was, and each key
is quoted, so ``"``, ``*``, ``NEAR``, ``AND``, parentheses and ``-`` are searched as written
(punctuation is not part of any key, so a query of punctuation only finds nothing).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SearchIndexError, SearchQueryError
from pipeline.search.fold import (
    QueryForm,
    find_phrase,
    is_syllable,
    query_forms,
    stream,
    term_key,
    units,
)
from pipeline.search.index import FORMAT, Box, join_text, romanized
from pipeline.search.romanize import fold_initials, has_latin, loose

#: Longest query answered (characters); a longer one raises :class:`SearchQueryError`.
MAX_QUERY = 1000
#: Shortest loose romanization searched (the trigram index needs three letters).
MIN_ROMANIZED = 3

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
    per line it covers. ``text`` is the covered lines' original text joined by ``\\n``,
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


@dataclass(frozen=True)
class _Plan:
    """A query compiled into what to look for in an index."""

    forms: tuple[QueryForm, ...]
    roman: tuple[str, str] | None

    def line_match(self) -> str | None:
        phrases = [f for f in self.forms if not f.unigram]
        syllables = [f for f in self.forms if f.unigram]
        parts = []
        if phrases:
            parts.append(f"phrase : ({' OR '.join(_quoted(f.tokens) for f in phrases)})")
        if syllables:
            parts.append(f"syll : ({' OR '.join(_quoted(f.tokens) for f in syllables)})")
        return " OR ".join(parts) or None

    def join_match(self) -> str | None:
        # A phrase broken by a line end: several tokens, or one bigram of two syllables.
        phrases = [f for f in self.forms if len(f.tokens) > 1 or _bigram(f)]
        return " OR ".join(_quoted(f.tokens) for f in phrases) or None

    def rom_match(self) -> str | None:
        if self.roman is None:
            return None
        orig, fold = self.roman
        return f'orig : "{orig}" OR fold : "{fold}"'


def _bigram(form: QueryForm) -> bool:
    return not form.unigram and len(form.tokens[0]) == 2 and all(map(is_syllable, form.tokens[0]))


def _quoted(tokens: Sequence[str]) -> str:
    # Keys hold letters, digits and syllables only: nothing inside the quotes is syntax.
    return '"' + " ".join(tokens) + '"'


def check_query(q: str | None) -> str:
    """Return the query stripped, or raise if it is too long to answer.

    Raises:
        SearchQueryError: More than :data:`MAX_QUERY` characters.
    """
    if q is None:
        return ""
    if len(q) > MAX_QUERY:
        raise SearchQueryError(
            f"query of {len(q)} characters: at most {MAX_QUERY} characters are searched"
        )
    return q.strip()


def _plan(q: str) -> _Plan | None:
    forms = tuple(query_forms(q))
    roman = None
    if has_latin(q):
        orig, fold = loose(q), loose(fold_initials(q))
        if len(orig) >= MIN_ROMANIZED:
            roman = (orig, fold)
    if not forms and roman is None:
        return None
    return _Plan(forms, roman)


def _open(path: Path) -> sqlite3.Connection:
    """Open an index read-only and check its format.

    Raises:
        SearchIndexError: The file is missing, unreadable or of another format.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
        row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    except sqlite3.Error as exc:
        raise SearchIndexError(f"{path}: cannot read the search index ({exc})") from exc
    if row is None or row[0] != FORMAT:
        db.close()
        found = row[0] if row else "none"
        raise SearchIndexError(
            f"{path}: search index format {found}, this version reads {FORMAT} (build it again)"
        )
    return db


def _rowids(db: sqlite3.Connection, table: str, match: str | None) -> list[int]:
    if match is None:
        return []
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid"
    return [r[0] for r in db.execute(sql, (match,))]


def _texts(db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, text FROM lines WHERE id IN ({marks})"
        found.update(db.execute(sql, chunk).fetchall())
    return found


def _phrase_spans(text: str, plan: _Plan) -> list[Span]:
    found = units(text)
    tokens = stream(found)
    syllables = [u for u in found if u.syllable]
    spans: list[Span] = []
    for form in plan.forms:
        spans += find_phrase(syllables if form.unigram else tokens, form.tokens)
    if plan.roman is not None:
        for folded, key in zip((False, True), plan.roman, strict=True):
            spans += _roman_spans(text, key, folded=folded)
    return _merged(spans)


def _roman_spans(text: str, key: str, *, folded: bool) -> list[Span]:
    rom, where = romanized(text, folded=folded)
    spans = []
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


def _crossing(first: str, second: str, plan: _Plan) -> list[Span]:
    """Spans of a phrase that starts in ``first`` and ends in ``second`` (joined text offsets)."""
    tokens = stream(units(join_text(first, second)))
    split = len(first)
    spans = [
        (s, e)
        for form in plan.forms
        if not form.unigram
        for s, e in find_phrase(tokens, form.tokens)
        if s < split < e
    ]
    return _merged(spans)


def _matches(db: sqlite3.Connection, plan: _Plan) -> list[tuple[int, int]]:
    """The hits of one index as ``(first line id, last line id)``, in line order."""
    ids = set(_rowids(db, "line_keys", plan.line_match()))
    ids.update(_rowids(db, "rom_keys", plan.rom_match()))
    found = [(i, i) for i in ids]
    joins = _rowids(db, "join_keys", plan.join_match())
    if joins:
        texts = _texts(db, [*joins, *(j + 1 for j in joins)])
        found += [(j, j + 1) for j in joins if _crossing(texts[j], texts[j + 1], plan)]
    return sorted(found)


_ROW = "SELECT id, volume, page, canvas, manifest, line, x, y, w, h, text FROM lines WHERE id IN"


def _hits(db: sqlite3.Connection, wanted: Sequence[tuple[int, int]], plan: _Plan) -> list[Hit]:
    """Build the hits of one index from their line ids."""
    ids = sorted({i for first, last in wanted for i in range(first, last + 1)})
    rows = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for row in db.execute(f"{_ROW} ({','.join('?' * len(chunk))})", chunk):
            rows[row[0]] = row
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
        SearchQueryError: The query is longer than :data:`MAX_QUERY` characters.
        SearchIndexError: An index file is missing, unreadable or of another format.
    """
    plan = _plan(check_query(q))
    if plan is None:
        return SearchResults(total=0, hits=[])
    start, stop = max(offset, 0), max(offset, 0) + max(limit, 0)
    total = 0
    hits: list[Hit] = []
    for path in indexes:
        db = _open(path)
        try:
            found = _matches(db, plan)
            wanted = found[max(start - total, 0) : max(stop - total, 0)]
            if wanted:
                hits += _hits(db, wanted, plan)
            total += len(found)
        finally:
            db.close()
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
        SearchQueryError: The prefix is longer than :data:`MAX_QUERY` characters.
        SearchIndexError: An index file is missing, unreadable or of another format.
    """
    key = term_key(check_query(prefix))
    if not key or limit <= 0:
        return []
    counts: Counter[str] = Counter()
    for path in indexes:
        db = _open(path)
        try:
            sql = "SELECT term, count FROM terms WHERE key >= ? AND key < ?"
            for term, count in db.execute(sql, (key, key + "\U0010ffff")):
                counts[term] += count
        finally:
            db.close()
    return sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))[:limit]
