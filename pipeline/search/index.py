"""The search index: one SQLite file with FTS5 tables over every line's folded keys.

Tables (see :data:`SCHEMA`): ``lines`` holds each line's volume, page, canvas, manifest, line
number, box on the canvas and original text, in canvas order; ``line_keys`` (FTS5,
contentless) its phrase stream and single syllables; ``join_keys`` the stream across each pair
of adjacent lines of a page (a phrase broken by a line end); ``rom_keys`` (FTS5 trigram) the
loose romanization of its Hangul, as written and folded; ``terms`` its words with counts, for
autocomplete.

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

from pipeline.fsio import fsync_dir, sha256_file, temp_sibling
from pipeline.search.fold import initial_fold, stream, term_key, units
from pipeline.search.romanize import loose_mapped, romanize_pieces

#: Bump when the schema or the keys change (a reader refuses another version).
FORMAT = "1"
PAGE_SIZE = 4096
#: Stream tokens kept on each side of a line break in ``join_keys`` (longest phrase found
#: across a break: this many tokens on each side).
JOIN_TOKENS = 16
_TOKENIZE = "unicode61 remove_diacritics 0"

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE lines(
    id INTEGER PRIMARY KEY, volume TEXT NOT NULL, page TEXT NOT NULL, seq INTEGER NOT NULL,
    canvas TEXT NOT NULL, manifest TEXT NOT NULL, line INTEGER NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    text TEXT NOT NULL);
CREATE VIRTUAL TABLE line_keys USING fts5(
    phrase, syll, content='', columnsize=0, tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE join_keys USING fts5(phrase, content='', columnsize=0, tokenize='{_TOKENIZE}');
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


def romanized(text: str, *, folded: bool) -> tuple[str, list[tuple[int, int]]]:
    """The loose romanization of a text's Hangul and, per character, its syllable's offsets.

    Args:
        text: A line as written.
        folded: Romanize the text with the initial-sound rule applied to every syllable.

    Returns:
        The loose string (runs separated by spaces) and the original ``(start, end)`` of the
        syllable each character came from (``(-1, -1)`` for a separator).
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    for run in romanize_pieces(text, "mr", fold=initial_fold if folded else None):
        if parts:
            parts.append(" ")
            spans.append((-1, -1))
        joined = "".join(p.text for p in run)
        owner = [k for k, p in enumerate(run) for _ in p.text]
        key, where = loose_mapped(joined)
        parts.append(key)
        spans.extend((run[owner[w]].start, run[owner[w]].end) for w in where)
    return "".join(parts), spans


def _terms(text: str) -> Iterable[tuple[str, str]]:
    """A line's words (split at spaces, outer punctuation stripped) and their keys."""
    for word in text.split():
        term = word.strip("\"'()[]{}<>.,:;!?«»“”‘’「」『』·…-—–")
        key = term_key(term)
        if key:
            yield key, term


def join_text(first: str, second: str) -> str:
    """Two adjacent lines as one text: a space stands for the line break."""
    return f"{first} {second}"


def _join_stream(first: str, second: str) -> str:
    """The stream tokens around the break between two lines."""
    joined = stream(units(join_text(first, second)))
    before = [t for t in joined if t.start < len(first)]
    after = [t for t in joined if t.start >= len(first)]
    return " ".join(t.key for t in (before[-JOIN_TOKENS:] + after[:JOIN_TOKENS]))


def _insert(db: sqlite3.Connection, lines: Sequence[Line]) -> None:
    terms: Counter[tuple[str, str]] = Counter()
    previous: Line | None = None
    for number, line in enumerate(lines, start=1):
        found = units(line.text)
        db.execute(
            "INSERT INTO lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                number,
                line.volume,
                line.page,
                line.seq,
                line.canvas,
                line.manifest,
                line.line,
                *line.box,
                line.text,
            ),  # fmt: skip
        )
        db.execute(
            "INSERT INTO line_keys(rowid, phrase, syll) VALUES (?,?,?)",
            (
                number,
                " ".join(u.key for u in stream(found)),
                " ".join(u.key for u in found if u.syllable),
            ),  # fmt: skip
        )
        orig, _ = romanized(line.text, folded=False)
        fold, _ = romanized(line.text, folded=True)
        if orig:
            db.execute(
                "INSERT INTO rom_keys(rowid, orig, fold) VALUES (?,?,?)", (number, orig, fold)
            )
        if previous is not None and (previous.volume, previous.page) == (line.volume, line.page):
            keys = _join_stream(previous.text, line.text)
            db.execute("INSERT INTO join_keys(rowid, phrase) VALUES (?,?)", (number - 1, keys))
        previous = line
        terms.update(_terms(line.text))
    db.executemany(
        "INSERT INTO terms VALUES (?,?,?)", sorted((k, t, n) for (k, t), n in terms.items())
    )


def build_index(lines: Sequence[Line], path: Path) -> str:
    """Write the index of ``lines`` (in canvas and line order) to ``path``, atomically.

    Args:
        lines: Every line to index, in the order hits are to be listed.
        path: The index file to write (replaced if present).

    Returns:
        The SHA-256 of the file written.
    """
    db = sqlite3.connect(":memory:")
    try:
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        _insert(db, lines)
        for table in ("line_keys", "join_keys", "rom_keys"):
            db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        db.commit()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(path)
        try:
            db.execute("VACUUM INTO ?", (str(tmp),))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        db.close()
    fsync_dir(path.parent)
    return sha256_file(path)
