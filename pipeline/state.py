"""The SQLite state store: what ran, with which fingerprint, and what failed."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import JobInputError
from pipeline.records import StageRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    volume TEXT NOT NULL,
    page TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    record TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (volume, page, stage)
);
CREATE TABLE IF NOT EXISTS published (
    target TEXT NOT NULL,
    key TEXT NOT NULL,
    volume TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    etag TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    headers TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (target, key)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    command TEXT NOT NULL,
    summary TEXT
);
"""


@dataclass(frozen=True)
class PublishedObject:
    """One object as last uploaded to a target: enough to tell whether the file changed since."""

    key: str
    volume: str
    size: int
    mtime_ns: int
    md5: str
    etag: str
    sha256: str
    headers: str


class StateStore:
    """Per page and stage records, written only by the parent process (WAL mode)."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the store.

        Raises:
            JobInputError: The file is not a state store, or stays locked (a job being set up
                or stopped at an awkward moment).

        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                hint = "another job holds it: try again in a moment"
            else:
                hint = "it is damaged: move it aside and run again (all work is then redone)"
            raise JobInputError(f"{path}: cannot open the state store ({exc}); {hint}") from None

    @classmethod
    def existing(cls, path: Path) -> StateStore | None:
        """Open the store only if it exists: read-only commands never create an output folder."""
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, record: StageRecord) -> None:
        """Store (replace) the record of one page or volume and stage."""
        self._db.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.volume,
                record.page,
                record.stage,
                record.status,
                record.fingerprint,
                record.to_json(),
                time.time(),
            ),
        )

    def get(self, volume: str, page: str, stage: str) -> StageRecord | None:
        """Return the stored record, or ``None``."""
        row = self._db.execute(
            "SELECT record FROM records WHERE volume=? AND page=? AND stage=?",
            (volume, page, stage),
        ).fetchone()
        return StageRecord.from_json(row[0]) if row else None

    def stage_rows(self, volume: str, stage: str) -> dict[str, str]:
        """The stored JSON of one stage's records of a volume, by page, in one query.

        For a caller that reads most of them (a rerun): decode with ``StageRecord.from_json``.
        """
        sql = "SELECT page, record FROM records WHERE volume=? AND stage=?"
        return dict(self._db.execute(sql, (volume, stage)).fetchall())

    def records(self, volume: str | None = None) -> Iterator[StageRecord]:
        """All records, or those of one volume, ordered by volume, page and stage."""
        sql = "SELECT record FROM records"
        args: tuple[str, ...] = ()
        if volume is not None:
            sql += " WHERE volume=?"
            args = (volume,)
        for (text,) in self._db.execute(sql + " ORDER BY volume, page, stage", args):
            yield StageRecord.from_json(text)

    def summaries(self, volume: str) -> Iterator[tuple[StageRecord, int]]:
        """One volume's records without their outputs, each with how many outputs it lists.

        What reports read: decoding every tile's path and checksum would take most of their
        time (SQLite counts them without handing them over).
        """
        sql = (
            "SELECT json_remove(record, '$.outputs'), "
            "(SELECT count(*) FROM json_each(record, '$.outputs')) "
            "FROM records WHERE volume=? ORDER BY volume, page, stage"
        )
        for text, count in self._db.execute(sql, (volume,)):
            yield StageRecord.from_json(text), int(count)

    def records_version(self, volume: str) -> str:
        """A token that changes whenever a record of the volume is stored or deleted.

        No record is decoded (a stored record gets a new row id and time): a report built at the
        same token is still current.
        """
        row = self._db.execute(
            "SELECT count(*), max(rowid), total(rowid), total(updated) FROM records WHERE volume=?",
            (volume,),
        ).fetchone()
        return ":".join(str(value) for value in row)

    def volumes(self) -> list[str]:
        """Volume ids that have records."""
        return [v for (v,) in self._db.execute("SELECT DISTINCT volume FROM records ORDER BY 1")]

    def forget_volume_pages(self, volume: str, keep: set[str]) -> None:
        """Drop records of pages no longer in the volume (renamed or removed files)."""
        rows = self._db.execute(
            "SELECT DISTINCT page FROM records WHERE volume=? AND page != ''", (volume,)
        ).fetchall()
        for (page,) in rows:
            if page not in keep:
                self._db.execute("DELETE FROM records WHERE volume=? AND page=?", (volume, page))

    # -- what was published where (the target never holds credentials) --------------------------
    def published(self, target: str) -> dict[str, PublishedObject]:
        """Return every object recorded as published to ``target``, by key."""
        rows = self._db.execute(
            "SELECT key, volume, size, mtime_ns, md5, etag, sha256, headers FROM published "
            "WHERE target=?",
            (target,),
        )
        return {row[0]: PublishedObject(*row) for row in rows}

    def put_published(self, target: str, objects: Iterable[PublishedObject]) -> None:
        """Record (replace) objects now on ``target``, in one transaction."""
        now = time.time()
        rows = [
            (target, o.key, o.volume, o.size, o.mtime_ns, o.md5, o.etag, o.sha256, o.headers, now)
            for o in objects
        ]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO published VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def forget_published(self, target: str, keys: Iterable[str]) -> None:
        """Drop the records of objects deleted from ``target``."""
        with self._transaction():
            self._db.executemany(
                "DELETE FROM published WHERE target=? AND key=?", [(target, k) for k in keys]
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def delete(self, volume: str, page: str, stage: str) -> None:
        """Forget one record, so that the next run does that work again."""
        self._db.execute(
            "DELETE FROM records WHERE volume=? AND page=? AND stage=?", (volume, page, stage)
        )

    def last_run(self, command: str) -> tuple[float, float | None, str | None] | None:
        """Start time, end time and summary of the latest job of one kind (``run``, ``verify``)."""
        row = self._db.execute(
            "SELECT started, finished, summary FROM runs WHERE command=? ORDER BY id DESC LIMIT 1",
            (command,),
        ).fetchone()
        return (float(row[0]), row[1], row[2]) if row else None

    def start_run(self, command: str) -> int:
        """Note the start of a job; returns its id."""
        cur = self._db.execute(
            "INSERT INTO runs (started, command) VALUES (?, ?)", (time.time(), command)
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, summary: str) -> None:
        """Note the end of a job."""
        self._db.execute(
            "UPDATE runs SET finished=?, summary=? WHERE id=?", (time.time(), summary, run_id)
        )
