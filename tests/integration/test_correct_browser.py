"""The correction page in real Chromium: edit a line, save, run, and Mirador shows the new text."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.input.transcripts.read import read_transcript
from pipeline.publish.correct import correction_server
from pipeline.publish.serve import serving
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from tests.conftest import (
    VIEWER,
    artifact_path,
    config_at,
    require_mirador_tools,
    run_mirador_check,
)
from tests.integration.sample_build import HOLD_ALL, VOLUME, build_sample

pytestmark = [pytest.mark.browser, pytest.mark.tesseract, pytest.mark.slow]

NEW_TEXT = "교정한 줄: 김일성 동지"


def _check_page(url: str, tmp: Path, *, line: int, text: str) -> dict[str, Any]:
    chromium, node = require_mirador_tools()
    argv = [
        node, str(VIEWER / "correct-check.mjs"),
        "--page", url,
        "--line", str(line),
        "--text", text,
        "--screenshot", str(artifact_path(tmp, "correction-page.png")),
        "--chromium", chromium,
        "--profile", str(tmp / "chromium-profile"),
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=VIEWER, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_edit_save_run_and_mirador_shows_the_new_text(tmp_path: Path) -> None:
    require_mirador_tools()
    build_sample(tmp_path, pages=1)
    cfg = config_at(tmp_path, ocr=HOLD_ALL, serve={"port": 0, "editor": "Kim"})
    layout = layout_for(cfg)
    [page] = [p.name for p in (layout.out / VOLUME / "images").iterdir()]

    with serving(correction_server(cfg, layout)) as server:
        result = _check_page(
            f"{server.url}_correct/{VOLUME}/{page}", tmp_path, line=1, text=NEW_TEXT
        )
    assert result["errors"] == [] and result["failed"] == [], result
    assert result["lines"] >= 3 and result["boxes"] == result["lines"] == result["overlays"]
    assert result["lowLines"] == result["lowBoxes"] >= 1  # every line is below 99.9%
    assert result["current"] == 1 and result["changed"] == 1
    assert result["status"].startswith(f"saved transcriptions/{VOLUME}/{page}.xml"), result
    assert any("/images/" in r["url"] and r["url"].endswith(".jpg") for r in result["responses"])
    saved = read_transcript(tmp_path / "transcriptions" / VOLUME / f"{page}.xml")
    assert saved.lines[1].text == NEW_TEXT and saved.provenance.creator == "Kim"

    report = run_job(cfg)
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    manifest = json.loads((layout.out / VOLUME / "manifest.json").read_text(encoding="utf-8"))
    with serving(correction_server(cfg, layout)) as server:
        done = run_mirador_check(f"{server.url}_view/{VOLUME}", manifest, tmp_path, "mirador.png")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["annotationsTab"], seen
    assert NEW_TEXT in seen["annotations"], seen["annotations"]
    others = [line.text for n, line in enumerate(saved.lines) if n != 1]
    assert [t for t in seen["annotations"] if t != NEW_TEXT] == others
