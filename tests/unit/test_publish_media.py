"""Content types, cache headers and object kinds of published files; target parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import CacheControlConfig, PublishConfig
from pipeline.errors import ConfigError
from pipeline.layout import Layout, object_kind, page_of
from pipeline.publish.media import IMAGE_JSON, PRESENTATION_JSON, cache_control, content_type
from pipeline.publish.targets import DirTarget, S3Target, open_target


@pytest.mark.parametrize(
    ("rel", "kind", "ctype"),
    [
        pytest.param("collection.json", "manifests", PRESENTATION_JSON, id="collection"),
        pytest.param("v1/manifest.json", "manifests", PRESENTATION_JSON, id="manifest"),
        pytest.param("v1/images/p1/info.json", "info", IMAGE_JSON, id="info"),
        pytest.param(
            "v1/images/p1/0,0,512,512/512,/0/default.jpg", "tiles", "image/jpeg", id="tile"
        ),
        pytest.param("v1/images/p1/full/max/0/default.jpg", "tiles", "image/jpeg", id="full"),
        pytest.param("v1/annotations/p1.json", "annotations", PRESENTATION_JSON, id="annos"),
        pytest.param("v1/ocr/p1.alto.xml", "ocr", "application/xml", id="alto"),
        pytest.param("v1/ocr/p1.hocr", "ocr", "text/html;charset=utf-8", id="hocr"),
        pytest.param("v1/ocr/p1.txt", "ocr", "text/plain;charset=utf-8", id="page-text"),
        pytest.param("v1/v1.txt", "ocr", "text/plain;charset=utf-8", id="volume-text"),
        pytest.param("v1/v1.pdf", "other", "application/pdf", id="pdf"),
        pytest.param("v1/notes.json", "other", "application/json", id="other-json"),
    ],
)
def test_kind_and_content_type(rel: str, kind: str, ctype: str) -> None:
    assert object_kind(rel) == kind
    assert content_type(rel) == ctype


def test_cache_control_per_kind() -> None:
    policy = CacheControlConfig(tiles="max-age=1", manifests="max-age=2", info="max-age=3")
    assert cache_control("v/images/p/full/max/0/default.jpg", policy) == "max-age=1"
    assert cache_control("v/manifest.json", policy) == "max-age=2"
    assert cache_control("collection.json", policy) == "max-age=2"
    assert cache_control("v/images/p/info.json", policy) == "max-age=3"


@pytest.mark.parametrize(
    ("rel", "page"),
    [
        ("v/images/p001/info.json", "p001"),
        ("v/ocr/p001.alto.xml", "p001"),
        ("v/ocr/p.1.hocr", "p.1"),
        ("v/annotations/p002.json", "p002"),
        ("v/manifest.json", None),
        ("v/v.txt", None),
    ],
)
def test_page_of(rel: str, page: str | None) -> None:
    assert page_of(rel) == page


def test_published_rels_skip_hidden_and_removed_pages(tmp_path: Path) -> None:
    layout = Layout(out=tmp_path, base_url="https://example.org/iiif/")
    for rel in (
        "v/manifest.json",
        "v/images/p1/info.json",
        "v/images/p2/info.json",
        "v/ocr/p2.txt",
        "v/.tmp-x/info.json",
        "v/images/p1/.tmp-info.json-1",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    assert layout.published_rels("v", {"p1"}) == ["v/images/p1/info.json", "v/manifest.json"]
    assert len(layout.published_rels("v")) == 4


def test_targets(tmp_path: Path) -> None:
    cfg = PublishConfig()
    s3 = open_target("s3://my-bucket/a/b/", cfg, out=tmp_path / "out")
    assert isinstance(s3, S3Target) and s3.prefix == "a/b/" and s3.ident == "s3://my-bucket/a/b/"
    assert open_target("s3://my-bucket", cfg, out=tmp_path / "out").prefix == ""
    folder = open_target(str(tmp_path / "site"), cfg, out=tmp_path / "out")
    assert isinstance(folder, DirTarget) and folder.prefix == ""
    for bad in ("s3://B", "http://x/y", str(tmp_path / "out" / "site"), str(tmp_path)):
        with pytest.raises(ConfigError):
            open_target(bad, cfg, out=tmp_path / "out")


def test_endpoint_url_must_not_carry_credentials() -> None:
    with pytest.raises(ValueError, match="credentials"):
        PublishConfig(endpoint_url="https://key:secret@s3.example.org")
