"""The SQLite state store: what ran, with which fingerprint, and what failed."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    command TEXT NOT NULL,
    summary TEXT
);
"""


class StateStore:
    """Per page and stage records, written only by the parent process (WAL mode)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

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
        """The stored record, or ``None``."""
        row = self._db.execute(
            "SELECT record FROM records WHERE volume=? AND page=? AND stage=?",
            (volume, page, stage),
        ).fetchone()
        return StageRecord.from_json(row[0]) if row else None

    def records(self, volume: str | None = None) -> Iterator[StageRecord]:
        """All records, or those of one volume, ordered by volume, page and stage."""
        sql = "SELECT record FROM records"
        args: tuple[str, ...] = ()
        if volume is not None:
            sql += " WHERE volume=?"
            args = (volume,)
        for (text,) in self._db.execute(sql + " ORDER BY volume, page, stage", args):
            yield StageRecord.from_json(text)

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
