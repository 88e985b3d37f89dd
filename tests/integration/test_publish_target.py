"""The target is the truth: a wiped bucket is restored, a damaged output folder is refused."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.publish.job import publish
from pipeline.siteurl import layout_for
from tests.conftest import assert_clean_exit, run_cli
from tests.integration import test_publish
from tests.integration.test_publish import (
    Calls,
    _endpoint_cfg,
    bucket_keys,
    cli_args,
    local_objects,
)
from tests.s3server import S3Server

pytestmark = [pytest.mark.s3]

build = test_publish.build


def _md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()


def _wipe(server: S3Server, bucket: str) -> None:
    client = server.client()
    keys = list(bucket_keys(server, bucket))
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    assert bucket_keys(server, bucket) == {}


def _a_tile(cfg: Config, volume: str = "vol-1") -> Path:
    out = layout_for(cfg).out
    return sorted((out / volume / "images" / "p001").rglob("default.jpg"))[-1]


def test_wiped_bucket_is_restored_and_said_so(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    env = s3_server.env()
    first = run_cli(*cli_args(cfg), "publish", "--quiet", "--to", f"s3://{bucket}", env=env)
    assert_clean_exit(first, 0)
    expected = local_objects(cfg)
    _wipe(s3_server, bucket)

    again = run_cli(*cli_args(cfg), "publish", "--quiet", "--to", f"s3://{bucket}", env=env)
    assert_clean_exit(again, 0)
    n = len(expected)
    summary = again.stderr.strip().splitlines()[-1]
    assert summary.startswith("done: 2 volume(s) published, 0 up to date, 0 failed; "), summary
    assert f"{n} object(s) uploaded (" in summary and f", {n} of them restored), 0 unchanged" in (
        summary
    )
    etags = bucket_keys(s3_server, bucket)
    assert set(etags) == set(expected)
    for key, path in expected.items():
        assert etags[key] == _md5(path), key


def test_lost_and_replaced_objects_are_put_back(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    expected = local_objects(cfg)
    client = s3_server.client()
    tile = _a_tile(cfg)
    lost = layout_for(cfg).rel(tile)
    # Another version of the same size (another machine, an old copy): only the ETag differs.
    other = next(k for k in expected if k.startswith("vol-2/images/") and k.endswith(".jpg"))
    size = expected[other].stat().st_size
    client.delete_object(Bucket=bucket, Key=lost)
    client.delete_object(Bucket=bucket, Key="vol-1/manifest.json")
    client.put_object(Bucket=bucket, Key=other, Body=b"x" * size, ContentType="image/jpeg")

    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=calls.session)
    assert not report.failures
    assert sorted(calls.keys("PutObject")) == sorted([lost, other, "vol-1/manifest.json"])
    assert report.uploaded == report.restored == 3
    assert sorted(report.published) == ["vol-1", "vol-2"]
    etags = bucket_keys(s3_server, bucket)
    for key in (lost, other, "vol-1/manifest.json"):
        assert etags[key] == _md5(expected[key]), key


def test_wiped_folder_target_is_restored(build, tmp_path: Path) -> None:
    cfg = build()
    site = tmp_path / "site"
    publish(cfg, to=str(site))
    expected = local_objects(cfg)
    shutil.rmtree(site / "vol-2")
    truncated = site / layout_for(cfg).rel(_a_tile(cfg))
    truncated.write_bytes(truncated.read_bytes()[:100])

    report = publish(cfg, to=str(site))
    assert not report.failures
    gone = [k for k in expected if k.startswith("vol-2/")]
    assert report.uploaded == report.restored == len(gone) + 1
    assert sorted(report.published) == ["vol-1", "vol-2"]
    for key, path in expected.items():
        assert (site / key).read_bytes() == path.read_bytes(), key


def test_folder_target_with_lost_records_copies_nothing_identical(build, tmp_path: Path) -> None:
    cfg = build()
    site = tmp_path / "site"
    publish(cfg, to=str(site))
    with sqlite3.connect(layout_for(cfg).state_db) as db:
        db.execute("DELETE FROM published")
    changed = site / "vol-1" / "manifest.json"
    changed.write_bytes(b"x" * changed.stat().st_size)  # same size, other bytes: hashed

    report = publish(cfg, to=str(site))
    assert not report.failures
    assert report.uploaded == 1 and report.restored == 0
    assert changed.read_bytes() == (layout_for(cfg).out / "vol-1" / "manifest.json").read_bytes()
    assert report.unchanged == len(local_objects(cfg)) - 1


@pytest.mark.parametrize("delete", [False, True], ids=["publish", "publish-delete"])
def test_locally_deleted_tile_refuses_the_volume(build, s3_server: S3Server, delete: bool) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    env = s3_server.env()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    before = bucket_keys(s3_server, bucket)
    tile = _a_tile(cfg)
    rel = layout_for(cfg).rel(tile)
    tile.unlink()

    args = ["publish", "--quiet", "--to", f"s3://{bucket}"] + (["--delete"] if delete else [])
    result = run_cli(*cli_args(cfg), *args, env=env)
    assert_clean_exit(result, 1)
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert error.startswith(f"error: vol-1 [publish]: {rel} [tiles]: missing: "), error
    assert "pipeline verify --repair" in error and "pipeline run" in error, error
    assert bucket_keys(s3_server, bucket) == before  # the published tile is still there
    assert "0 deleted" in result.stderr.strip().splitlines()[-1]


def test_locally_deleted_tile_on_an_empty_bucket(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    _a_tile(cfg).unlink()
    result = run_cli(
        *cli_args(cfg), "publish", "--quiet", "--to", f"s3://{bucket}", env=s3_server.env()
    )
    assert_clean_exit(result, 1)
    keys = set(bucket_keys(s3_server, bucket))
    assert not any(k.startswith("vol-1/") for k in keys)  # refused before any upload
    assert "vol-2/manifest.json" in keys
    assert "collection.json" not in keys  # it lists vol-1, which is not on the target


def test_changed_tile_refuses_the_volume(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    tile = _a_tile(cfg)
    rel = layout_for(cfg).rel(tile)
    published = _md5(tile)
    tile.write_bytes(b"not the tile the tiles stage wrote")

    result = run_cli(
        *cli_args(cfg), "publish", "--quiet", "--delete", "--to", f"s3://{bucket}",
        env=s3_server.env(),
    )  # fmt: skip
    assert_clean_exit(result, 1)
    assert f"error: vol-1 [publish]: {rel} [tiles]: changed: sha256 is now " in result.stderr
    assert bucket_keys(s3_server, bucket)[rel] == published


@pytest.mark.parametrize("delete", [False, True], ids=["publish", "publish-delete"])
def test_folder_target_keeps_what_a_damaged_volume_published(
    build, tmp_path: Path, delete: bool
) -> None:
    cfg = build()
    site = tmp_path / "site"
    publish(cfg, to=str(site))
    tile = _a_tile(cfg)
    rel = layout_for(cfg).rel(tile)
    tile.unlink()
    args = ["publish", "--quiet", "--to", str(site)] + (["--delete"] if delete else [])
    result = run_cli(*cli_args(cfg), *args)
    assert_clean_exit(result, 1)
    assert f"error: vol-1 [publish]: {rel} [tiles]: missing: " in result.stderr
    assert (site / rel).is_file()

    empty = tmp_path / "empty"
    result = run_cli(*cli_args(cfg), "publish", "--quiet", "--to", str(empty))
    assert_clean_exit(result, 1)
    assert not (empty / "vol-1").exists()
    assert (empty / "vol-2" / "manifest.json").is_file()


@pytest.mark.parametrize("dry_run", [False, True], ids=["publish", "dry-run"])
def test_folder_target_whose_parent_is_missing(build, tmp_path: Path, dry_run: bool) -> None:
    cfg = build({"vol-1": 1})
    site = tmp_path / "no-such-folder" / "site"
    args = ["publish", "--quiet", "--to", str(site)] + (["--dry-run"] if dry_run else [])
    result = run_cli(*cli_args(cfg), *args)
    assert_clean_exit(result, 5)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert str(site.parent) in lines[0] and "does not exist" in lines[0], lines
    assert not site.parent.exists()


def test_folder_target_itself_is_created(build, tmp_path: Path) -> None:
    cfg = build({"vol-1": 1})
    site = tmp_path / "site"
    result = run_cli(*cli_args(cfg), "publish", "--quiet", "--to", str(site))
    assert_clean_exit(result, 0)
    assert (site / "vol-1" / "manifest.json").is_file()


def test_lost_volume_folder_is_kept_and_a_withdrawn_volume_deleted(
    build, s3_server: S3Server, tmp_path: Path
) -> None:
    cfg = _endpoint_cfg(build({"vol-1": 1, "vol-2": 1, "vol-3": 1}), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    out = layout_for(cfg).out
    # vol-2 lost its output folder (disk damage): its scans are still there.
    shutil.rmtree(out / "vol-2")
    # vol-3 was withdrawn from the batch: scans and output removed.
    shutil.rmtree(out / "vol-3")
    shutil.rmtree(tmp_path / "scans" / "vol-3")

    args = ["publish", "--quiet", "--delete", "--to", f"s3://{bucket}"]
    # Without the scans folder nothing counts as withdrawn: both volumes' objects stay.
    elsewhere = run_cli(*cli_args(cfg), "--scans", str(tmp_path / "nowhere"), *args,
                        env=s3_server.env())  # fmt: skip
    assert_clean_exit(elsewhere, 1)
    assert any(k.startswith("vol-3/") for k in bucket_keys(s3_server, bucket))

    result = run_cli(*cli_args(cfg), "--scans", str(tmp_path / "scans"), *args,
                     env=s3_server.env())  # fmt: skip
    assert_clean_exit(result, 1)
    assert "error: vol-2 [publish]: vol-2/manifest.json is missing" in result.stderr
    assert "vol-3" not in result.stderr
    keys = set(bucket_keys(s3_server, bucket))
    assert "vol-2/manifest.json" in keys and any(k.startswith("vol-2/images/") for k in keys)
    assert not any(k.startswith("vol-3/") for k in keys)


class _Stages:
    """A progress reporter that notes each stage it is handed and what its bars counted."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int, int, int]] = []

    @contextmanager
    def stage(self, name: str, total: int, *, nbytes: int = 0) -> Iterator[_Stages]:
        self.count = self.nbytes = 0
        yield self
        self.seen.append((name, total, nbytes, self.count, self.nbytes))

    def advance(
        self, subject: str = "", record: object = None, *, count: int = 1, nbytes: int = 0
    ) -> None:
        self.count += count
        self.nbytes += nbytes


