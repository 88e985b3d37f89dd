"""The collection's search page on the target: uploaded, replaced, pruned, checked like the rest.

A real run (generated pages, tesseract, the index stage) makes ``search.html``; it goes to a
real S3 API server process (moto) on 127.0.0.1 and to a folder target.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive.fixity import COLLECTION, verify
from pipeline.config import Config
from pipeline.publish.job import publish
from pipeline.publish.media import content_type
from pipeline.run.job import run_job
from pipeline.samples import generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import (
    assert_clean_exit,
    config_at,
    have_nanum_fonts,
    have_tesseract,
    invoke,
    require,
)
from tests.integration.test_publish import Calls, bucket_keys
from tests.s3server import S3Server

pytestmark = [pytest.mark.s3, pytest.mark.tesseract, pytest.mark.slow]

PAGE = "search.html"


class Listings(Calls):
    """The S3 operations of a publish, with the prefix each listing asked for."""

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, params.get("Key", params.get("Prefix"))))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One volume of one generated page, OCR'd and indexed: its collection has a search page."""
    require(have_nanum_fonts(), "fonts-nanum not installed")
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    root = tmp_path_factory.mktemp("publish-search")
    generate_volume(
        root / "scans", volume_id="vol-1", pages=1, seed=3, fonts=["print"], conditions=["clean"]
    )
    report = run_job(config_at(root))
    assert not report.failures, [f.error for f in report.failures]
    assert (root / "out" / PAGE).is_file()
    return root


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    """A copy of the built folders, for a test to change."""
    shutil.copytree(built, tmp_path / "site", symlinks=True)
    return tmp_path / "site"


def cfg_at(root: Path, server: S3Server | None = None, **sections: Any) -> Config:
    publish_section = {"endpoint_url": server.endpoint} if server else {}
    return config_at(root, publish=publish_section, **sections)


def rebuild(root: Path, **sections: Any) -> None:
    report = run_job(config_at(root, **sections))
    assert not report.failures, [f.error for f in report.failures]


def test_s3_uploads_replaces_and_prunes_the_page(root: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    cfg = cfg_at(root, s3_server)
    report = publish(cfg, to=f"s3://{bucket}/site", session=Calls().session)
    assert not report.failures and report.published == ["vol-1"], report.failures
    key = f"site/{PAGE}"
    got = s3_server.client().get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == (root / "out" / PAGE).read_bytes()
    assert got["ContentType"] == content_type(PAGE) == "text/html;charset=utf-8"
    assert got["CacheControl"] == cfg.publish.cache_control.other

    again = Calls()
    publish(cfg, to=f"s3://{bucket}/site", session=again.session)
    assert again.count("PutObject") == 0  # unchanged: not sent again

    # A new search URL changes the page (and the manifest): both go up again.
    rebuild(root, search={"url": "https://search.example.net/"})
    changed = Calls()
    report = publish(cfg_at(root, s3_server), to=f"s3://{bucket}/site", session=changed.session)
    assert not report.failures, report.failures
    assert key in changed.keys("PutObject")
    body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert b"https://search.example.net/search2" in body

    # No volume has text any more: the page is gone locally, pruned only with --delete.
    rebuild(root, ocr={"enabled": False})
    assert not (root / "out" / PAGE).exists()
    report = publish(cfg_at(root, s3_server), to=f"s3://{bucket}/site", session=Calls().session)
    assert not report.failures and key in bucket_keys(s3_server, bucket)
    assert any("no longer belong" in note for note in report.notes), report.notes
    pruning = Listings()
    report = publish(
        cfg_at(root, s3_server), to=f"s3://{bucket}/site", delete=True, session=pruning.session
    )
    assert not report.failures, report.failures
    assert key not in bucket_keys(s3_server, bucket)
    assert f"site/{cfg.collection.id}.json" in bucket_keys(s3_server, bucket)
    # The collection's objects are not a volume's scope (that would list the whole target).
    assert sorted(pruning.keys("ListObjectsV2")) == [
        f"site/{cfg.collection.id}.json",
        "site/vol-1/",
    ]
    assert "" not in report.published + report.current


def test_folder_target_and_verify_know_the_page(root: Path, tmp_path: Path) -> None:
    cfg = cfg_at(root)
    layout = layout_for(cfg)
    with StateStore(layout.state_db) as state:
        checked = verify(state, layout, cfg.site.scans)
    assert not checked.problems
    assert checked.volumes[COLLECTION]["derivatives"] == 2  # the collection and the page
    site = tmp_path / "www"
    report = publish(cfg, to=str(site))
    assert not report.failures, report.failures
    assert (site / PAGE).read_bytes() == (layout.out / PAGE).read_bytes()

    # Edited by hand after the build: verify names it, and publish refuses it as the collection's.
    (layout.out / PAGE).write_text("<p>edited</p>", encoding="utf-8")
    with StateStore(layout.state_db) as state:
        checked = verify(state, layout, cfg.site.scans)
    assert [(p.volume, p.path) for p in checked.problems] == [("", PAGE)]
    report = publish(cfg, to=str(site))
    assert [subject for subject, _ in report.failures] == ["collection"], report.failures
    assert PAGE in report.failures[0][1]
    assert b"edited" not in (site / PAGE).read_bytes()
    assert report.published == [] and report.current == ["vol-1"]


def test_check_and_bag_are_not_confused_by_the_page(root: Path, tmp_path: Path) -> None:
    result = invoke(root, "check")
    assert_clean_exit(result, 0)
    bag = tmp_path / "bag"
    result = invoke(root, "export-bag", "vol-1", str(bag), "--source-organization", "Archive")
    assert_clean_exit(result, 0)
    assert (bag / "bagit.txt").is_file() and not list(bag.rglob(PAGE))
