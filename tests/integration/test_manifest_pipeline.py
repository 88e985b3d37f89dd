"""Manifests and collections from real pipeline runs (libvips tiles; OCR off to stay quick)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Config
from pipeline.fsio import write_text_atomic
from pipeline.records import StageRecord
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import run_cli
from tests.manifest_samples import COLLECTION, check_presentation

pytestmark = pytest.mark.slow


@pytest.fixture
def scans(tmp_path: Path, nanum_fonts: None) -> Path:
    generate_volume(tmp_path / "scans", volume_id="vol-1", pages=3, seed=7, width=620, height=877)
    generate_volume(tmp_path / "scans", volume_id="vol-2", pages=1, seed=8, width=620, height=877)
    return tmp_path / "scans"


@pytest.fixture
def cfg(make_cfg: Callable[..., Config], scans: Path) -> Config:
    return make_cfg(ocr={"enabled": False}, collection=COLLECTION)


def _urls(data: Any) -> Iterator[str]:
    """Every URL a viewer may fetch: ids of images, services, links (not canvas/range ids)."""
    if isinstance(data, dict):
        linked = {"Image", "ImageService3", "Text", "Dataset", "AnnotationPage"}
        if data.get("type") in linked and "items" not in data:
            yield data["id"]
        for value in data.values():
            yield from _urls(value)
    elif isinstance(data, list):
        for value in data:
            yield from _urls(value)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_real_run_gives_valid_documents_pointing_at_existing_files(cfg: Config) -> None:
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    out, base = cfg.site.out, cfg.site.base_url
    manifest = _load(out / "vol-1" / "manifest.json")
    check_presentation(manifest)
    assert manifest["label"]["ko"] == ["인물전기 제1권"]
    assert [m["label"]["en"][0] for m in manifest["metadata"]][:2] == ["Compiler", "Date"]
    assert len(manifest["structures"]) == 2
    for canvas in manifest["items"]:
        service = canvas["items"][0]["items"][0]["body"]["service"][0]["id"]
        info = _load(out / service.removeprefix(base) / "info.json")
        assert (info["width"], info["height"]) == (canvas["width"], canvas["height"])
        assert info["id"] == service
        thumb = canvas["thumbnail"][0]
        assert [thumb["width"], thumb["height"]] in [
            [s["width"], s["height"]] for s in info["sizes"]
        ]
    local = [u for u in _urls(manifest) if u.startswith(base)]
    assert len(local) >= 3 * 4  # body, thumbnail and two services per canvas, at least
    for url in local:
        rel = url.removeprefix(base)
        assert (out / rel).is_file() or (out / rel / "info.json").is_file(), url
    collection = _load(out / "biographies.json")
    check_presentation(collection)
    assert [m["id"] for m in collection["items"]] == [
        f"{base}vol-1/manifest.json",
        f"{base}vol-2/manifest.json",
    ]
    assert collection["partOf"][0]["id"] == "https://library.example/iiif/manuscripts.json"


def test_another_base_url_is_a_config_change(
    make_cfg: Callable[..., Config], scans: Path, tmp_path: Path
) -> None:
    for base in ("https://example.org/iiif/", "http://127.0.0.1:8765/"):
        cfg = make_cfg(site={"base_url": base}, ocr={"enabled": False})
        assert not run_job(cfg).failures
        manifest = _load(cfg.site.out / "vol-1" / "manifest.json")
        check_presentation(manifest)
        text = json.dumps(manifest)
        other = "http://127.0.0.1:8765/" if base.startswith("https") else "https://example.org/"
        assert other not in text
        assert manifest["id"] == f"{base}vol-1/manifest.json"
        service = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]["id"]
        info = _load(cfg.site.out / "vol-1" / "images" / "p001" / "info.json")
        assert info["id"] == service == f"{base}vol-1/images/p001"


def test_failed_page_blocks_the_manifest_unless_allow_partial(
    make_cfg: Callable[..., Config], scans: Path, clean_logging: None
) -> None:
    (scans / "vol-1" / "p002.tif").write_bytes(b"II*\x00 not really a TIFF")
    cfg = make_cfg(ocr={"enabled": False})
    empty = cfg.site.scans.parent / "site.toml"
    empty.write_text("", encoding="utf-8")
    args = ["--config", str(empty), "--scans", str(cfg.site.scans), "--out", str(cfg.site.out)]
    args += ["--base-url", cfg.site.base_url]
    env = {"PIPELINE_OCR__ENABLED": "false"}  # the empty site file would turn OCR back on
    result = run_cli(*args, "run", "--quiet", "-j", "1", "vol-1", env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "[manifest]: 1 page(s) failed (p002)" in result.output
    assert "--allow-partial" in result.output
    assert not (cfg.site.out / "vol-1" / "manifest.json").exists()

    result = run_cli(*args, "run", "--quiet", "-j", "1", "--allow-partial", "vol-1", env=env)
    assert result.exit_code == 1, result.output  # the page itself still failed
    manifest = _load(cfg.site.out / "vol-1" / "manifest.json")
    check_presentation(manifest)
    assert [c["id"].rsplit("/", 1)[-1] for c in manifest["items"]] == ["p001", "p003"]
    with StateStore(layout_for(cfg).state_db) as state:
        rec = state.get("vol-1", "", "manifest")
    assert rec is not None and rec.status == "ok" and rec.data["missing"] == ["p002"]


def test_volume_stage_records_reach_the_manifest(cfg: Config) -> None:
    """A volume stage's record (here: the volume text) is handed to the manifest stage."""
    assert not run_job(cfg, volumes=["vol-1"]).failures
    paths = layout_for(cfg)
    text_path = paths.text_path("vol-1")
    digest = write_text_atomic(text_path, "인물전기 제1권\n")
    with StateStore(paths.state_db) as state:
        state.put(
            StageRecord(
                stage="text",
                volume="vol-1",
                page="",
                status="ok",
                outputs={paths.rel(text_path): digest},
                data={"text": paths.rel(text_path)},
            )
        )
    report = run_job(cfg, volumes=["vol-1"], stages=["manifest"])
    assert report.counts["ok"] == 1, report.counts  # rebuilt: its input changed
    manifest = _load(cfg.site.out / "vol-1" / "manifest.json")
    assert manifest["rendering"][0]["id"] == f"{cfg.site.base_url}vol-1/vol-1.txt"
    assert manifest["rendering"][0]["format"] == "text/plain"
    report = run_job(cfg, volumes=["vol-1"], stages=["manifest"])
    assert report.counts["current"] == 1, report.counts
