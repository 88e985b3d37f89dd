"""End to end: a generated volume through every stage with real libvips, tesseract and prezi3."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipeline.records import StageRecord
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import SCHEMAS, assert_clean_exit, invoke

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


@pytest.fixture
def volume(tmp_path: Path, nanum_fonts: None, tesseract_kor: None) -> list:  # type: ignore[type-arg]
    return generate_volume(
        tmp_path / "scans",
        volume_id="vol-1",
        pages=3,
        seed=7,
        fonts=["print", "gothic", "print"],
        conditions=["clean"],
    )


def _records(cfg) -> list[StageRecord]:  # type: ignore[no-untyped-def]
    with StateStore(layout_for(cfg).state_db) as state:
        return list(state.records())


def test_volume_end_to_end(volume, make_cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = make_cfg()
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    out = tmp_path / "out"
    manifest = json.loads((out / "vol-1" / "manifest.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "presentation-3.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    assert manifest["id"] == "https://example.org/iiif/vol-1/manifest.json"
    assert len(manifest["items"]) == 3
    for canvas in manifest["items"]:
        body = canvas["items"][0]["items"][0]["body"]
        service = body["service"][0]
        assert service["id"].startswith("https://example.org/iiif/vol-1/images/")
        rel = service["id"].removeprefix("https://example.org/iiif/")
        info = json.loads((out / rel / "info.json").read_text(encoding="utf-8"))
        assert info["id"] == service["id"]
        assert (info["width"], info["height"]) == (canvas["width"], canvas["height"])
    first = volume[0]
    text = (out / "vol-1" / "ocr" / f"{first.page_id}.txt").read_text(encoding="utf-8")
    phrase = first.text.splitlines()[0].replace(" ", "")
    assert phrase[:4] in text.replace(" ", ""), (phrase, text[:200])
    collection = json.loads((out / "collection.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(collection)
    assert [m["id"] for m in collection["items"]] == [manifest["id"]]


def test_rerun_does_no_work(volume, make_cfg) -> None:  # type: ignore[no-untyped-def]
    cfg = make_cfg()
    run_job(cfg)
    before = {(r.volume, r.page, r.stage): r.to_json() for r in _records(cfg)}
    report = run_job(cfg)
    after = {(r.volume, r.page, r.stage): r.to_json() for r in _records(cfg)}
    assert before == after
    assert report.counts["ok"] == 0 and report.counts["current"] == len(before)


def test_changed_setting_reruns_that_stage_and_later_only(volume, make_cfg) -> None:  # type: ignore[no-untyped-def]
    run_job(make_cfg())
    cfg = make_cfg(tiles={"quality": 70})
    before = {(r.page, r.stage): r for r in _records(cfg)}
    run_job(cfg)
    after = {(r.page, r.stage): r for r in _records(cfg)}
    changed = {key[1] for key in after if after[key].to_json() != before[key].to_json()}
    assert "tiles" in changed and "manifest" in changed
    assert "ingest" not in changed and "ocr" not in changed


def test_truncated_page_fails_alone(volume, make_cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "scans" / "vol-1" / volume[1].file
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])
    env = {"PIPELINE_RUN__WORKERS": "2"}
    result = invoke(tmp_path, "run", "--quiet", env=env)
    assert_clean_exit(result, 1)
    assert f"vol-1/{volume[1].file} [ingest]" in result.output
    cfg = make_cfg()
    recs = {(r.page, r.stage): r.status for r in _records(cfg)}
    for page in (volume[0].page_id, volume[2].page_id):
        assert recs[(page, "tiles")] == "ok" and recs[(page, "ocr")] == "ok"
    assert recs[(volume[1].page_id, "tiles")] == "skipped"
