"""The search index: one SQLite file with FTS5 tables over every line's folded keys.

Tables (see :data:`SCHEMA`): ``meta`` holds the format and the base URL the ids are under;
``pages`` each page's volume, id, position, canvas and manifest; ``lines`` each line's page,
number, box on the canvas and original text, in canvas order; ``line_keys`` (FTS5,
contentless) its phrase stream; ``syllable_keys`` its single syllables (no positions: a
one-syllable query is one token); ``join_keys`` the stream on both sides of each break
between adjacent lines of a page (a phrase broken by a line end); ``rom_keys`` (FTS5
trigram) the loose romanization of its Hangul, as written and folded; ``terms`` its words
with counts, for autocomplete.

The file is built in memory and written with ``VACUUM INTO`` a temporary name beside the
final one, then renamed: the same lines give the same bytes (fixed page size, insertion in
line order, no timestamps), and a reader never sees half a file.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pipeline.fsio import atomic_file, fsync_dir, sha256_file
from pipeline.search.fold import Segment, segments, stream_keys, term_key
from pipeline.search.hangul import fold_run, is_syllable
from pipeline.search.romanize import roman_keys

#: Bump when the schema or the keys change (a reader refuses another version).
#: 4: the tokens next to a break in ``join_keys`` are marked (:data:`BRIDGE_MARK`);
#: 5: ``meta`` holds the base URL the ids are under (``base_url``).
FORMAT = "5"
PAGE_SIZE = 4096
#: Stream tokens kept on each side of a line break in ``join_keys`` (longest phrase found
#: across a break: this many tokens on each side).
JOIN_TOKENS = 8
#: The bridge of a break between words (a private-use character: no key ever holds one).
NO_BRIDGE = "\ue000"
#: Put before the bridge's bigram and before the token on each side nearest the break, so
#: that each is a term of its own: a phrase anchored at a break then reads the few rows
#: that have its tokens next to a break, not every row holding them (private-use characters,
#: as :data:`NO_BRIDGE`).
BRIDGE_MARK, BEFORE_MARK, AFTER_MARK = "\ue001", "\ue002", "\ue003"
_TOKENIZE = "unicode61 remove_diacritics 0"

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE pages(
    id INTEGER PRIMARY KEY, volume TEXT NOT NULL, page TEXT NOT NULL, seq INTEGER NOT NULL,
    canvas TEXT NOT NULL, manifest TEXT NOT NULL);
CREATE TABLE lines(
    id INTEGER PRIMARY KEY, page INTEGER NOT NULL REFERENCES pages(id), line INTEGER NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    text TEXT NOT NULL);
CREATE VIRTUAL TABLE line_keys USING fts5(phrase, content='', columnsize=0, tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE syllable_keys USING fts5(
    syll, content='', columnsize=0, detail=none, tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE join_keys USING fts5(
    before, bridge, after, content='', columnsize=0, tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE rom_keys USING fts5(orig, fold, content='', columnsize=0, tokenize='trigram');
CREATE TABLE terms(
    key TEXT NOT NULL, term TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(key, term)
) WITHOUT ROWID;
"""