def test_publish_reports_its_phases_through_the_run_progress_protocol(
    build, tmp_path: Path
) -> None:
    cfg = build()
    site = tmp_path / "site"
    expected = local_objects(cfg)
    manifests = {k: p for k, p in expected.items() if k.endswith("manifest.json")}
    data = {k: p for k, p in expected.items() if k not in manifests and "collection" not in k}
    first = _Stages()
    publish(cfg, to=str(site), reporter=first)
    size = sum(p.stat().st_size for p in data.values())
    msize = sum(p.stat().st_size for p in manifests.values())
    files = len(data) + len(manifests)  # manifests are hashed with the data, put after the replay
    assert first.seen == [
        ("list", 2, 0, 2, 0),
        ("files", files, size + msize, files, size + msize),
        ("manifests", 2, msize, 2, msize),
    ]

    gone = site / "vol-2" / "manifest.json"
    gone.unlink()
    (site / "vol-1" / "stray.json").write_text("{}", encoding="utf-8")
    again = _Stages()
    publish(cfg, to=str(site), delete=True, reporter=again)
    lost = manifests["vol-2/manifest.json"].stat().st_size
    assert again.seen == [
        ("list", 2, 0, 2, 0),
        ("files", 1, lost, 1, lost),
        ("manifests", 1, lost, 1, lost),
        ("delete", 1, 2, 1, 2),
    ]
