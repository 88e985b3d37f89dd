"""Fingerprints: a digest of everything a stage's result depends on, to skip current work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import BaseModel, JsonValue

from pipeline.records import PageItem, StageRecord, TranscriptFile
from pipeline.stages import AnyStage, stage_by_name

#: What a fingerprint digests besides the stage: JSON-ready input data.
Key = JsonValue


def digest(obj: object) -> str:
    """SHA-256 of ``obj`` as sorted, compact-free JSON (the form every fingerprint hashes)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_digest(record: StageRecord) -> str:
    """What downstream fingerprints depend on: a record's outputs and stored result.

    Timings live outside the result; keys the producing stage declares ``volatile`` (a
    master's modification time, say) are left out, so touching a file does not redo its
    derivatives.
    """
    volatile = stage_by_name(record.stage).volatile
    data = {k: v for k, v in record.data.items() if k not in volatile}
    return digest({"outputs": record.outputs, "data": data})


def settings_data(settings: BaseModel) -> JsonValue:
    """A stage's settings as its fingerprints hold them (computed once per stage and job)."""
    data: JsonValue = settings.model_dump(mode="json")
    return data


def fingerprint(stage: AnyStage, settings: JsonValue, key: Key, tools: dict[str, str]) -> str:
    """Digest of everything a stage's result depends on.

    Args:
        stage: The stage.
        settings: Its configuration section (:func:`settings_data`).
        key: Its input: the item fields it reads and its upstream results.
        tools: Versions of the programs it runs (a new tesseract redoes OCR).

    Returns:
        A hex SHA-256.
    """
    return digest(
        {
            "stage": stage.name,
            "version": stage.version,
            "settings": settings,
            "tools": tools,
            "input": key,
        }
    )


def item_key(item: PageItem, fields: Sequence[str] | None = None) -> dict[str, JsonValue]:
    """The page item fields a stage depends on; never where the scans or transcriptions live."""
    # asdict would deep-copy; the transcription file is keyed by the stage reading it.
    data = {k: v for k, v in vars(item).items() if k not in ("source", "transcript")}
    if fields is not None:
        data = {k: v for k, v in data.items() if k in {"volume", "page", *fields}}
    return data


def transcript_key(found: TranscriptFile | None, stat: JsonValue) -> JsonValue:
    """What stands for a page's transcription file in a fingerprint (``None``: it has none).

    Args:
        found: The file and the descriptor's provenance overrides.
        stat: Its size and modification time (``None``: it is gone).
    """
    if found is None:
        return None
    overrides: list[JsonValue] = [found.kind, found.creator, found.date]
    return {"file": found.name, "stat": stat, "overrides": overrides}
