"""A volume folder named where the site keeps something else: refused before work, by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from pipeline.siteurl import reserved_volume_ids
from tests.conftest import BASE_URL, assert_clean_exit, config_at, invoke


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working folder: nothing of the repository's config/ is read."""
    monkeypatch.chdir(tmp_path)


def scans(root: Path, *volumes: str) -> None:
    for vid in volumes:
        folder = root / "scans" / vid
        folder.mkdir(parents=True)
        xyz = pyvips.Image.xyz(240, 180)
        ((xyz[0] * 3 + xyz[1] * 5) % 256).cast("uchar").write_to_file(str(folder / "p01.tif"))


@pytest.mark.parametrize(
    ("volume", "search_url", "holder"),
    [
        pytest.param(
            "search",
            None,
            f"the search services (search.url = {BASE_URL}search/, the default)",
            id="default-search-url",
        ),
        pytest.param(
            "find",
            f"{BASE_URL}find/api",
            f"the search services (search.url = {BASE_URL}find/api/)",
            id="configured-search-url",
        ),
        pytest.param(
            "search2",
            BASE_URL,
            f"the collection's search service (search.url = {BASE_URL})",
            id="search-url-is-the-base",
        ),
        pytest.param("search.html", None, "the search page", id="search-page"),
        pytest.param(
            "collection.json",
            None,
            "the collection document (collection.id = 'collection')",
            id="collection-document",
        ),
    ],
)
def test_colliding_volume_is_refused_by_name(
    tmp_path: Path, volume: str, search_url: str | None, holder: str
) -> None:
    scans(tmp_path, volume, "vol-2")
    env = {"PIPELINE_OCR__ENABLED": "false"}
    if search_url is not None:
        env["PIPELINE_SEARCH__URL"] = search_url
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest", env=env)
    assert_clean_exit(result, 1)
    line = next(x for x in result.output.splitlines() if x.startswith(f"error: {volume} "))
    assert f"volume {volume!r}: its URL {BASE_URL}{volume}/ is taken by {holder}" in line
    assert "rename the folder" in line
    assert ("or set search.url elsewhere" in line) == ("search.url" in holder)
    assert "done: 1 ok, 1 failed" in result.output  # vol-2 went on
    assert not (tmp_path / "out" / volume).exists()  # nothing of it was built


def test_search_elsewhere_frees_the_name(tmp_path: Path) -> None:
    scans(tmp_path, "search")
    env = {"PIPELINE_OCR__ENABLED": "false", "PIPELINE_SEARCH__URL": "https://s.example.net/"}
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest", env=env)
    assert_clean_exit(result, 0)


def test_a_search_url_off_the_site_reserves_only_the_top_level_files(tmp_path: Path) -> None:
    cfg = config_at(tmp_path, search={"url": "https://s.example.net/x/"})
    assert sorted(reserved_volume_ids(cfg)) == ["collection.json", "search.html"]
