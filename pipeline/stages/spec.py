"""The stage contract: what a stage declares (:class:`StageSpec`) and what it receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.records import PageItem, StageRecord
from pipeline.results import (
    AnnotationsResult,
    IngestResult,
    ManifestResult,
    OcrResult,
    TextResult,
    TilesResult,
    TranscriptionResult,
)

Scope = Literal["page", "volume", "collection"]


class Upstream(BaseModel):
    """The results of the earlier stages a task requires or uses, by stage (absent: ``None``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ingest: IngestResult | None = None
    tiles: TilesResult | None = None
    ocr: OcrResult | None = None
    transcription: TranscriptionResult | None = None
    annotations: AnnotationsResult | None = None
    text: TextResult | None = None

    @classmethod
    def of(cls, records: Mapping[str, StageRecord]) -> Upstream:
        """The results of ``ok`` records, by stage name.

        Raises:
            pydantic.ValidationError: A record of a stage no task reads, or of the wrong kind.
        """
        return cls.model_validate({name: rec.result for name, rec in records.items()})


@dataclass(frozen=True)
class PageInput:
    """What a page stage receives: the page plus the results of its upstream stages."""

    item: PageItem
    upstream: Upstream = Upstream()


@dataclass(frozen=True)
class VolumeInput:
    """What a volume stage receives: the descriptor and each page's upstream results, in order.

    ``upstream`` holds the results of earlier volume-scope stages it requires or uses;
    ``order`` lists every page id of the volume, failed ones included.
    """

    volume: str
    descriptor: Descriptor
    pages: tuple[PageInput, ...]
    missing: tuple[str, ...] = ()
    upstream: Upstream = Upstream()
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectionInput:
    """What the collection stage receives: each volume's id and manifest result, in order."""

    volumes: tuple[tuple[str, ManifestResult], ...]

    @classmethod
    def of(cls, entries: Sequence[tuple[str, StageRecord]]) -> CollectionInput:
        """Each volume's id and ``ok`` manifest record, in volume order.

        Raises:
            TypeError: A record of another stage.
        """
        return cls(volumes=tuple((vid, rec.result_as(ManifestResult)) for vid, rec in entries))


StageInput = PageInput | VolumeInput | CollectionInput
In = TypeVar("In", PageInput, VolumeInput, CollectionInput)
S = TypeVar("S", bound=BaseModel)


def no_tools(settings: BaseModel) -> dict[str, str]:
    """The preflight of a stage that runs no external program: nothing to check."""
    return {}


@dataclass(frozen=True, kw_only=True)
class StageSpec(Generic[In, S]):
    """One stage: its name, scope, what it depends on, its settings, tool check and work.

    ``requires`` names earlier stages whose records must be ``ok`` for this one to run;
    ``uses`` names earlier stages whose results are passed along when present. ``version`` is
    part of the fingerprint: bump it when the stage's output changes.

    What a fingerprint depends on can be narrowed, so that a rerun redoes only what a change
    affects: ``item_fields`` names the :class:`PageItem` fields (besides volume and page) a
    page stage's output depends on (``None``: all of them but the source path); ``volatile``
    names keys of the stage's result that describe the run or the source file rather than
    the result (a modification time), which downstream fingerprints ignore.
    """

    name: str
    scope: Scope
    version: int
    #: The input the stage's ``work`` takes (one of :data:`StageInput`).
    inputs: type[In]
    settings_type: type[S]
    #: The part of the configuration the stage depends on (hashed into fingerprints).
    settings_for: Callable[[Config], S]
    #: Does the work for one page, volume or the collection; raises PageError on bad input.
    work: Callable[[In, S, Layout], StageRecord]
    #: Checks tools before any work and returns their versions (MissingDependencyError).
    check_tools: Callable[[S], dict[str, str]] = no_tools
    requires: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    item_fields: tuple[str, ...] | None = None
    volatile: frozenset[str] = frozenset()
    #: Reads the masters themselves: their names and stat stand for their bytes in its
    #: fingerprint, and a volume that cannot be read at all is recorded as its failure.
    reads_master: bool = False
    #: Reads the page's transcription file (``PageItem.transcript``): its name, stat and the
    #: volume's provenance overrides stand for it in its fingerprint.
    reads_transcript: bool = False
    #: An ok record with an empty result means "nothing for this page": downstream
    #: fingerprints leave it out, as if the stage had not run.
    empty_is_absent: bool = False
    #: Its outputs hold URLs under the base URL: a new base URL rebuilds them.
    writes_urls: bool = False
    #: Reads what earlier stages keep in ``Layout.cache_dir``: a job that ran it clears the
    #: cache when it ends.
    reads_cache: bool = False
    #: Cluster worker resources each task holds while it runs (OCR: one ``tesseract``).
    resources: Mapping[str, float] = field(default_factory=dict)
    #: What will make a volume's pages fail, said once when the job starts.
    volume_check: Callable[[S, Sequence[PageItem]], list[str]] | None = None
    #: Settings that are probably a mistake, warned about once when the job starts.
    settings_check: Callable[[S], list[str]] | None = None

    def settings(self, cfg: Config) -> S:
        """The stage's settings in ``cfg``."""
        return self.settings_for(cfg)

    def preflight(self, settings: BaseModel) -> dict[str, str]:
        """Check the stage's tools; return their versions (part of its fingerprints)."""
        return self.check_tools(self._own(settings))

    def volume_problems(self, settings: BaseModel, pages: Sequence[PageItem]) -> list[str]:
        """What will make these pages of a volume fail in this stage (none if it cannot tell)."""
        return self.volume_check(self._own(settings), pages) if self.volume_check else []

    def settings_problems(self, settings: BaseModel) -> list[str]:
        """Settings the stage can run with but probably should not (none if it cannot tell)."""
        return self.settings_check(self._own(settings)) if self.settings_check else []

    def run(self, inp: StageInput, settings: BaseModel, layout: Layout) -> StageRecord:
        """Run the stage on one input.

        Raises:
            TypeError: An input or settings of another stage (a bug in the caller).
            PageError: Bad input (the stage's own errors).
        """
        if not isinstance(inp, self.inputs):
            raise TypeError(f"stage {self.name} takes {self.inputs.__name__}, not {inp!r}")
        return self.work(inp, self._own(settings), layout)

    def _own(self, settings: BaseModel) -> S:
        if not isinstance(settings, self.settings_type):
            raise TypeError(f"stage {self.name} takes {self.settings_type.__name__} settings")
        return settings
