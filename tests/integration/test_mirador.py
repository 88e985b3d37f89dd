"""Mirador 4 in headless Chromium opens a real pipeline output served from 127.0.0.1.

A generated two-page volume goes through every stage (OCR on), is served by
``pipeline.publish.serve.PreviewServer`` together with a Mirador page (mirador.min.js from
viewer/node_modules, installed by ``make viewer``), and ``viewer/mirador-check.mjs`` drives
Debian's Chromium with playwright-core: it waits for the window title, steps through every
canvas, opens the annotations panel and takes a screenshot (kept in $PIPELINE_TEST_ARTIFACTS
when set).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.iiif.text import first_text
from pipeline.publish.serve import PreviewServer, mirador_page, serving
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from tests.conftest import MIRADOR_DIST, config_at, require_mirador_tools, run_mirador_check

# One browser run for the whole module: under xdist (`--dist loadgroup`, as `make test` runs it)
# its tests stay on one worker.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.tesseract,
    pytest.mark.xdist_group("mirador"),
]

# Logged by React 19 inside Mirador 4.0.0's own bundle on start-up; not about our documents.
KNOWN_CONSOLE_NOISE = re.compile(r"Accessing element\.ref was removed in React 19")


@dataclass
class MiradorRun:
    """What the browser saw, and what it was shown."""

    result: dict[str, Any]
    base: str
    manifest: dict[str, Any]


@pytest.fixture(scope="module")
def mirador(tmp_path_factory: pytest.TempPathFactory) -> MiradorRun:
    require_mirador_tools()
    tmp = tmp_path_factory.mktemp("mirador")
    scans, out, page_dir = tmp / "scans", tmp / "out", tmp / "page"
    generate_volume(
        scans, volume_id="vol-1", pages=2, seed=7, width=620, height=877,
        fonts=["print", "gothic"], conditions=["clean"],
    )  # fmt: skip
    out.mkdir()
    page_dir.mkdir()
    server = PreviewServer(out, mounts={"_viewer": page_dir, "_mirador": MIRADOR_DIST})
    base = server.url
    report = run_job(config_at(tmp, site={"base_url": base}))
    assert not report.failures, [f.error for f in report.failures]
    manifest = json.loads((out / "vol-1" / "manifest.json").read_text(encoding="utf-8"))
    (page_dir / "index.html").write_text(
        mirador_page(
            resources=[f"{base}vol-1/manifest.json"],
            mirador_js=f"{base}_mirador/mirador.min.js",
            options={"language": "en", "window": {"defaultView": "single"}},
        ),
        encoding="utf-8",
    )
    with serving(server):
        proc = run_mirador_check(f"{base}_viewer/index.html", manifest, tmp, "mirador.png")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return MiradorRun(json.loads(proc.stdout), base, manifest)


def _ours(run: MiradorRun) -> list[dict[str, Any]]:
    """Responses for files of the output folder (not the viewer page or Mirador itself)."""
    return [
        r
        for r in run.result["responses"]
        if r["url"].startswith(run.base)
        and "/_viewer/" not in r["url"]
        and "/_mirador/" not in r["url"]
    ]


def test_manifest_opens_without_error(mirador: MiradorRun) -> None:
    errors = [e for e in mirador.result["errors"] if not KNOWN_CONSOLE_NOISE.search(e)]
    assert errors == []
    assert mirador.result["title"] == first_text(mirador.manifest["label"])
    assert Path(mirador.result["screenshot"]).stat().st_size > 10_000


def test_image_services_and_tiles_answer_200(mirador: MiradorRun) -> None:
    ours = _ours(mirador)
    for canvas in mirador.manifest["items"]:
        service = canvas["items"][0]["items"][0]["body"]["service"][0]["id"]
        infos = [r for r in ours if r["url"] == f"{service}/info.json"]
        assert infos and all(r["status"] == 200 for r in infos), service
        tiles = [
            r for r in ours if r["url"].startswith(f"{service}/") and r["url"].endswith(".jpg")
        ]
        assert tiles and all(r["status"] == 200 for r in tiles), service


def test_nothing_under_the_output_is_missing(mirador: MiradorRun) -> None:
    ours = _ours(mirador)
    assert len(ours) >= 1 + 2 * len(mirador.manifest["items"])
    assert [r for r in ours if r["status"] >= 400] == []
    assert [f for f in mirador.result["failed"] if f["url"].startswith(mirador.base)] == []


def test_every_canvas_was_shown(mirador: MiradorRun) -> None:
    count = len(mirador.manifest["items"])
    labels = mirador.result["canvasLabels"]
    assert [label.split(" • ")[0] for label in labels] == [
        f"{i} of {count}" for i in range(1, count + 1)
    ]


def test_annotations_panel_lists_ocr_lines(mirador: MiradorRun) -> None:
    linked = [c["annotations"][0]["id"] for c in mirador.manifest["items"] if c.get("annotations")]
    if not linked:
        pytest.skip("the ocr stage records no annotation pages yet (data key 'annotations')")
    fetched = [r for r in _ours(mirador) if r["url"] in linked]
    assert fetched and all(r["status"] == 200 for r in fetched)
    lines = [t.strip() for t in mirador.result["annotations"] if t.strip()]
    assert len(lines) >= 3, lines
    assert any(re.search(r"[\uac00-\ud7a3]", line) for line in lines), lines
