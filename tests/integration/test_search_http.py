"""The search services over real HTTP on 127.0.0.1: the ASGI app under uvicorn, and `serve`.

Both front ends share one handler, so each case runs against both: uvicorn runs
``pipeline.search.app:app`` in a child process over a folder of real index files (the
``PIPELINE_SEARCH_INDEX`` variable), and the preview server answers the same URLs inside the
output folder. Requests are sent the way browsers send them (raw bytes on the request line), so
the unencoded queries of Mirador 4.0.0 arrive as they would.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.layout import Layout
from pipeline.publish.serve import MIRADOR_DIST, SiteServer, serving
from tests.conftest import require
from tests.s3server import free_port
from tests.search_samples import BASE_URL, LABELS, build_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_folder(tmp_path_factory.mktemp("search-http"))


class Client:
    """Raw HTTP requests to one server: the request line is sent exactly as given."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        self.host, self.port, self.prefix = host, port, prefix

    def request(self, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, self.prefix + target, skip_accept_encoding=True)
            conn.putheader("Origin", "https://viewer.example.org")
            conn.endheaders()
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def json(self, target: str) -> tuple[int, Any]:
        status, headers, body = self.request(target)
        assert headers["content-type"].startswith("application/json"), headers
        assert headers["access-control-allow-origin"] == "*"
        return status, json.loads(body)


@contextlib.contextmanager
def uvicorn_app(folder: Path) -> Iterator[Client]:
    """``uvicorn pipeline.search.app:app`` on a free port until the block ends."""
    port = free_port()
    env = {**os.environ, "PIPELINE_SEARCH_INDEX": str(folder)}
    argv = [sys.executable, "-m", "uvicorn", "pipeline.search.app:app", "--port", str(port),
            "--host", "127.0.0.1", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)
    client = Client("127.0.0.1", port, "/")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                client.request("")
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.05)
        yield client
    finally:
        process.terminate()
        process.communicate(timeout=10)


@contextlib.contextmanager
def preview(folder: Path) -> Iterator[Client]:
    """`pipeline serve`'s server over the folder (built for BASE_URL), in a thread."""
    require((MIRADOR_DIST / "mirador.min.js").is_file(), "viewer/node_modules missing: make viewer")
    server = SiteServer(Layout(folder, BASE_URL), collection_id="collection")
    with serving(server):
        host, port = server.server_address[:2]
        yield Client(str(host), int(port), "/search/")


@pytest.fixture(params=["uvicorn", "serve"])
def client(request: pytest.FixtureRequest, folder: Path) -> Iterator[Client]:
    front = uvicorn_app if request.param == "uvicorn" else preview
    with front(folder) as c:
        yield c


def as_browser_sends(typed: str) -> str:
    """A query as Chromium puts it on the request line (the URL standard's query set)."""
    return urllib.parse.quote(typed, safe="!$&'()*+,;=:@/?%[]^`{|}~")


def hits_of(body: dict[str, Any]) -> list[str]:
    """A Search 1.0 answer's hits as 'canvas page: match' strings."""
    where = {r["@id"]: r["on"].split("#")[0].rsplit("/", 1)[1] for r in body["resources"]}
    return [f"{where[h['annotations'][0]]}: {h['match']}" for h in body["hits"]]


def test_north_and_south_spelling_give_the_same_hits(client: Client) -> None:
    status, north = client.json("vol-1/search1?q=%EB%A0%A5%EC%82%AC")  # 력사
    assert status == 200
    _, south = client.json("vol-1/search1?q=%EC%97%AD%EC%82%AC")  # 역사
    assert north["within"]["total"] >= 3
    assert hits_of(north) == hits_of(south)
    assert north["@context"][1] == "http://iiif.io/api/search/1/context.json"


def test_unencoded_and_encoded_queries_find_the_same(client: Client) -> None:
    """Mirador 4.0.0's unencoded ``?q=${defaultSearchQuery}``, its form-encoded typed queries."""
    status, body = client.json("vol-1/search1?q=%EB%A1%9C%EB%8F%99&%EB%A0%A5%EC%82%AC")  # 로동&력사
    assert status == 200 and any(h["match"].startswith("로동&amp;력사") for h in body["hits"]), body
    _, encoded = client.json("vol-1/search1?q=%EB%A1%9C%EB%8F%99%26%EB%A0%A5%EC%82%AC")
    assert hits_of(encoded) == hits_of(body)
    # C++ 력사#1: unencoded (the browser drops "#1"), form-encoded, encodeURIComponent.
    sent = ["C++%20%EB%A0%A5%EC%82%AC", "C%2B%2B+%EB%A0%A5%EC%82%AC%231",
            "C%2B%2B%20%EB%A0%A5%EC%82%AC%231"]  # fmt: skip
    found = [hits_of(client.json(f"vol-1/search1?q={q}")[1]) for q in sent]
    assert found == [["p900: C++ 력사"], ["p900: C++ 력사#1"], ["p900: C++ 력사#1"]]


