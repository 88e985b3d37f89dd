"""`pipeline serve`: the output folder plus Mirador pages made in memory, and Mirador opening it.

The browser test reuses the manifest issue's driver (``viewer/mirador-check.mjs``) against a
real ``pipeline serve`` process. The batch is built for its public base URL
(https://example.org/iiif/), so the preview must point every URL at itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import MissingDependencyError
from pipeline.layout import Layout
from pipeline.publish.media import IMAGE_JSON, PRESENTATION_JSON, content_type
from pipeline.publish.serve import MIRADOR_DIST, UV_DIST, SiteServer, mirador_source, serving
from pipeline.run.job import run_job
from tests.conftest import (
    BASE_URL,
    config_at,
    have_nanum_fonts,
    require,
    require_mirador_tools,
    run_mirador_check,
)
from tests.s3server import free_port

# Logged by React 19 inside Mirador 4.0.0's own bundle on start-up; not about our documents.
KNOWN_CONSOLE_NOISE = re.compile(r"Accessing element\.ref was removed in React 19")


@dataclass
class Served:
    """A running `pipeline serve` process."""

    url: str
    out: Path
    process: subprocess.Popen[bytes]
    stderr: str = ""

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()


@contextlib.contextmanager
def pipeline_serve(out: Path, cwd: Path, config: Path | None = None) -> Iterator[Served]:
    """Run `pipeline serve` on a free port of 127.0.0.1 until the block ends."""
    port = free_port()
    argv = [sys.executable, "-m", "pipeline", "--out", str(out), "--base-url", BASE_URL]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["serve", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    process = subprocess.Popen(argv, cwd=cwd, env=env, stderr=subprocess.PIPE)
    served = Served(f"http://127.0.0.1:{port}/", out, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                served.get("")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "pipeline serve did not start"
                time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        served.stderr = process.communicate(timeout=10)[1].decode()


def _build(tmp: Path, *, ocr: bool) -> tuple[Path, dict[str, Any]]:
    from pipeline.samples.generate import generate_volume

    scans, out = tmp / "scans", tmp / "out"
    generate_volume(
        scans, volume_id="vol-1", pages=2, seed=7, width=620, height=877,
        fonts=["print", "gothic"], conditions=["clean"],
    )  # fmt: skip
    report = run_job(config_at(tmp, ocr={"enabled": ocr}))
    assert not report.failures, [f.error for f in report.failures]
    return out, json.loads((out / "vol-1" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    require(have_nanum_fonts(), "fonts-nanum not installed")
    return _build(tmp_path_factory.mktemp("serve"), ocr=False)


def _files(out: Path) -> set[Path]:
    return {p for p in out.rglob("*") if p.is_file() and ".pipeline" not in p.parts}


def test_serve_pages_headers_and_urls(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    require((MIRADOR_DIST / "mirador.min.js").is_file(), "viewer/node_modules missing: make viewer")
    out, _ = built
    before = _files(out)
    with pipeline_serve(out, tmp_path) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        status, headers, body = srv.get("")
        assert status == 200 and headers["Content-Type"] == "text/html;charset=utf-8"
        page = body.decode()
        assert "/_mirador/mirador.min.js" in page
        assert f'"manifestId": "{srv.url}collection.json"' in page
        status, _, body = srv.get("_view/vol-1")
        assert status == 200 and f'"manifestId": "{srv.url}vol-1/manifest.json"' in body.decode()
        assert srv.get("_view/nope")[0] == 404
        assert srv.get("_mirador/mirador.min.js")[0] == 200
        # Korean is offered as "ko" with Mirador's Korean strings (the browser test shows it).
        assert '"translations": {\n    "ko": {' in page and "Mirador.setConfig" in page
        # Universal Viewer, from viewer/node_modules like Mirador.
        status, _, body = srv.get("_uv/vol-1")
        assert status == 200 and 'src="/_universalviewer/umd/UV.js"' in body.decode()
        assert f'"manifest": "{srv.url}vol-1/manifest.json"' in body.decode()
        assert srv.get("_universalviewer/umd/UV.js")[0] == 200
        assert srv.get("_uv/nope")[0] == 404

        status, headers, body = srv.get("vol-1/manifest.json")
        assert status == 200
        assert headers["Content-Type"] == PRESENTATION_JSON == content_type("vol-1/manifest.json")
        assert headers["Access-Control-Allow-Origin"] == "*"
        manifest = json.loads(body)
        assert manifest["id"] == f"{srv.url}vol-1/manifest.json"
        assert BASE_URL not in body.decode()
        service = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]["id"]
        rel = service.removeprefix(srv.url)
        status, headers, body = srv.get(f"{rel}/info.json")
        assert status == 200 and headers["Content-Type"] == IMAGE_JSON
        assert json.loads(body)["id"] == service
        status, headers, _ = srv.get(f"{rel}/full/max/0/default.jpg", method="HEAD")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert srv.get(".pipeline/state.sqlite")[0] == 404
    # The pages are made in memory: nothing was written to the output folder.
    assert _files(out) == before
    assert not (out / "index.html").exists()
    # The start-up lines name every viewer page the server offers.
    assert f"Mirador: {srv.url} (the collection), {srv.url}_view/VOLUME" in srv.stderr
    if (UV_DIST / "umd" / "UV.js").is_file():
        assert f"Universal Viewer: {srv.url}_uv/VOLUME" in srv.stderr


def test_serve_loads_mirador_from_a_configured_url(
    built: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = built
    (tmp_path / "site.toml").write_text(
        '[serve]\nmirador_url = "https://cdn.example.org/mirador/dist/mirador.min.js"\n'
    )
    with pipeline_serve(out, tmp_path, config=tmp_path / "site.toml") as srv:
        page = srv.get("")[2].decode()
    assert 'src="https://cdn.example.org/mirador/dist/mirador.min.js"' in page


def test_without_universal_viewer_its_pages_are_not_found(
    built: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    require((MIRADOR_DIST / "mirador.min.js").is_file(), "viewer/node_modules missing: make viewer")
    out, _ = built
    server = SiteServer(Layout(out, BASE_URL), collection_id="collection", uv_dist=tmp_path)
    with serving(server):
        assert server.page("_uv/vol-1") is None and server.page("_view/vol-1") is not None
        request = urllib.request.Request(server.url + "_uv/vol-1")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        err.value.close()
        assert err.value.code == 404


def test_missing_mirador_is_a_missing_dependency(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="make viewer"):
        mirador_source(None, dist=tmp_path)
    assert mirador_source("https://cdn.example.org/m.js", dist=tmp_path) == (
        "https://cdn.example.org/m.js",
        {},
    )


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.tesseract
def test_mirador_opens_a_volume_through_pipeline_serve(tmp_path: Path) -> None:
    require_mirador_tools()
    from pipeline.iiif.text import first_text

    out, manifest = _build(tmp_path, ocr=True)
    with pipeline_serve(out, tmp_path) as srv:
        proc = run_mirador_check(f"{srv.url}_view/vol-1", manifest, tmp_path, "mirador-serve.png")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    errors = [e for e in result["errors"] if not KNOWN_CONSOLE_NOISE.search(e)]
    assert errors == []
    assert result["title"] == first_text(manifest["label"])
    ours = [
        r
        for r in result["responses"]
        if r["url"].startswith(srv.url) and "/_mirador/" not in r["url"]
    ]
    # Built for https://example.org/iiif/, yet every request went to the preview server.
    assert not [r for r in result["responses"] if r["url"].startswith(BASE_URL)]
    assert [r for r in ours if r["status"] >= 400] == []
    tiles = [r for r in ours if r["url"].endswith(".jpg")]
    assert len(tiles) >= len(manifest["items"])
    count = len(manifest["items"])
    assert [label.split(" • ")[0] for label in result["canvasLabels"]] == [
        f"{i} of {count}" for i in range(1, count + 1)
    ]
    if any(c.get("annotations") for c in manifest["items"]):
        lines = [t.strip() for t in result["annotations"] if t.strip()]
        assert any(re.search(r"[\uac00-\ud7a3]", line) for line in lines), lines


@pytest.mark.browser
@pytest.mark.slow
def test_mirador_in_korean_shows_the_korean_label(
    built: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    # Mirador 4 calls Korean "kr": chosen as such, labels tagged "ko" stayed in English.
    require_mirador_tools()
    out, manifest = built
    korean = manifest["label"]["ko"][0]
    strings = json.loads(
        (MIRADOR_DIST.parent / "src/locales/kr/translation.json").read_text(encoding="utf-8")
    )["translation"]
    with pipeline_serve(out, tmp_path) as srv:
        proc = run_mirador_check(
            f"{srv.url}_view/vol-1", manifest, tmp_path, "mirador-ko.png",
            label=korean, language="ko",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert [e for e in result["errors"] if not KNOWN_CONSOLE_NOISE.search(e)] == []
    # Korean is offered once, as "ko", where Mirador lists its "kr".
    assert result["languages"].count("ko") == 1 and "kr" not in result["languages"]
    assert result["title"] == korean
    # The UI itself speaks Korean: Mirador's Korean strings were loaded under "ko".
    assert strings["workspaceMenu"] in result["buttonLabels"]
    assert "Workspace settings" not in result["buttonLabels"]
