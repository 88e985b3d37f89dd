"""Publishing to a real S3 API server process (moto) on 127.0.0.1, and to a plain folder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.config import Config
from pipeline.layout import object_kind
from pipeline.publish.job import publish
from pipeline.publish.media import IMAGE_JSON, PRESENTATION_JSON, content_type
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from tests.conftest import assert_clean_exit, run_cli
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, S3Server

pytestmark = [pytest.mark.s3]

STAGES = ["ingest", "tiles", "manifest", "collection"]


class Calls:
    """S3 operations made by one publish, seen through botocore's event hooks."""

    def __init__(self) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )
        self.seen: list[tuple[str, str | None]] = []
        self.session.events.register("before-parameter-build.s3", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, params.get("Key")))

    def keys(self, operation: str) -> list[str]:
        return sorted(str(k) for op, k in self.seen if op == operation)

    def count(self, *operations: str) -> int:
        return sum(1 for op, _ in self.seen if op in operations)


@pytest.fixture
def build(make_scan: Callable[..., Path], make_cfg: Callable[..., Config]) -> Callable[..., Config]:
    """Make scans and run ingest/tiles/manifest/collection (no OCR: fast)."""

    def make(volumes: dict[str, int] | None = None, **sections: Any) -> Config:
        for vol, pages in (volumes or {"vol-1": 2, "vol-2": 2}).items():
            for n in range(1, pages + 1):
                make_scan(f"{vol}/p{n:03d}.tif", 700 + 37 * n, 900 + 53 * n)
        cfg = make_cfg(ocr={"enabled": False}, tiles={"tile_size": 256}, **sections)
        report = run_job(cfg, stages=STAGES)
        assert not report.failures, [f.error for f in report.failures]
        return cfg

    return make


def _endpoint_cfg(cfg: Config, server: S3Server, **publish: Any) -> Config:
    data = cfg.model_dump()
    data["publish"] = {**data["publish"], "endpoint_url": server.endpoint, **publish}
    return Config.model_validate(data)


def local_objects(cfg: Config, prefix: str = "") -> dict[str, Path]:
    layout = layout_for(cfg)
    files = [p for p in layout.out.rglob("*") if p.is_file() and layout.is_published(p)]
    return {prefix + layout.rel(p): p for p in files}


def cli_args(cfg: Config) -> list[str]:
    return ["--out", str(layout_for(cfg).out), "--base-url", cfg.site.base_url]


def bucket_keys(server: S3Server, bucket: str) -> dict[str, str]:
    """Key -> ETag of every object in the bucket."""
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"].strip('"') for page in pages for o in page.get("Contents", ())}


def test_every_object_with_bytes_and_headers(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    report = publish(cfg, to=f"s3://{bucket}/iiif/site", session=Calls().session)
    assert not report.failures, report.failures
    assert sorted(report.published) == ["vol-1", "vol-2"]
    expected = local_objects(cfg, "iiif/site/")
    assert set(bucket_keys(s3_server, bucket)) == set(expected)
    assert "iiif/site/collection.json" in expected
    client = s3_server.client()
    policy = cfg.publish.cache_control
    kinds = set()
    for key, path in expected.items():
        got = client.get_object(Bucket=bucket, Key=key)
        rel = key.removeprefix("iiif/site/")
        assert got["Body"].read() == path.read_bytes(), key
        assert got["ContentType"] == content_type(rel), key
        assert got["CacheControl"] == getattr(policy, object_kind(rel)), key
        kinds.add(object_kind(rel))
    assert {"tiles", "info", "manifests"} <= kinds
    head = client.head_object(Bucket=bucket, Key="iiif/site/vol-1/manifest.json")
    assert head["ContentType"] == PRESENTATION_JSON
    assert head["CacheControl"] == "public, max-age=300"
    info = client.head_object(Bucket=bucket, Key="iiif/site/vol-1/images/p001/info.json")
    assert info["ContentType"] == IMAGE_JSON
    tile = next(k for k in expected if k.endswith("/default.jpg"))
    assert client.head_object(Bucket=bucket, Key=tile)["ContentType"] == "image/jpeg"


def test_rerun_makes_no_upload_and_only_listings(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    first = Calls()
    publish(cfg, to=f"s3://{bucket}", session=first.session)
    assert first.count("PutObject") == len(local_objects(cfg))
    second = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=second.session)
    assert second.count("PutObject", "CreateMultipartUpload", "UploadPart") == 0
    # The target is asked once: a listing per volume and one for the collection document.
    assert [op for op, _ in second.seen] == ["HeadBucket"] + ["ListObjectsV2"] * 3
    assert report.uploaded == 0 and sorted(report.current) == ["vol-1", "vol-2"]
    assert report.unchanged == len(local_objects(cfg))


def test_touched_but_identical_files_are_not_uploaded(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    for path in local_objects(cfg).values():
        path.touch()
    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=calls.session)
    assert calls.count("PutObject") == 0 and report.uploaded == 0
    again = Calls()
    publish(cfg, to=f"s3://{bucket}", session=again.session)
    assert [op for op, _ in again.seen] == ["HeadBucket"] + ["ListObjectsV2"] * 3


def test_changed_page_uploads_only_its_objects(build, make_scan, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build(), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    # Same size, different pixels: only that page's tiles change.
    make_scan("vol-1/p002.tif", 700 + 37 * 2, 900 + 53 * 2, bands=3)
    assert not run_job(cfg, stages=STAGES).failures
    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=calls.session)
    assert not report.failures
    put = calls.keys("PutObject")
    assert put, "the changed page was not uploaded"
    page_files = {k for k in local_objects(cfg) if k.startswith("vol-1/images/p002/")}
    assert set(put) - page_files <= {"vol-1/manifest.json"}, put
    assert report.published == ["vol-1"] and report.current == ["vol-2"]
    # The replay is answered by the listings and the uploads: no request per URL.
    assert calls.count("HeadObject") == 0 and calls.count("ListObjectsV2") == 3
    etags = bucket_keys(s3_server, bucket)
    for key, path in local_objects(cfg).items():
        assert etags[key] == hashlib.md5(path.read_bytes()).hexdigest(), key


@pytest.mark.parametrize("check", ["head", "list"])
def test_replay_checks_every_viewer_url(build, s3_server: S3Server, check: str) -> None:
    cfg = _endpoint_cfg(build(), s3_server, check=check)
    bucket = s3_server.new_bucket()
    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}/x", session=calls.session)
    assert not report.failures and sorted(report.published) == ["vol-1", "vol-2"]
    assert calls.count("ListObjectsV2") == 3
    heads = calls.keys("HeadObject")
    if check == "list":
        # Every URL was in a listing or went up in this run; the collection's links too.
        assert heads == []
    else:
        assert {k for k in heads if "/full/" in k} and all(k.startswith("x/vol-") for k in heads)
    assert report.checked > len(local_objects(cfg)) / 2


