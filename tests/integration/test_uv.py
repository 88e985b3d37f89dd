"""Universal Viewer 4 in headless Chromium opens a real pipeline output served from 127.0.0.1.

UV 4.4.0 (npm ``universalviewer``, installed under viewer/node_modules by ``make viewer``) is
served from its ``dist`` folder by the ``pipeline serve`` server (:class:`SiteServer`, in this
process), which also makes the page (``/_uv/VOLUME``). The batch is built for its public base
URL, which the server points at itself. ``viewer/uv-check.mjs`` drives Debian's Chromium with
playwright-core and records every request the page makes: the first canvas's deep zoom, the
thumbnail strip (``full/90,``), then the gallery (``full/200,``). UV builds those thumbnail URLs
from the image service alone, so on a level-0 site they exist only because the tiles stage
writes them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.iiif import image as iiif
from pipeline.publish.serve import MIRADOR_DIST, UV_DIST_PREFIX, UV_PREFIX, SiteServer, serving
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from pipeline.siteurl import layout_for
from tests.conftest import BASE_URL, VIEWER, artifact_path, config_at, have_nanum_fonts, require

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("uv")]

UV_DIST = VIEWER / "node_modules" / "universalviewer" / "dist"
PAGES = 3
# UV's OpenSeadragon gets prefixUrl "images/" plus a data: URL, a request relative to the page
# that no server can answer; it is outside the output folder and UV works without it.
UV_OWN_404 = re.compile(r"/images/data:image/gif;base64,")
KNOWN_CONSOLE_NOISE = re.compile(
    r"Failed to load resource: the server responded with a status of 404"
)


@dataclass
class UvRun:
    """What the browser saw, and what it was shown."""

    result: dict[str, Any]
    base: str
    manifest: dict[str, Any]

    def ours(self) -> list[dict[str, Any]]:
        """Responses for files of the output folder (not the page or UV itself)."""
        return [
            r
            for r in self.result["responses"]
            if r["url"].startswith(self.base)
            and not r["url"].startswith(
                (f"{self.base}{UV_PREFIX}/", f"{self.base}{UV_DIST_PREFIX}/")
            )
            and not UV_OWN_404.search(r["url"])
        ]

    def services(self) -> list[str]:
        """The image service id of every canvas, in order."""
        return [
            c["items"][0]["items"][0]["body"]["service"][0]["id"] for c in self.manifest["items"]
        ]


@pytest.fixture(scope="module")
def uv(tmp_path_factory: pytest.TempPathFactory) -> UvRun:
    chromium, node = shutil.which("chromium"), shutil.which("node")
    require(chromium is not None, "chromium not installed")
    require(node is not None, "node not installed")
    require(
        (UV_DIST / "umd" / "UV.js").is_file()
        and (MIRADOR_DIST / "mirador.min.js").is_file()
        and (VIEWER / "node_modules/playwright-core").is_dir(),
        "viewer/node_modules missing: run `make viewer`",
    )
    require(have_nanum_fonts(), "fonts-nanum not installed")
    assert chromium is not None and node is not None
    tmp = tmp_path_factory.mktemp("uv")
    generate_volume(
        tmp / "scans", volume_id="vol-1", pages=PAGES, seed=7, width=620, height=877,
        fonts=["print"], conditions=["clean"],
    )  # fmt: skip
    cfg = config_at(tmp, ocr={"enabled": False})
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    server = SiteServer(layout_for(cfg), collection_id=cfg.collection.id, uv_dist=UV_DIST)
    base = server.url
    text = (cfg.site.out / "vol-1" / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text.replace(BASE_URL, base))
    argv = [
        node, str(VIEWER / "uv-check.mjs"),
        "--page", f"{base}{UV_PREFIX}/vol-1",
        "--thumbs", str(PAGES),
        "--screenshot", str(artifact_path(tmp, "uv.png")),
        "--chromium", chromium,
        "--profile", str(tmp / "chromium-profile"),
    ]  # fmt: skip
    with serving(server):
        proc = subprocess.run(argv, cwd=VIEWER, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return UvRun(json.loads(proc.stdout), base, manifest)


def test_manifest_opens(uv: UvRun) -> None:
    assert [e for e in uv.result["errors"] if not KNOWN_CONSOLE_NOISE.search(e)] == []
    manifest = [r for r in uv.ours() if r["url"] == f"{uv.base}vol-1/manifest.json"]
    assert manifest and all(r["status"] == 200 for r in manifest)
    assert uv.result["osdCanvas"]
    assert Path(uv.result["screenshot"]).stat().st_size > 10_000


def test_first_canvas_tiles_answer_200(uv: UvRun) -> None:
    first = uv.services()[0]
    ours = uv.ours()
    infos = [r for r in ours if r["url"] == f"{first}/{iiif.INFO}"]
    assert infos and all(r["status"] == 200 for r in infos)
    thumbs = {f"{first}/{iiif.width_path(w)}" for w in iiif.UV_THUMBNAIL_WIDTHS}
    tiles = [
        r
        for r in ours
        if r["url"].startswith(f"{first}/") and r["url"].endswith(".jpg") and r["url"] not in thumbs
    ]
    assert len(tiles) >= 2 and all(r["status"] == 200 for r in tiles), tiles


@pytest.mark.parametrize(
    ("key", "width"),
    [pytest.param("thumbs", 90, id="strip"), pytest.param("galleryThumbs", 200, id="gallery")],
)
def test_every_thumbnail_answers_200(uv: UvRun, key: str, width: int) -> None:
    # UV asks the image service for full/<width>, whatever the canvas thumbnail says.
    wanted = [f"{s}/full/{width},/0/default.jpg" for s in uv.services()]
    shown = uv.result[key]
    assert sorted(t["src"] for t in shown) == sorted(wanted)
    assert all(t["loaded"] and t["width"] == width for t in shown), shown
    answered = {r["url"]: r["status"] for r in uv.ours() if r["url"] in wanted}
    assert answered == dict.fromkeys(wanted, 200)


def test_nothing_under_the_output_is_missing(uv: UvRun) -> None:
    # Built for https://example.org/iiif/, yet every request went to the preview server.
    assert not [r for r in uv.result["responses"] if r["url"].startswith(BASE_URL)]
    assert [r for r in uv.ours() if r["status"] >= 400] == []
    assert [f for f in uv.result["failed"] if f["url"].startswith(uv.base)] == []
    # The only 404 at all is UV's own, outside the output folder.
    others = [r for r in uv.result["responses"] if r["status"] >= 400]
    assert all(UV_OWN_404.search(r["url"]) for r in others), others
