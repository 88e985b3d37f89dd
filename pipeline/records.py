"""Work items that go to workers and the records that come back: small, frozen, picklable."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RECORD_VERSION = 1

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class PageItem:
    """One page of a volume, as found on disk and described by the descriptor."""

    volume: str
    page: str
    source: str
    index: int
    label: dict[str, list[str]]
    ocr_languages: tuple[str, ...]


@dataclass(frozen=True)
class PageInput:
    """What a page stage receives: the page plus the data its upstream stages recorded."""

    item: PageItem
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeInput:
    """What a volume stage receives: the descriptor and each page's upstream data, in order.

    ``upstream`` holds the data of earlier volume-scope stages it requires or uses (by stage
    name); ``order`` lists every page id of the volume, failed ones included.
    """

    volume: str
    descriptor: dict[str, Any]
    pages: tuple[PageInput, ...]
    missing: tuple[str, ...] = ()
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageRecord:
    """What a stage leaves behind for one page (or one volume, with ``page`` empty)."""

    stage: str
    volume: str
    page: str
    status: Status
    fingerprint: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    tool_versions: dict[str, str] = field(default_factory=dict)
    error_type: str = ""
    error: str = ""
    hint: str = ""
    duration_s: float = 0.0
    version: int = RECORD_VERSION
    # Folders written as a whole (a tile pyramid), by layout-relative path: how many entries
    # each held at its top level when recorded. A rerun checks these instead of every file.
    folder_entries: dict[str, int] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """``volume/page`` or ``volume`` for volume stages."""
        if not self.volume:
            return "collection"
        return f"{self.volume}/{self.page}" if self.page else self.volume

    def to_json(self) -> str:
        """Serialise with sorted keys (stable bytes)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> StageRecord:
        """Inverse of :meth:`to_json` (a record stored before a field existed gets its default)."""
        return cls(**json.loads(text))


@dataclass
class JobReport:
    """Outcome of one job, built by the runner and rendered by the CLI."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"ok": 0, "failed": 0, "skipped": 0, "current": 0}
    )
    failures: list[StageRecord] = field(default_factory=list)
    internal_errors: int = 0
    interrupted: bool = False
    started: float = 0.0  # seconds since the epoch
    duration_s: float = 0.0
    report_paths: list[str] = field(default_factory=list)
    version: int = RECORD_VERSION

    def add(self, record: StageRecord, *, current: bool = False) -> None:
        """Count one record; ``current`` means the stored result was still up to date."""
        if current:
            self.counts["current"] += 1
            return
        self.counts[record.status] += 1
        if record.status == "failed":
            self.failures.append(record)
            if record.error_type == "internal":
                self.internal_errors += 1


@dataclass(frozen=True)
class CollectionInput:
    """What the collection stage receives: each volume's id and manifest record data, in order."""

    volumes: tuple[tuple[str, dict[str, Any]], ...]
