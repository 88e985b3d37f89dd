"""The stage contract: specs, typed results and their stored form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.results import RESULT_TYPES, Failure, IngestResult, OcrResult
from pipeline.stages import STAGES
from pipeline.stages.spec import CollectionInput, Upstream

STORED = {
    # Keys a stage writes only sometimes stay absent; unknown keys stay as they were.
    "ingest": {"file": "p1.tif", "sha256": "ab", "size": 3, "mtime_ns": 1796310302494444136,
               "width": 640, "height": 480, "value_range": [0.0, 1.0], "warnings": []},
    "tiles": {"service_id": "https://example.org/iiif/v/images/p1", "width": 640,
              "height": 240, "sizes": [[320, 120], [640, 240]], "scale_factors": [1, 2],
              "thumbnail": {"path": "full/320,120/0/default.jpg", "width": 320, "height": 120},
              "colour": [], "tiles": 8, "replay_missing": 0, "from_a_later_version": {"x": 1}},
    "ocr": {},
    "annotations": {"annotations": None},
    "text": {"missing": [], "pages": 2, "text": "v/v.txt", "withheld": []},
    "manifest": {"canvases": 2, "id": "https://example.org/iiif/v/manifest.json",
                 "label": {"en": ["V"]}, "thumbnail": None},
    "collection": {"id": "https://example.org/iiif/collection.json", "volumes": ["v"]},
}  # fmt: skip


def test_every_stage_declares_a_spec_with_a_result_model_and_earlier_upstream() -> None:
    seen: list[str] = []
    for stage in STAGES:
        assert stage.name in RESULT_TYPES, stage.name
        assert set(stage.requires + stage.uses) <= set(seen), stage.name
        if stage.scope != "collection":
            # Every result a page or volume task reads has a typed field in its input.
            assert set(stage.requires + stage.uses) <= set(Upstream.model_fields), stage.name
        seen.append(stage.name)
    assert [s.name for s in STAGES if s.reads_master] == ["ingest"]


@pytest.mark.parametrize("stage", sorted(STORED))
def test_a_stored_result_reads_back_and_writes_the_same_json(stage: str) -> None:
    record = StageRecord(stage=stage, volume="v", page="p1", status="ok", data=STORED[stage])
    text = record.to_json()
    back = StageRecord.from_json(text)
    assert isinstance(back.result, RESULT_TYPES[stage])
    rewritten = StageRecord.done(stage, "v", "p1", back.result)
    assert json.dumps(rewritten.data, sort_keys=True) == json.dumps(STORED[stage], sort_keys=True)


def test_results_are_read_by_attribute() -> None:
    ingest = StageRecord.from_json(
        StageRecord(
            stage="ingest", volume="v", page="p", status="ok", data=STORED["ingest"]
        ).to_json()
    ).result_as(IngestResult)
    assert (ingest.sha256, ingest.width, ingest.unit_floats) == ("ab", 640, True)
    off = StageRecord(stage="ocr", volume="v", page="p", status="ok").result_as(OcrResult)
    assert off.published and off.txt is None and off.line_boxes == []  # OCR switched off
    failed = StageRecord(stage="ocr", volume="v", page="p", status="failed", data={"file": "p.tif"})
    assert failed.result == Failure(file="p.tif")
    with pytest.raises(TypeError, match="holds Failure"):
        failed.result_as(OcrResult)


def test_a_stage_refuses_another_stages_input_or_settings(tmp_path: Path) -> None:
    cfg = load_config(None, environ={})
    layout = Layout(out=tmp_path, base_url="https://example.org/iiif/")
    ingest, tiles = STAGES[0], STAGES[1]
    with pytest.raises(TypeError, match="takes PageInput"):
        ingest.run(CollectionInput(volumes=()), ingest.settings(cfg), layout)
    with pytest.raises(TypeError, match="takes IngestSettings settings"):
        ingest.preflight(tiles.settings(cfg))
