"""Search services in manifests: declared for a volume with an index only, at search.url."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.stages.spec import VolumeInput
from tests.manifest_samples import (
    build_manifest,
    check_presentation,
    full_volume,
    layout,
    make_config,
    volume_input,
)


def _without_index(inp: VolumeInput) -> VolumeInput:
    upstream = inp.upstream.model_copy(update={"index": None})
    return dataclasses.replace(inp, upstream=upstream)


def _services(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("service", []))


def test_a_volume_with_an_index_declares_search_1_and_2() -> None:
    data = build_manifest(full_volume(layout()), make_config())
    check_presentation(data)
    one, two = _services(data)
    # Mirador 4 finds the service by this profile, and its autocomplete nested inside.
    assert one["profile"] == "http://iiif.io/api/search/1/search"
    assert one["service"][0]["profile"] == "http://iiif.io/api/search/1/autocomplete"
    assert two["type"] == "SearchService2"
    assert two["service"][0]["type"] == "AutoCompleteService2"
    assert one["@id"] == "https://example.org/iiif/search/vol-1/search1"


def test_no_index_no_service() -> None:
    data = build_manifest(_without_index(full_volume(layout())), make_config())
    assert "service" not in data
    bare = volume_input("vol-2", list(full_volume(layout()).pages))
    assert "service" not in build_manifest(bare, make_config())


def test_search_url_is_configured() -> None:
    cfg = make_config()
    cfg = cfg.model_copy(
        update={"search": cfg.search.model_copy(update={"url": "https://fn.example.org/x/"})}
    )
    one, two = _services(build_manifest(full_volume(layout()), cfg))
    assert one["@id"] == "https://fn.example.org/x/vol-1/search1"
    assert two["id"] == "https://fn.example.org/x/vol-1/search2"


@pytest.mark.parametrize("url", ["ftp://x.org/", "https://x.org/?q=1", "not a url"])
def test_bad_search_url_is_a_config_error(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[search]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="search.url"):
        load_config(path)
