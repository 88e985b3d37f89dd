"""The Stage protocol and the ordered tuple of built-in stages."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

from pipeline.config import Config
from pipeline.layout import Layout
from pipeline.records import StageRecord

Scope = Literal["page", "volume", "collection"]


class Stage(Protocol):
    """What every stage module provides.

    ``REQUIRES`` names earlier stages whose records must be ``ok`` for this one to run;
    ``USES`` names earlier stages whose records are passed along when present.
    ``VERSION`` is part of the fingerprint: bump it when the stage's output changes.

    Two optional attributes narrow what a fingerprint depends on, so that a rerun redoes only
    what a change affects: ``ITEM_FIELDS`` names the ``PageItem`` fields (besides volume and
    page) a page stage's output depends on (default: all of them but the source path), and
    ``VOLATILE`` names keys of the stage's record data that describe the run or the source file
    rather than the result (e.g. modification times), which downstream fingerprints ignore.
    ``RESOURCES`` (optional) names the cluster worker resources each task holds while it runs
    (the OCR stage: one ``tesseract``). ``volume_problems(settings, pages)`` (optional) returns
    what will make a volume's pages fail, reported once when the job starts;
    ``settings_problems(settings)`` (optional) returns settings that are probably a mistake,
    warned about once when the job starts. ``READS_CACHE``
    (optional) marks a stage that reads what earlier stages keep in ``Layout.cache_dir``: a
    job that ran it clears the cache when it ends.
    """

    NAME: str
    SCOPE: str  # "page", "volume" or "collection"
    VERSION: int
    REQUIRES: tuple[str, ...]
    USES: tuple[str, ...]

    def settings(self, cfg: Config) -> BaseModel:
        """The part of the configuration this stage depends on (hashed into fingerprints)."""
        ...

    def preflight(self, settings: Any) -> dict[str, str]:
        """Check tools before any work; return their versions; raise MissingDependencyError."""
        ...

    def run(self, inp: Any, settings: Any, paths: Layout) -> StageRecord:
        """Do the work for one page, volume or collection; raise PageError on bad input."""
        ...


def _load() -> tuple[Stage, ...]:
    from pipeline.stages import annotation, collection, ingest, manifest, ocr, text, tiles

    return (ingest, tiles, ocr, annotation, text, manifest, collection)


STAGES: tuple[Stage, ...] = _load()
STAGE_NAMES: tuple[str, ...] = tuple(s.NAME for s in STAGES)


def stage_by_name(name: str) -> Stage:
    """Look a stage up by ``NAME``."""
    for stage in STAGES:
        if name == stage.NAME:
            return stage
    raise KeyError(name)
