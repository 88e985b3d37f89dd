"""The preview server the browser test uses: what it serves, with which headers, and what not."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.publish.serve import PreviewServer, mirador_page, serving


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PreviewServer]:
    out = tmp_path / "out"
    (out / "vol" / "images" / "p1" / "full" / "max" / "0").mkdir(parents=True)
    (out / "vol" / "images" / "p1" / "info.json").write_text("{}", encoding="utf-8")
    (out / "vol" / "images" / "p1" / "full" / "max" / "0" / "default.jpg").write_bytes(b"\xff\xd8")
    (out / "vol" / "manifest.json").write_text("{}", encoding="utf-8")
    (out / "vol" / "ocr").mkdir()
    (out / "vol" / "ocr" / "p1.alto.xml").write_text("<alto/>", encoding="utf-8")
    (out / ".pipeline").mkdir()
    (out / ".pipeline" / "state.sqlite").write_bytes(b"secret")
    viewer = tmp_path / "viewer"
    viewer.mkdir()
    (viewer / "index.html").write_text("<!DOCTYPE html>", encoding="utf-8")
    with serving(PreviewServer(out, mounts={"_viewer": viewer})) as srv:
        yield srv


def _request(server: PreviewServer, path: str, method: str = "GET") -> http.client.HTTPResponse:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=10)
    conn.request(method, path, headers={"Origin": "http://elsewhere.example"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        pytest.param(
            "/vol/manifest.json",
            'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"',
            id="manifest",
        ),
        pytest.param(
            "/vol/images/p1/info.json",
            'application/ld+json;profile="http://iiif.io/api/image/3/context.json"',
            id="info",
        ),
        pytest.param("/vol/images/p1/full/max/0/default.jpg", "image/jpeg", id="tile"),
        pytest.param("/vol/ocr/p1.alto.xml", "application/xml", id="alto"),
        pytest.param("/_viewer/index.html", "text/html", id="mounted"),
    ],
)
def test_files_with_iiif_content_types_and_cors(
    server: PreviewServer, path: str, content_type: str
) -> None:
    response = _request(server, path)
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert _request(server, path, "HEAD").status == 200


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/.pipeline/state.sqlite", id="bookkeeping"),
        pytest.param("/vol/.pipeline/../../.pipeline/state.sqlite", id="dot-segments"),
        pytest.param("/%2e%2e/%2e%2e/etc/passwd", id="escaped-traversal"),
        pytest.param("/vol/", id="no-listing"),
        pytest.param("/vol/missing.json", id="missing"),
    ],
)
def test_what_is_not_served(server: PreviewServer, path: str) -> None:
    response = _request(server, path)
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(server: PreviewServer) -> None:
    response = _request(server, "/vol/manifest.json", "OPTIONS")
    assert response.status == 204
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_listens_on_loopback_only_by_default(server: PreviewServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")


def test_mirador_page_embeds_its_config_safely() -> None:
    page = mirador_page(
        resources=["http://127.0.0.1:1/vol/manifest.json"],
        mirador_js="http://127.0.0.1:1/_mirador/mirador.min.js",
        title="</title><script>x</script>",
        options={"window": {"defaultView": "single"}, "theme": {"note": "</script>"}},
    )
    assert "<script>x</script>" not in page
    assert '"supplementing"' in page
    assert '"defaultView": "single"' in page and '"sideBarOpenByDefault": true' in page
    assert page.count("</script>") == 2  # the two real ones; the config's is written <\/script>
