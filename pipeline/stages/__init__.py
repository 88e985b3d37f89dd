"""The built-in stages in pipeline order; each module declares its ``StageSpec`` as ``SPEC``."""

from __future__ import annotations

from typing import Any

from pipeline.stages.annotations import SPEC as ANNOTATIONS
from pipeline.stages.collection import SPEC as COLLECTION
from pipeline.stages.ingest import SPEC as INGEST
from pipeline.stages.manifest import SPEC as MANIFEST
from pipeline.stages.ocr import SPEC as OCR
from pipeline.stages.spec import StageSpec
from pipeline.stages.text import SPEC as TEXT
from pipeline.stages.tiles import SPEC as TILES
from pipeline.stages.transcription import SPEC as TRANSCRIPTION

#: A stage of any input and settings (each spec is typed; the tuple holds all kinds).
AnyStage = StageSpec[Any, Any]

STAGES: tuple[AnyStage, ...] = (
    INGEST,
    TILES,
    OCR,
    TRANSCRIPTION,
    ANNOTATIONS,
    TEXT,
    MANIFEST,
    COLLECTION,
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage_by_name(name: str) -> AnyStage:
    """Look a stage up by name.

    Raises:
        KeyError: No stage has that name.
    """
    for stage in STAGES:
        if name == stage.name:
            return stage
    raise KeyError(name)