def test_phrase_across_a_line_break(client: Client) -> None:
    _, body = client.json("vol-1/search1?q=%EB%A7%90%EA%B3%BC%20%EB%A0%A5%EC%82%AC%EB%A5%BC")
    crossing = [h for h in body["hits"] if len(h["annotations"]) == 2]
    assert crossing, body["hits"]
    assert crossing[0]["before"].endswith("우리 ")


def test_collection_search2_lists_both_volumes_with_labels(client: Client) -> None:
    status, body = client.json("search2?q=%EB%A1%9C%EB%8F%99")  # 로동
    assert status == 200 and body["type"] == "AnnotationPage"
    volumes = {i["target"]["partOf"]["id"] for i in body["items"]}
    assert len(volumes) == 2, volumes
    labels = [i["target"]["partOf"]["label"] for i in body["items"]]
    assert LABELS["vol-2"] in labels


def test_autocomplete_both_versions(client: Client) -> None:
    _, one = client.json("vol-1/autocomplete1?q=%EB%A0%A5&motivation=painting")  # 력
    assert one["@type"] == "search:TermList" and one["ignored"] == ["motivation"]
    assert any(t["match"].startswith("력사") for t in one["terms"]), one
    assert all("/vol-1/search1?q=" in t["url"] for t in one["terms"])
    _, two = client.json("autocomplete2?q=%EB%A0%A5")
    assert two["type"] == "TermPage" and two["items"]


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        pytest.param("vol-1/search1?q=" + "%EA%B0%80" * 1001, 400, "1000", id="too-long"),
        pytest.param("vol-1/search1?q=%FF%FE", 400, "malformed percent-encoding", id="not-utf8"),
        pytest.param("vol-1/search1?q=x&page=0", 400, "page", id="bad-page"),
        pytest.param("vol-1/autocomplete1?q=x&min=lots", 400, "min", id="bad-min"),
        pytest.param("nope/search1?q=x", 404, "no search service", id="no-such-volume"),
        pytest.param("vol-1/elsewhere?q=x", 404, "no search service", id="no-such-service"),
    ],
)
def test_bad_requests_answer_json_never_500(
    client: Client, target: str, status: int, message: str
) -> None:
    got, headers, body = client.request(target)
    assert got == status, body
    assert message in json.loads(body)["error"]


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(a b)", "a AND b", "(력사)", "-력사", "!!!", "%", "   "],
)
def test_fts_syntax_and_punctuation_are_text(client: Client, query: str) -> None:
    status, body = client.json("vol-1/search2?q=" + as_browser_sends(query))
    assert status == 200, body
    assert body["type"] == "AnnotationPage"


def test_empty_and_missing_q_are_empty_answers(client: Client) -> None:
    for target in ("vol-1/search1", "vol-1/search1?q=", "vol-1/search1?q=%20"):
        status, body = client.json(target)
        assert status == 200 and body["within"]["total"] == 0 and body["hits"] == []


def test_paging_and_ignored(client: Client) -> None:
    _, body = client.json("vol-1/search1?q=%EB%8A%94&user=me&date=2020")  # 는 (one syllable)
    assert body["within"]["ignored"] == ["user", "date"]
    assert body["within"]["total"] > 0 and body["startIndex"] == 0


def test_read_only_methods_and_cors_preflight(client: Client) -> None:
    status, headers, _ = client.request("vol-1/search1?q=x", method="OPTIONS")
    assert status in (200, 204) and headers["access-control-allow-origin"] == "*"
    status, headers, body = client.request("vol-1/search1?q=%EB%A0%A5%EC%82%AC", method="HEAD")
    assert status == 200 and body == b""
    status, _, _ = client.request("vol-1/search1?q=x", method="POST")
    assert status in (405, 501)


def test_serve_points_answers_at_itself(folder: Path) -> None:
    with preview(folder) as c:
        _, body = c.json("vol-1/search1?q=%EB%A0%A5%EC%82%AC")
    on = body["resources"][0]["on"]
    assert on.startswith(f"http://127.0.0.1:{c.port}/vol-1/canvas/"), on
    assert BASE_URL not in json.dumps(body)
    assert body["@id"].startswith(f"http://127.0.0.1:{c.port}/search/vol-1/search1?q=")


def test_serve_makes_the_search_page_for_itself(folder: Path) -> None:
    with preview(folder) as c:
        status, headers, body = Client(c.host, c.port, "/").request("search.html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = body.decode("utf-8")
    assert f'"search": "http://127.0.0.1:{c.port}/search/search2"' in html
    assert 'src="/_mirador/mirador.min.js"' in html


def test_the_app_leaves_the_index_files_as_they_are(folder: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    with uvicorn_app(folder) as c:
        for target in ("vol-1/search1?q=%EB%A0%A5%EC%82%AC", "search2?q=x", "autocomplete2?q=a"):
            assert c.request(target)[0] == 200
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert after == before  # no journal or WAL file either: opened read-only
