"""The state store's rows of one target: what was published there, written in batches."""

from __future__ import annotations

import time
from collections.abc import Iterable

from pipeline.publish.plan import HashedObject
from pipeline.state import PublishedObject, StateStore

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.5


class Ledger:
    """The objects recorded as published to one target, and the rows still to be written.

    Rows are queued and written in batches (every :data:`FLUSH_EVERY` rows or
    :data:`FLUSH_SECONDS`), so a killed publish loses at most one batch: those objects are
    found on the target and recorded again by the next run. A dry run records nothing.
    """

    def __init__(self, state: StateStore, target: str, *, dry_run: bool) -> None:
        self.state = state
        self.target = target
        self.dry_run = dry_run
        self.known: dict[str, PublishedObject] = state.published(target)
        self.pending: list[PublishedObject] = []
        self.flushed = time.monotonic()

    def remember(self, record: PublishedObject) -> None:
        """Queue a state-store row; rows are written in batches (a kill loses at most one)."""
        self.known[record.key] = record
        if self.dry_run:
            return
        self.pending.append(record)
        now = time.monotonic()
        if len(self.pending) >= FLUSH_EVERY or now - self.flushed > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write queued rows."""
        if self.pending:
            self.state.put_published(self.target, self.pending)
            self.pending = []
        self.flushed = time.monotonic()

    def forget(self, keys: Iterable[str]) -> None:
        """Drop the rows of objects deleted from the target."""
        keys = list(keys)
        self.state.forget_published(self.target, keys)
        for key in keys:
            self.known.pop(key, None)

    def holds(self, hashed: HashedObject) -> bool:
        """Whether the store records this file as published, bytes and headers alike.

        An upload of such a file restores what the target lost (or holds in another version).
        """
        known = self.known.get(hashed.obj.key)
        return (
            known is not None
            and known.sha256 == hashed.sha256
            and known.headers == hashed.obj.headers
        )
