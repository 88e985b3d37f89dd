"""The CLI for reruns and scripts: the remembered base URL, JSON output, exit codes, log lines."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.layout import Layout
from pipeline.lock import job_lock
from pipeline.samples.generate import generate_volume
from pipeline.state import StateStore
from tests.conftest import BASE_URL, assert_clean_exit, have_nanum_fonts, require, run_cli

URL1 = "https://iiif.example.org/first/"
URL2 = "https://iiif.example.net/second/"
NO_OCR = {"PIPELINE_OCR__ENABLED": "false"}
TITLED = {
    "PIPELINE_COLLECTION__LABEL": '{ en = "Letters" }',
    "PIPELINE_COLLECTION__PROVIDER": '{ id = "https://library.example/", label = "Library" }',
}
LABELLED = {**NO_OCR, **TITLED}


def _site(root: Path) -> list[str]:
    return ["--scans", str(root / "scans"), "--out", str(root / "out"), "-j", "1"]


def _records(root: Path) -> dict[tuple[str, str, str], str]:
    with StateStore(root / "out" / ".pipeline" / "state.sqlite") as state:
        return {(r.volume, r.page, r.stage): r.to_json() for r in state.records()}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.tesseract
@pytest.mark.slow
def test_the_base_url_a_site_was_built_for_is_remembered(
    tmp_path: Path, tesseract_kor: None
) -> None:
    require(have_nanum_fonts(), "fonts-nanum not installed")
    generate_volume(tmp_path / "scans", volume_id="vol", pages=1, width=600, height=800)
    site = _site(tmp_path)
    out = tmp_path / "out"
    first = run_cli("run", *site, "--base-url", URL1, env=TITLED)
    assert_clean_exit(first, 0)
    built = _records(tmp_path)

    # No base URL given: the recorded one, so nothing is rebuilt, checked or published wrongly.
    again = run_cli("run", *site, env=TITLED)
    assert_clean_exit(again, 0)
    assert "base URL" not in again.output
    assert _records(tmp_path) == built
    manifest = out / "vol" / "manifest.json"
    assert _json(manifest)["id"] == f"{URL1}vol/manifest.json"
    checked = run_cli("check", "--scans", str(tmp_path / "scans"), "--out", str(out))
    assert_clean_exit(checked, 0)
    assert checked.output == "checked 1 image service: 0 missing URLs, 0 other problems\n"
    published = run_cli("publish", "--out", str(out), "--to", str(tmp_path / "pub"), "--quiet")
    assert_clean_exit(published, 0)
    assert (tmp_path / "pub" / "vol" / "manifest.json").read_bytes() == manifest.read_bytes()

    # A different base URL: said, and every output holding URLs is rebuilt; OCR is not rerun.
    moved = run_cli("run", *site, "--base-url", URL2, env=TITLED)
    assert_clean_exit(moved, 0)
    assert (
        f"WARNING: base URL changes from {URL1} to {URL2}: every output that holds URLs is "
        "rebuilt (stages: tiles, annotations, index, manifest, collection); the other stages' "
        "results are kept\n"
    ) in moved.output
    after = _records(tmp_path)
    changed = {stage for key, stage in ((k, k[2]) for k in after) if after[key] != built[key]}
    # The PDF follows the tiles records (new service ids) and is written again, the same bytes;
    # the search index holds canvas ids, so it is rebuilt for the new URL.
    assert changed == {"tiles", "annotations", "index", "pdf", "manifest", "collection"}
    assert _json(out / "vol" / "images" / "p001" / "info.json")["id"] == f"{URL2}vol/images/p001"
    assert _json(manifest)["id"] == f"{URL2}vol/manifest.json"
    assert_clean_exit(run_cli("check", "--out", str(out)), 0)

    # Asking a command that reads the built site for another URL is refused, not "all broken".
    for command in ("check", "publish"):
        refused = run_cli(command, "--out", str(out), "--base-url", URL1)
        assert_clean_exit(refused, 2)
        assert refused.output == (
            f"error: --base-url: {out} was built for {URL2}, not {URL1}; rebuild it for the new "
            f"URL first ('pipeline run --base-url {URL1}'), or leave the base URL unset to use "
            "the recorded one\n"
        )
    refused = run_cli("check", "--out", str(out), env={"PIPELINE_SITE__BASE_URL": URL1})
    assert_clean_exit(refused, 2)
    assert refused.output.startswith(f"error: PIPELINE_SITE__BASE_URL: {out} was built for ")


@pytest.mark.tesseract
@pytest.mark.slow
def test_pages_held_for_review_are_named_with_their_master_file(
    tmp_path: Path, tesseract_kor: None
) -> None:
    require(have_nanum_fonts(), "fonts-nanum not installed")
    generate_volume(tmp_path / "scans", volume_id="vol", pages=1, width=600, height=800)
    site = [*_site(tmp_path), "--base-url", BASE_URL]
    result = run_cli("run", *site, "--json", env=TITLED)
    assert_clean_exit(result, 0)
    doc = json.loads(result.stdout)
    reports = tmp_path / "out" / ".pipeline" / "reports"
    [held] = doc["needs_review"]
    [page] = held["pages"]
    assert held == {
        "volume": "vol",
        "pages": [
            {"page": "p001", "file": "p001.tif", "confidence": page["confidence"],
             "published": True},
        ],
        "list": str(reports / "vol-review.csv"),
    }  # fmt: skip
    assert page["confidence"] < 85
    line = f"p001 (p001.tif, {page['confidence']})"
    assert (
        f"needs review (low OCR confidence): vol: 1 page: {line}; list: "
        f"{reports / 'vol-review.csv'}\n"
    ) in result.output
    status = run_cli("status", *site[:4])
    assert_clean_exit(status, 0)
    assert f"\n  needs review (low OCR confidence): 1 page: {line}\n" in status.output
    assert f"needs review: {line}" in (reports / "vol.html").read_text(encoding="utf-8")


@pytest.fixture
def mixed(make_scan: Callable[..., Path], tmp_path: Path) -> list[str]:
    """vol-a with two good pages, vol-b with one good page and one that is not an image."""
    make_scan("vol-a/p1.tif", 300, 400)
    make_scan("vol-a/p2.tif", 310, 400)
    make_scan("vol-b/p1.tif", 300, 400)
    (tmp_path / "scans" / "vol-b" / "p2.tif").write_bytes(b"not an image")
    return [*_site(tmp_path), "--base-url", BASE_URL]


@pytest.mark.slow
def test_run_json_is_the_run_summary(mixed: list[str], tmp_path: Path) -> None:
    result = run_cli("run", *mixed, "--json", env=LABELLED)
    assert_clean_exit(result, 1)
    doc = json.loads(result.stdout)
    reports = tmp_path / "out" / ".pipeline" / "reports"
    vol_b = _json(reports / "vol-b.json")
    assert doc["status"] == "done" and doc["exit_code"] == 1
    assert doc["base_url"] == BASE_URL
    started, finished = (
        datetime.fromisoformat(doc["started"]),
        datetime.fromisoformat(doc["finished"]),
    )
    assert started.tzinfo is not None and started <= finished
    assert doc["reports"] == [str(reports / "vol-a.json"), str(reports / "vol-b.json")]

    def key(f: dict[str, Any]) -> tuple[str, str]:
        return f["stage"], f["page"]

    fields = ("page", "file", "stage", "error", "error_type")
    from_report = [{k: f[k] for k in fields} | {"volume": "vol-b"} for f in vol_b["failures"]]
    assert sorted(doc["failures"], key=key) == sorted(from_report, key=key)
    assert [(f["stage"], f["page"]) for f in doc["failures"]] == [
        ("ingest", "p2"),
        ("manifest", ""),
    ]
    assert doc["failed_volumes"] == [
        {
            "volume": "vol-b",
            "failures": 2,
            "report": str(reports / "vol-b.json"),
            "html": str(reports / "vol-b.html"),
        }
    ]
    assert doc["counts"]["failed"] == 2 and doc["counts"]["current"] == 0
    assert doc["needs_review"] == [] and doc["internal_errors"] == 0
    assert doc["log"] == str(tmp_path / "out" / ".pipeline" / "job.log")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: vol-b/p2.tif [ingest]: ")
    assert lines[-2] == f"report of vol-b (2 failures): {reports / 'vol-b.html'}"
    assert lines[-1].startswith("done: ")
    assert f"; reports: {reports}" in lines[-1]


@pytest.mark.slow
def test_status_exit_code_running_job_and_collection(mixed: list[str], tmp_path: Path) -> None:
    assert_clean_exit(run_cli("run", *mixed, env=LABELLED), 1)
    status = run_cli("status", *mixed[:4])
    assert_clean_exit(status, 1)
    assert "collection: ok: 1 volume in collection.json\n" in status.output
    assert "a job is running" not in status.output
    assert_clean_exit(run_cli("status", *mixed[:4], "--json"), 1)

    (tmp_path / "scans" / "vol-b" / "p2.tif").unlink()
    assert_clean_exit(run_cli("run", *mixed, env=LABELLED), 0)
    status = run_cli("status", *mixed[:4])
    assert_clean_exit(status, 0)
    assert "collection: ok: 2 volumes in collection.json\n" in status.output

    layout = Layout(out=tmp_path / "out", base_url=BASE_URL)
    with job_lock(layout):
        status = run_cli("status", *mixed[:4])
        data = run_cli("status", *mixed[:4], "--json")
    assert_clean_exit(status, 0)
    assert status.output.startswith(
        f"a job is running on {tmp_path / 'out'} (pid {os.getpid()}, started "
    )
    assert json.loads(data.stdout)["running"].startswith(f"pid {os.getpid()}, started ")


@pytest.mark.slow
def test_verbose_run_without_a_terminal_logs_each_page_and_stage(
    make_scan: Callable[..., Path], tmp_path: Path
) -> None:
    make_scan("vol/p1.tif", 300, 400)
    result = run_cli("run", *_site(tmp_path), "--base-url", BASE_URL, "-v", env=LABELLED)
    assert_clean_exit(result, 0)
    lines = result.output.splitlines()
    for line in (
        r"INFO: ingest vol/p1: ok in \d+\.\d\d s",
        r"INFO: tiles vol/p1: ok in \d+\.\d\d s",
        r"INFO: manifest vol: ok in \d+\.\d\d s",
        r"INFO: collection: ok in \d+\.\d\d s",
        r"INFO: tiles: 1 run, 0 up to date, of 1 in \d+\.\d\d s",
    ):
        assert any(re.fullmatch(line, got) for got in lines), line
    # Without -v the lines stay off stderr but reach the job log.
    quiet = run_cli("run", *_site(tmp_path), "--base-url", BASE_URL, env=LABELLED)
    assert_clean_exit(quiet, 0)
    assert "INFO" not in quiet.output
    log = (tmp_path / "out" / ".pipeline" / "job.log").read_text(encoding="utf-8")
    assert re.search(r" INFO pipeline\.run\.progress: tiles: 0 run, 1 up to date, of 1 in ", log)


@pytest.mark.slow
def test_check_json_and_the_html_report(make_scan: Callable[..., Path], tmp_path: Path) -> None:
    make_scan("vol/p1.tif", 300, 400)
    site = [*_site(tmp_path), "--base-url", BASE_URL]
    built = run_cli("run", *site, env=NO_OCR)
    assert_clean_exit(built, 0)
    assert (
        "WARNING: [collection] collection.label is the default title 'Collection': name the "
        'collection in the configuration file ([collection] label = { en = "...", ko = "..." })\n'
    ) in built.output
    html = (tmp_path / "out" / ".pipeline" / "reports" / "vol.html").read_text(encoding="utf-8")
    assert "<li>p1 [tiles]: 0 missing</li>" in html and "{&#x27;" not in html

    full = tmp_path / "out" / "vol" / "images" / "p1" / "full" / "max" / "0" / "default.jpg"
    full.unlink()
    result = run_cli("check", *site[:4], "--json")
    assert_clean_exit(result, 1)
    doc = json.loads(result.stdout)
    assert doc["missing"] == [f"{BASE_URL}vol/images/p1/full/max/0/default.jpg"]
    assert doc["problems"] == [] and doc["services"] == 1 and doc["base_url"] == BASE_URL
    assert datetime.fromisoformat(doc["checked"]).tzinfo is not None
    assert result.stderr == "checked 1 image service: 1 missing URL, 0 other problems\n"
    plain = run_cli("check", *site[:4])
    assert plain.stdout == f"{BASE_URL}vol/images/p1/full/max/0/default.jpg\n"
