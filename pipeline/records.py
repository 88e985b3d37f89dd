"""Pages as found, the records stages leave behind (small, frozen, picklable) and job reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

from pydantic_core import from_json

from pipeline.results import StageResult, decode_result

RECORD_VERSION = 1

Status = Literal["ok", "failed", "skipped"]
R = TypeVar("R", bound=StageResult)


@dataclass(frozen=True)
class TranscriptFile:
    """A page's transcription file, and who made it where the volume's descriptor says so.

    ``kind``, ``creator`` and ``date`` are the descriptor's ``[transcription]`` overrides
    (empty: as the file says).
    """

    path: str
    name: str
    kind: str = ""
    creator: str = ""
    date: str = ""


@dataclass(frozen=True)
class PageItem:
    """One page of a volume, as found on disk and described by the descriptor.

    ``source`` and ``transcript`` say where the page's inputs are; fingerprints never hold
    them (the stages reading them hold their names and stat instead).
    """

    volume: str
    page: str
    source: str
    index: int
    label: dict[str, list[str]]
    ocr_languages: tuple[str, ...]
    transcript: TranscriptFile | None = None


@dataclass(frozen=True)
class StageRecord:
    """What a stage leaves behind for one page (or one volume, with ``page`` empty)."""

    stage: str
    volume: str
    page: str
    status: Status
    fingerprint: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    # The stored form of the result (read ``result``): kept as stored, so that a rerun that
    # only compares digests never decodes it into a model. (Any, not JsonValue, until the run
    # report reads results instead.)
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

    @classmethod
    def done(
        cls,
        stage: str,
        volume: str,
        page: str,
        result: StageResult,
        *,
        outputs: dict[str, str] | None = None,
        tool_versions: dict[str, str] | None = None,
    ) -> StageRecord:
        """The ``ok`` record of a stage's result."""
        return cls(
            stage=stage,
            volume=volume,
            page=page,
            status="ok",
            outputs=outputs or {},
            data=result.to_data(),
            tool_versions=tool_versions or {},
        )

    @cached_property
    def result(self) -> StageResult:
        """The typed result: the stage's result model if ``ok``, else a :class:`Failure`."""
        return decode_result(self.stage, self.status == "ok", self.data)

    def result_as(self, kind: type[R]) -> R:
        """The result as the model ``kind`` (that of the record's stage).

        Raises:
            TypeError: The record holds another kind of result (another stage's, or a failure).
        """
        found = self.result
        if not isinstance(found, kind):
            raise TypeError(f"{self.subject} [{self.stage}]: holds {type(found).__name__}")
        return found

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
        # pydantic-core's parser: the same values as json.loads, in less than half the time
        # (a rerun decodes every current record).
        return cls(**from_json(text))

    def __getstate__(self) -> dict[str, object]:
        # The decoded result travels only as its stored form (it is decoded again on demand).
        state = dict(self.__dict__)
        state.pop("result", None)
        return state


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
