"""The search services as an AWS Lambda function: the handler on synthetic function URL events.

The events follow the function URL request payload (format 2.0): ``rawPath``,
``rawQueryString`` exactly as the client sent it, ``requestContext.http.method`` and
``requestContext.domainName``; the index files are a folder laid out as the output folder, as
they would be packaged with the function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.search import aws_lambda
from tests.search_samples import build_folder

DOMAIN = "abcdefghijklmnop.lambda-url.eu-west-1.on.aws"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_folder(tmp_path_factory.mktemp("search-lambda"))


def event(path: str, query: str = "", method: str = "GET") -> dict[str, Any]:
    """A function URL event as AWS delivers it (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": DOMAIN, "origin": "https://example.org", "accept": "*/*"},
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        or None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnop",
            "domainName": DOMAIN,
            "domainPrefix": "abcdefghijklmnop",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": "c0ffee00-0000-4000-8000-000000000000",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:17:00:00 +0000",
            "timeEpoch": 1796317200000,
        },
        "isBase64Encoded": False,
    }


@pytest.fixture
def call(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PIPELINE_SEARCH_INDEX", str(folder))
    monkeypatch.delenv("PIPELINE_SEARCH_ROOT_PATH", raising=False)

    def call(path: str, query: str = "", method: str = "GET") -> tuple[int, dict[str, str], Any]:
        response = aws_lambda.handler(event(path, query, method), None)
        assert response["isBase64Encoded"] is False
        body = json.loads(response["body"]) if response["body"] else None
        return response["statusCode"], response["headers"], body

    return call


def test_search1_with_cors_and_links_on_the_function_url(call: Any) -> None:
    status, headers, body = call("/vol-1/search1", "q=%EB%A0%A5%EC%82%AC")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Content-Type"].startswith("application/json")
    assert body["@id"].startswith(f"https://{DOMAIN}/vol-1/search1?q=")
    assert body["within"]["total"] >= 3
    assert body["resources"][0]["on"].startswith("https://example.org/iiif/vol-1/canvas/")


def test_unencoded_query_of_mirador_400(call: Any) -> None:
    _, _, body = call("/vol-1/search1", "q=%EB%A1%9C%EB%8F%99&%EB%A0%A5%EC%82%AC")
    assert any(h["match"].startswith("로동&amp;력사") for h in body["hits"]), body["hits"]


def test_collection_and_autocomplete(call: Any) -> None:
    status, _, body = call("/search2", "q=%EB%A1%9C%EB%8F%99")
    assert status == 200 and body["partOf"]["total"] == len(body["annotations"][0]["items"])
    _, _, terms = call("/vol-2/autocomplete2", "q=%EB%A1%9C")
    assert terms["type"] == "TermPage" and terms["items"]


def test_behind_cloudfront_under_a_path(call: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_SEARCH_ROOT_PATH", "/search")
    status, _, body = call("/search/vol-1/search2", "q=%EB%A0%A5%EC%82%AC")
    assert status == 200
    assert body["id"].startswith(f"https://{DOMAIN}/search/vol-1/search2?q=")


@pytest.mark.parametrize(
    ("path", "query", "method", "status"),
    [
        pytest.param("/vol-1/search1", "q=" + "%EA%B0%80" * 1001, "GET", 400, id="too-long"),
        pytest.param("/vol-1/search1", "q=%C3%28", "GET", 400, id="not-utf8"),
        pytest.param("/nope/search1", "q=x", "GET", 404, id="no-volume"),
        pytest.param("/vol-1/search1", "q=x", "POST", 405, id="post"),
        pytest.param("/vol-1/search1", "", "GET", 200, id="no-q"),
    ],
)
def test_bad_input(call: Any, path: str, query: str, method: str, status: int) -> None:
    got, _, body = call(path, query, method)
    assert got == status, body
    if status != 200:
        assert body["error"]


def test_options_preflight_and_head(call: Any) -> None:
    status, headers, body = call("/vol-1/search1", "q=x", "OPTIONS")
    assert status == 204 and body is None
    assert "GET" in headers["Access-Control-Allow-Methods"]
    status, _, body = call("/vol-1/search1", "q=x", "HEAD")
    assert status == 200 and body is None


def test_missing_index_folder_answers_404(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_SEARCH_INDEX", str(tmp_path / "absent"))
    response = aws_lambda.handler(event("/vol-1/search1", "q=x"), None)
    assert response["statusCode"] == 404
    assert "no search service" in json.loads(response["body"])["error"]