class Box(NamedTuple):
    """A rectangle on a canvas: left, top, width, height (canvas pixels)."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Line:
    """One line of text to index.

    ``seq`` is the page's position in the volume (canvas order); ``line`` the line's number on
    its page, from 1 (as in the page's annotation ids).
    """

    volume: str
    page: str
    seq: int
    canvas: str
    manifest: str
    line: int
    box: Box
    text: str


_PUNCTUATION = "\"'()[]{}<>.,:;!?«»“”‘’「」『』·…-—–"


def _terms(text: str) -> Iterable[tuple[str, str]]:
    """A line's words (split at spaces, outer punctuation stripped) and their keys."""
    for word in text.split():
        term = word.strip(_PUNCTUATION)
        if key := term_key(term):
            yield key, term


def join_text(first: str, second: str) -> str:
    """Two adjacent lines as one text: a space stands for the line break."""
    return f"{first} {second}"


def _join_keys(first: _Keyed, second: _Keyed) -> tuple[str, str, str]:
    """The stream tokens on both sides of the break between two lines (as in :func:`join_text`).

    A run of syllables that ends one line and one that starts the next are one run, and the
    bigram across the break (the *bridge*) is in every phrase that crosses it. The tokens
    before the break are stored nearest first, so that a query can anchor both halves of a
    phrase at the break (FTS5 ``^``) and find only phrases that cross it. The bridge and
    the nearest token on each side carry their mark (:data:`BRIDGE_MARK`).

    Returns:
        The first line's tokens before the bridge (reversed), the bridge (:data:`NO_BRIDGE`
        when the break falls between words), the second line's tokens.
    """
    a, b = first.segments, second.segments
    before, after = first.stream[-JOIN_TOKENS:], second.stream[:JOIN_TOKENS]
    end, start = first.line.text.rstrip()[-1:], second.line.text.lstrip()[:1]
    if not (a and b and a[-1].run and b[0].run and is_syllable(end) and is_syllable(start)):
        return _marked(BEFORE_MARK, before[::-1]), NO_BRIDGE, _marked(AFTER_MARK, after)
    # Fold the two runs as one around the break: JOIN_TOKENS + 2 syllables on each side are
    # enough (a syllable's folding looks at its neighbours only; the outermost one may lack
    # its neighbour, so its bigram is left out).
    left, right = a[-1].raw, b[0].raw
    cut_l, cut_r = min(len(left), JOIN_TOKENS + 2), min(len(right), JOIN_TOKENS + 2)
    window = fold_run(left[-cut_l:] + right[:cut_r])
    grams = [window[i : i + 2] for i in range(len(window) - 1)]
    if cut_l < len(left):
        before = grams[1:cut_l]
    else:
        before = first.stream[: len(first.stream) - max(len(left) - 1, 1)] + grams[:cut_l]
    if cut_r < len(right):
        after = grams[cut_l:-1]
    else:
        after = grams[cut_l:] + second.stream[max(len(right) - 1, 1) :]
    return (
        _marked(BEFORE_MARK, before[-2::-1][:JOIN_TOKENS]),
        BRIDGE_MARK + before[-1],
        _marked(AFTER_MARK, after[:JOIN_TOKENS]),
    )


def _marked(mark: str, tokens: Sequence[str]) -> str:
    """The tokens as one column, nearest the break first, that one marked."""
    return " ".join([mark + tokens[0], *tokens[1:]]) if tokens else ""


class _Keyed(NamedTuple):
    """A line and its keys."""

    line: Line
    segments: list[Segment]
    stream: list[str]


def _insert(db: sqlite3.Connection, lines: Sequence[Line]) -> None:
    pages: list[tuple[int, str, str, int, str, str]] = []
    rows, keys, syllables, roman, joins = [], [], [], [], []
    terms: Counter[tuple[str, str]] = Counter()
    previous: _Keyed | None = None
    for number, line in enumerate(lines, start=1):
        found = segments(line.text)
        current = _Keyed(line, found, stream_keys(found))
        if previous is not None and (previous.line.volume, previous.line.page) == (
            line.volume,
            line.page,
        ):
            joins.append((number - 1, *_join_keys(previous, current)))
        else:
            pages.append(
                (len(pages) + 1, line.volume, line.page, line.seq, line.canvas, line.manifest)
            )
        rows.append((number, len(pages), line.line, *line.box, line.text))
        keys.append((number, " ".join(current.stream)))
        syllables.append((number, " ".join(" ".join(s.key) for s in found if s.run)))
        orig, fold = roman_keys(line.text)
        if orig:
            roman.append((number, orig, fold))
        previous = current
        terms.update(_terms(line.text))
    db.executemany("INSERT INTO pages VALUES (?,?,?,?,?,?)", pages)
    db.executemany("INSERT INTO lines VALUES (?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO line_keys(rowid, phrase) VALUES (?,?)", keys)
    db.executemany("INSERT INTO syllable_keys(rowid, syll) VALUES (?,?)", syllables)
    db.executemany("INSERT INTO rom_keys(rowid, orig, fold) VALUES (?,?,?)", roman)
    db.executemany("INSERT INTO join_keys(rowid, before, bridge, after) VALUES (?,?,?,?)", joins)
    db.executemany(
        "INSERT INTO terms VALUES (?,?,?)", sorted((k, t, n) for (k, t), n in terms.items())
    )


def build_index(lines: Sequence[Line], path: Path, *, base_url: str) -> str:
    """Write the index of ``lines`` (in canvas and line order) to ``path``, atomically.

    Args:
        lines: Every line to index, in the order hits are to be listed.
        path: The index file to write (replaced if present).
        base_url: The site's base URL the lines' ids are under (the answers' annotation ids
            are made under it).

    Returns:
        The SHA-256 of the file written.
    """
    db = sqlite3.connect(":memory:")
    try:
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('format', ?), ('base_url', ?)", (FORMAT, base_url))
        _insert(db, lines)
        for table in ("line_keys", "syllable_keys", "join_keys", "rom_keys"):
            db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        db.commit()
        with atomic_file(path) as tmp:
            db.execute("VACUUM INTO ?", (str(tmp),))
    finally:
        db.close()
    fsync_dir(path.parent)
    return sha256_file(path)
