"""Searching in Mirador 4.0.0 and on the search page, in real Chromium, through `pipeline serve`.

The batch: two generated volumes (invented biographies in North Korean spelling), OCR'd by
tesseract and indexed by the pipeline, built for https://example.org/iiif/ and previewed by a
real `pipeline serve` process. vol-1 holds 력사 once and the teacher 리정숙; vol-2 holds 로동 on
three lines (two pages) and the worker 김철민.

The drivers (viewer/mirador-search.mjs, viewer/search-page-check.mjs) type into Mirador's own
search box and into the search page, and report what Mirador asked for, listed and selected.
Mirador 4.0.0 (the npm release) sends a query typed into its box form-encoded
(``URLSearchParams``) and a window's ``defaultSearchQuery`` unencoded; both are exercised.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.run.job import run_job
from tests.conftest import (
    VIEWER,
    artifact_path,
    config_at,
    require_mirador_tools,
)
from tests.integration.test_serve_mirador import pipeline_serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.tesseract]

# Logged by React 19 inside Mirador 4.0.0's own bundle on start-up; not about our documents.
REACT_REF = r"Accessing element\.ref was removed in React 19"
# Mirador 4.0.0 runs a window's defaultSearchQuery twice (its saga asks `?q=<as typed>`, the
# search panel then `?<URLSearchParams>`), keeps both answers and lists their hits under the
# same React keys. Only the search page (which opens Mirador with defaultSearchQuery) sees it.
DOUBLE_DEFAULT_SEARCH = r"Encountered two children with the same key"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_mirador_tools()
    from pipeline.samples.generate import generate_volume

    tmp = tmp_path_factory.mktemp("search-mirador")
    for seed, volume in enumerate(("vol-1", "vol-2"), start=1):
        generate_volume(
            tmp / "scans", volume_id=volume, pages=4, seed=seed,
            fonts=["print"], conditions=["clean"],
        )  # fmt: skip
    report = run_job(config_at(tmp))
    assert not report.failures, [f.error for f in report.failures]
    return tmp / "out"


def drive(script: str, tmp: Path, shot: str, *args: str) -> dict[str, Any]:
    chromium, node = require_mirador_tools()
    argv = [node, str(VIEWER / script), *args,
            "--screenshot", str(artifact_path(tmp, shot)), "--chromium", chromium,
            "--profile", str(tmp / "chromium-profile")]  # fmt: skip
    proc = subprocess.run(argv, cwd=VIEWER, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def errors(result: dict[str, Any], *known: str) -> list[str]:
    noise = re.compile("|".join([REACT_REF, *known]))
    return [e for e in result["errors"] if not noise.search(e)]


def lines(search: dict[str, Any]) -> list[str]:
    """The annotation (line) ids of a search's hits, in Mirador's order."""
    return [h["annotations"][0] for h in search["hits"]]


def test_mirador_searches_north_and_south_spelling_and_romanized_names(
    site: Path, tmp_path: Path
) -> None:
    queries = ["력사", "역사", "력사&", "력사 +", "#력사", "Ri Jong Suk", "Ri Ch'ŏng-suk"]
    with pipeline_serve(site, tmp_path) as srv:
        result = drive(
            "mirador-search.mjs", tmp_path, "mirador-search-vol-1.png",
            "--page", f"{srv.url}_view/vol-1", "--queries", json.dumps(queries),
        )  # fmt: skip
    assert errors(result) == []
    assert result["searchTab"], "Mirador shows no search: it did not find the service"
    found = {s["query"]: s for s in result["searches"]}
    north = found["력사"]
    # Asked of the preview server at the URL the manifest declares (pointed at the server).
    assert north["requests"] == [f"{srv.url}search/vol-1/search1?q=%EB%A0%A5%EC%82%AC"]
    assert north["error"] is None and north["total"] == 1
    assert [s for s in north["shown"] if "력사" in s], north["shown"]
    # The South Korean spelling, and the query with &, + and # (sent as Mirador sends them:
    # %26, %2B, %23, and + for the space), list the same hit.
    for query in ("역사", "력사&", "력사 +", "#력사"):
        assert lines(found[query]) == lines(north), query
    assert found["력사 +"]["requests"][0].endswith("?q=%EB%A0%A5%EC%82%AC+%2B")
    assert found["#력사"]["requests"][0].endswith("?q=%23%EB%A0%A5%EC%82%AC")
    # The teacher's name as catalogues write it (DPRK style, McCune-Reischauer) finds 리정숙.
    for query in ("Ri Jong Suk", "Ri Ch'ŏng-suk"):
        shown = found[query]["shown"]
        assert found[query]["total"] == 2 and [s for s in shown if "리정숙" in s], (query, shown)


def test_clicking_a_hit_goes_to_its_canvas_and_highlights_the_box(
    site: Path, tmp_path: Path
) -> None:
    with pipeline_serve(site, tmp_path) as srv:
        result = drive(
            "mirador-search.mjs", tmp_path, "mirador-search-click.png",
            "--page", f"{srv.url}_view/vol-2", "--queries", json.dumps(["로동", "Kim Chol Min"]),
            "--click", "2",
        )  # fmt: skip
    assert errors(result) == []
    search = result["searches"][0]
    assert search["total"] == 3 and len([s for s in search["shown"] if "로동" in s]) == 3
    # Mirador went to the first hit's canvas when the answer came; the third is on the next.
    assert search["canvasId"] == f"{srv.url}vol-2/canvas/p001"
    clicked = result["clicked"]
    third = search["resources"][2]
    assert clicked["selected"] == [third["id"]]
    assert clicked["canvasId"] == third["on"].split("#")[0] == f"{srv.url}vol-2/canvas/p002"
    # The box is drawn: the annotation overlay, empty before any search, is painted now.
    assert result["overlayBefore"] == 0 and clicked["overlay"] > 0
    name = result["searches"][1]
    assert name["total"] == 2 and [s for s in name["shown"] if "김철민" in s], name["shown"]


def test_search_page_lists_hits_by_volume_and_opens_mirador_at_the_hit(
    site: Path, tmp_path: Path
) -> None:
    with pipeline_serve(site, tmp_path) as srv:
        result = drive(
            "search-page-check.mjs", tmp_path, "search-page.png",
            "--page", f"{srv.url}search.html", "--query", "노동", "--click", "3",
        )  # fmt: skip
    assert errors(result, DOUBLE_DEFAULT_SEARCH) == []
    assert f"Search: {srv.url}search.html (services under {srv.url}search/)" in srv.stderr
    # 노동 (South) finds 로동 (North) in both volumes, grouped under each volume's label.
    labels = {}
    for volume in ("vol-1", "vol-2"):
        manifest = json.loads((site / volume / "manifest.json").read_text(encoding="utf-8"))
        labels[volume] = manifest["label"]["ko"][0]  # the page shows Korean first
    headings = [v["heading"] for v in result["volumes"]]
    assert headings == [f"{labels['vol-1']} (1)", f"{labels['vol-2']} (3)"]
    hits = [h for v in result["volumes"] for h in v["hits"]]
    assert [h["marked"] for h in hits] == ["로동"] * 4
    assert result["status"].startswith("4 hits in 2 volumes")
    assert result["searchRequests"][0] == f"{srv.url}search/search2?q=%EB%85%B8%EB%8F%99"
    # The fourth hit is on vol-2's second page: Mirador opened there, query run, hit selected.
    mirador = result["mirador"]
    assert mirador["manifestId"] == f"{srv.url}vol-2/manifest.json"
    assert mirador["canvasId"] == hits[3]["canvas"] == f"{srv.url}vol-2/canvas/p002"
    assert mirador["query"] == "노동" and mirador["total"] == 3
    on = {r["id"]: r["on"] for r in mirador["resources"]}
    assert [on[a].split("#")[0] for a in mirador["selected"]] == [hits[3]["canvas"]]
    assert mirador["overlay"] > 0
    assert "canvas=" in result["url"] and "manifest=" in result["url"]