def test_large_file_goes_up_in_parts(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(
        build({"vol-1": 1}), s3_server, multipart_threshold_mb=5, multipart_chunk_mb=5
    )
    big = layout_for(cfg).out / "vol-1" / "vol-1.pdf"
    big.write_bytes(bytes(range(256)) * (11 * 4096))  # 11 MiB: three parts
    bucket = s3_server.new_bucket()
    calls = Calls()
    report = publish(cfg, to=f"s3://{bucket}", session=calls.session)
    assert not report.failures
    assert calls.count("CreateMultipartUpload") == 1 and calls.count("UploadPart") == 3
    got = s3_server.client().get_object(Bucket=bucket, Key="vol-1/vol-1.pdf")
    assert got["Body"].read() == big.read_bytes()
    assert got["ContentType"] == "application/pdf" and got["ETag"].endswith('-3"')
    again = Calls()
    publish(cfg, to=f"s3://{bucket}", session=again.session)
    assert again.count("PutObject", "CreateMultipartUpload", "UploadPart") == 0


def test_folder_target_mirrors_the_output(build, tmp_path: Path) -> None:
    cfg = build()
    site = tmp_path / "site"
    report = publish(cfg, to=str(site))
    assert not report.failures
    expected = local_objects(cfg)
    got = {p.relative_to(site).as_posix(): p for p in site.rglob("*") if p.is_file()}
    assert set(got) == set(expected)
    for key, path in expected.items():
        assert got[key].read_bytes() == path.read_bytes()
    again = publish(cfg, to=str(site))
    assert again.uploaded == 0 and again.unchanged == len(expected)


def test_folder_target_refused_inside_the_output(build) -> None:
    cfg = build({"vol-1": 1})
    out = layout_for(cfg).out
    result = run_cli("--out", str(out), "publish", "--to", str(out / "site"))
    assert_clean_exit(result, 2)
    assert "must not contain or be inside" in result.output


def test_folder_target_refused_over_the_scans_or_the_output_however_it_is_spelled(
    build, tmp_path: Path
) -> None:
    """A folder target in the masters' folder would get derivatives written into it, and
    --delete would remove masters; '..' and symbolic links must not hide the overlap."""
    cfg = build({"vol-1": 1})
    out, scans = layout_for(cfg).out, cfg.site.scans
    masters = {p: p.read_bytes() for p in scans.rglob("*") if p.is_file()}
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link-to-scans").symlink_to(scans)
    for spelled in (
        scans,
        scans / "vol-1",
        tmp_path / "elsewhere" / ".." / out.name,
        tmp_path / "link-to-scans",
    ):
        result = run_cli(
            "--out", str(out), "--scans", str(scans), "publish", "--delete", "--to", str(spelled)
        )  # fmt: skip
        assert_clean_exit(result, 2)
        assert "must not contain or be inside" in result.output, result.output
    assert {p: p.read_bytes() for p in scans.rglob("*") if p.is_file()} == masters


def test_removed_page_dry_run_then_delete(build, s3_server: S3Server, tmp_path: Path) -> None:
    cfg = _endpoint_cfg(build({"vol-1": 3}), s3_server)
    bucket = s3_server.new_bucket()
    to = f"s3://{bucket}/p"
    publish(cfg, to=to, session=Calls().session)
    (tmp_path / "scans" / "vol-1" / "p003.tif").unlink()
    assert not run_job(cfg, stages=STAGES).failures
    stale = {k for k in bucket_keys(s3_server, bucket) if k.startswith("p/vol-1/images/p003/")}
    assert stale

    report = publish(cfg, to=to, session=Calls().session)
    assert any(f"{len(stale)} object(s) on the target no longer belong" in n for n in report.notes)

    calls = Calls()
    dry = publish(cfg, to=to, dry_run=True, delete=True, session=calls.session)
    assert {k for action, k, _ in dry.plan if action == "delete"} == stale
    assert calls.count("PutObject", "DeleteObjects") == 0
    assert stale <= set(bucket_keys(s3_server, bucket))

    done = publish(cfg, to=to, delete=True, session=Calls().session)
    assert done.deleted == len(stale)
    assert set(bucket_keys(s3_server, bucket)) == set(local_objects(cfg, "p/")) - {
        k for k in local_objects(cfg, "p/") if "/p003" in k
    }


def test_dry_run_lists_uploads_and_changes_nothing(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build({"vol-1": 1}), s3_server)
    bucket = s3_server.new_bucket()
    env = s3_server.env()
    result = run_cli(*cli_args(cfg), "publish", "--dry-run", "--to", f"s3://{bucket}", env=env)
    assert_clean_exit(result, 0)
    n = len(local_objects(cfg))
    # The plan on stdout, one sorted line per object; the summary on stderr.
    assert result.stdout.splitlines() == sorted(f"upload {k}" for k in local_objects(cfg))
    assert f"dry run: would upload {n} object(s) (" in result.stderr
    assert "dry run" not in result.stdout
    assert bucket_keys(s3_server, bucket) == {}


def test_cors_rule(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    result = run_cli(
        "--out", str(tmp_path / "out"), "cors", "--to", f"s3://{bucket}", env=s3_server.env()
    )
    assert_clean_exit(result, 0)
    rules = s3_server.client().get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["GET", "HEAD"]
    assert rules[0]["AllowedOrigins"] == ["*"]


def test_credentials_never_reach_the_state_store(build, s3_server: S3Server) -> None:
    cfg = _endpoint_cfg(build({"vol-1": 1}), s3_server)
    bucket = s3_server.new_bucket()
    publish(cfg, to=f"s3://{bucket}", session=Calls().session)
    layout = layout_for(cfg)
    for path in layout.work_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert ACCESS_KEY.encode() not in data and SECRET_KEY.encode() not in data, path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        pytest.param("missing-bucket", "does not exist", id="missing-bucket"),
        pytest.param("no-credentials", "no AWS credentials found", id="no-credentials"),
    ],
)
def test_job_level_errors_exit_5(
    build, s3_server: S3Server, tmp_path: Path, case: str, message: str
) -> None:
    cfg = build({"vol-1": 1})
    env = s3_server.env()
    bucket = "no-such-bucket"
    if case == "no-credentials":
        bucket = s3_server.new_bucket()
        env.update(
            AWS_ACCESS_KEY_ID="",
            AWS_SECRET_ACCESS_KEY="",
            AWS_CONFIG_FILE=str(tmp_path / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
            AWS_EC2_METADATA_DISABLED="true",
        )
    result = run_cli(*cli_args(cfg), "publish", "--to", f"s3://{bucket}", env=env)
    assert_clean_exit(result, 5)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


@pytest.fixture(scope="module")
def auth_server() -> Any:
    from tests.s3server import start_server

    with start_server(auth=True) as server:
        yield server


def test_wrong_credentials_exit_5(build, auth_server: S3Server) -> None:
    cfg = build({"vol-1": 1})
    result = run_cli(*cli_args(cfg), "publish", "--to", "s3://some-bucket", env=auth_server.env())
    assert_clean_exit(result, 5)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: s3://some-bucket: access denied"), lines


def test_only_volumes_with_an_ok_manifest(build, s3_server: S3Server, tmp_path: Path) -> None:
    cfg = _endpoint_cfg(build({"vol-1": 1}), s3_server)
    (tmp_path / "scans" / "vol-2").mkdir()
    bucket = s3_server.new_bucket()
    report = publish(cfg, to=f"s3://{bucket}", volumes=["vol-1", "vol-9"], session=Calls().session)
    assert report.published == ["vol-1"]
    assert [s for s, _ in report.failures] == ["vol-9"]
    assert "run `pipeline run vol-9`" in report.failures[0][1]
    manifest = json.loads(
        s3_server.client().get_object(Bucket=bucket, Key="vol-1/manifest.json")["Body"].read()
    )
    assert manifest["id"].endswith("/vol-1/manifest.json")
