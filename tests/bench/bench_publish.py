"""Publishing a generated batch (thousands of objects) to a local S3 API server, vs ``aws s3 sync``.

Both run in the same process tree against the same moto server on 127.0.0.1, each into its own
empty bucket, with the same number of requests in flight (``publish.threads`` and the CLI's
``max_concurrent_requests``). Three rows, each ours vs the peer in the same run:

- first publish into an empty bucket, best of two alternating runs each (ours also checks
  every URL a viewer will request before the manifests go up, from the bucket listing and
  the uploads);
- an unchanged re-publish (both list the bucket; ours compares sizes and ETags with the state
  store, the peer sizes and times);
- a re-publish after the bucket was wiped (both must upload every object again; the row
  asserts that ours restored as many objects as there are).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from pipeline.config import load_config
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from tests.bench.common import VENV_BIN, Row, timed
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, start_server

VOLUMES = 3
PAGES = 6
WIDTH, HEIGHT = 2480, 3508
TILE = 256
THREADS = 16


def _scans(root: Path) -> None:
    import pyvips

    for v in range(1, VOLUMES + 1):
        for p in range(1, PAGES + 1):
            path = root / f"vol-{v}" / f"p{p:03d}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            xyz = pyvips.Image.xyz(WIDTH, HEIGHT)
            image = ((xyz[0] * (3 + p) + xyz[1] * (5 + v)) % 251).cast("uchar")
            image.write_to_file(str(path))


def _aws(args: list[str], env: dict[str, str]) -> None:
    aws = VENV_BIN / "aws"
    subprocess.run([str(aws), *args], check=True, env=env, stdout=subprocess.DEVNULL)


def _wipe(client: Any, bucket: str) -> int:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", ())]
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    return len(keys)


def run(workdir: Path) -> list[Row]:
    from pipeline.publish.job import publish

    scans = workdir / "scans"
    _scans(scans)
    overrides = {
        "site": {"scans": str(scans), "out": str(workdir / "out")},
        "ocr": {"enabled": False},
        "tiles": {"tile_size": TILE},
    }
    cfg = load_config(None, overrides=overrides, environ={})
    report = run_job(cfg)
    assert not report.failures, report.failures
    out = layout_for(cfg).out
    files = [p for p in out.rglob("*") if p.is_file() and layout_for(cfg).is_published(p)]
    nbytes = sum(p.stat().st_size for p in files)
    aws_config = workdir / "aws-config"
    aws_config.write_text(f"[default]\ns3 =\n  max_concurrent_requests = {THREADS}\n")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(aws_config),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-credentials"),
    }
    saved = {k: os.environ.get(k) for k in env if k.startswith("AWS_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    n = len(files)
    try:
        with start_server(log=workdir / "moto.log") as server:
            client = server.client()
            pub = load_config(
                None,
                overrides={
                    **overrides,
                    "publish": {"endpoint_url": server.endpoint, "threads": THREADS},
                },
                environ={},
            )

            def sync(bucket: str) -> list[str]:
                argv = ["s3", "sync", str(out), f"s3://{bucket}"]
                argv += ["--endpoint-url", server.endpoint]
                return [*argv, "--exclude", ".pipeline/*", "--only-show-errors"]

            # Twice each, alternating, into fresh buckets; the best of two counts. The first
            # requests a moto server answers are slower (it loads its S3 code), and the machine
            # may be busy: neither side should carry that alone.
            firsts: list[tuple[float, float]] = []
            for attempt in range(2):
                ours_bucket, peer_bucket = f"ours-{attempt}", f"peer-{attempt}"
                client.create_bucket(Bucket=ours_bucket)
                client.create_bucket(Bucket=peer_bucket)
                took, rep = timed(lambda b=ours_bucket: publish(pub, to=f"s3://{b}"))
                assert not rep.failures and rep.uploaded == n, (rep.failures, rep.uploaded)
                peer_took, _ = timed(lambda b=peer_bucket: _aws(sync(b), env))
                firsts.append((took, peer_took))
            ours = min(t for t, _ in firsts)
            peer = min(t for _, t in firsts)
            ours_noop, rep2 = timed(lambda: publish(pub, to=f"s3://{ours_bucket}"))
            assert rep2.uploaded == 0 and rep2.unchanged == n
            peer_noop, _ = timed(lambda: _aws(sync(peer_bucket), env))
            assert _wipe(client, ours_bucket) == n and _wipe(client, peer_bucket) == n
            ours_wipe, rep3 = timed(lambda: publish(pub, to=f"s3://{ours_bucket}"))
            assert not rep3.failures and rep3.uploaded == rep3.restored == n, (
                rep3.failures,
                rep3.uploaded,
                rep3.restored,
            )
            peer_wipe, _ = timed(lambda: _aws(sync(peer_bucket), env))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    mb = nbytes / 1e6
    what = f"{n} objects, {mb:.0f} MB"
    peer_name = "aws s3 sync (same server, same concurrency)"
    return [
        Row(
            f"first publish ({what}, {THREADS} in flight)",
            ours,
            peer,
            "s",
            peer_name=peer_name,
            target="at least as fast as the peer (aim: 0.5x)",
            note=f"best of 2 each: ours {mb / ours:.1f} MB/s vs {mb / peer:.1f} MB/s "
            f"(runs: {', '.join(f'{a:.1f}/{b:.1f} s' for a, b in firsts)}); ours also checks "
            f"{rep.checked} viewer URLs before the manifests",
        ),
        Row(
            f"unchanged re-publish ({n} objects)",
            ours_noop,
            peer_noop,
            "s",
            peer_name="aws s3 sync (lists the bucket)",
            target="no slower than the peer; no uploads",
        ),
        Row(
            f"re-publish after the bucket was wiped ({n} objects)",
            ours_wipe,
            peer_wipe,
            "s",
            peer_name=peer_name,
            target=f"every object restored ({rep3.restored} of {n})",
        ),
    ]
