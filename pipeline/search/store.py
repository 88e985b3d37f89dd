"""Index files opened read-only, kept open between queries, and the line ids a plan matches.

A file is opened with ``mode=ro`` and ``immutable=1`` (nothing here can write one, and SQLite
takes no locks on it). Connections are kept per thread, at most :data:`OPEN_FILES` of them,
and reused while the file's inode, size and modification time stay the same: a rebuilt
index is renamed into place, which gives it a new inode, so the next query opens the new one.
A collection-wide search over a hundred volume files then costs a hundred small queries,
not a hundred opens.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SearchIndexError
from pipeline.search.index import FORMAT
from pipeline.search.plan import Plan

#: Connections kept open per thread (least recently used closed first).
OPEN_FILES = 256

_local = threading.local()
_Stamp = tuple[int, int, int]


def _open(path: Path) -> sqlite3.Connection:
    """Open an index read-only and check its format.

    Raises:
        SearchIndexError: The file is unreadable or of another format.
    """
    uri = path.as_uri() + "?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
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


def connection(path: Path) -> sqlite3.Connection:
    """A read-only connection to an index file (reused while the file is unchanged).

    Args:
        path: The index file.

    Returns:
        An open connection; the caller must not close it.

    Raises:
        SearchIndexError: The file is missing, unreadable or of another format.
    """
    # Keyed by the path as given (a path of another folder is another inode: reopened).
    key = os.fspath(path)
    try:
        st = os.stat(key)  # noqa: PTH116 (a Path per file and query costs ~5 ms a search)
    except OSError as exc:
        raise SearchIndexError(f"{path}: no search index ({exc.strerror})") from exc
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    cache: OrderedDict[str, tuple[_Stamp, sqlite3.Connection]] | None = getattr(
        _local, "cache", None
    )
    if cache is None:
        cache = _local.cache = OrderedDict()
    kept = cache.get(key)
    if kept is not None and kept[0] == stamp:
        cache.move_to_end(key)
        return kept[1]
    if kept is not None:
        del cache[key]
        kept[1].close()
    db = _open(Path(key).absolute())
    cache[key] = (stamp, db)
    while len(cache) > OPEN_FILES:
        cache.popitem(last=False)[1][1].close()
    return db


def base_url(path: Path) -> str:
    """The base URL the ids in an index file are under (the site's when it was built).

    Raises:
        SearchIndexError: The file is missing, unreadable or of another format.
    """
    row = connection(path).execute("SELECT value FROM meta WHERE key = 'base_url'").fetchone()
    return str(row[0])


@dataclass(frozen=True)
class Statement:
    """The one statement that finds a plan's hits in an index, compiled once per search."""

    sql: str
    args: tuple[str, ...]

    def matches(self, db: sqlite3.Connection) -> list[tuple[int, int]]:
        """The hits in one index, as ``(first line id, last line id)``, in line order."""
        return db.execute(self.sql + " ORDER BY 1, 2", self.args).fetchall()

    def count(self, db: sqlite3.Connection) -> int:
        """The number of hits in one index (no rows are brought into Python)."""
        total: int = db.execute(f"SELECT count(*) FROM ({self.sql})", self.args).fetchone()[0]
        return total


def statement(plan: Plan) -> Statement | None:
    """Compile a plan into one statement over an index's key tables (``None``: nothing to find).

    The statement finds a line that holds the query, or a break between two lines that a
    phrase of the query crosses (its first line's id, and the next).
    """
    parts: list[str] = []
    args: list[str] = []
    for table, match, span in (
        ("line_keys", plan.phrase_match(), 0),
        ("syllable_keys", plan.syllable_match(), 0),
        ("rom_keys", plan.rom_match(), 0),
        ("join_keys", plan.join_match(), 1),
    ):
        if match is not None:
            parts.append(f"SELECT rowid, rowid + {span} FROM {table} WHERE {table} MATCH ?")
            args.append(match)
    return Statement(" UNION ".join(parts), tuple(args)) if parts else None
