"""The same volume through the local process pool and through a 2-worker Dask cluster.

Both on this machine's cores: the cluster is a real ``dask scheduler`` plus two single-threaded
``dask worker`` processes (``--resources tesseract=1``), as on a cluster, so the row measures
what Dask costs over the pool: scheduling, shipping tasks and records, the per-stage worker
check. Each is run twice, alternately, into fresh output folders; the faster run counts.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import load_config
from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from tests.bench.common import Row, timed
from tests.daskcluster import dask_cluster

PAGES = 8
WORKERS = 2
ROUNDS = 2


def run(workdir: Path) -> list[Row]:
    scans = workdir / "scans"
    generate_volume(scans, volume_id="bench", pages=PAGES, seed=3, width=2480, height=3508)

    def once(name: str, run_cfg: dict[str, object]) -> float:
        out = workdir / name
        cfg = load_config(
            None,
            overrides={"site": {"scans": str(scans), "out": str(out)}, "run": run_cfg},
            environ={},
        )
        seconds, report = timed(lambda: run_job(cfg))
        assert not report.failures, report.failures
        return seconds

    local: list[float] = []
    cluster: list[float] = []
    with dask_cluster(workdir / "cluster", workers=WORKERS) as running:
        address = running.address
        for n in range(ROUNDS):
            local.append(once(f"local-{n}", {"workers": WORKERS}))
            cluster.append(once(f"dask-{n}", {"executor": "dask", "scheduler": address}))
    best_local, best_cluster = min(local), min(cluster)
    tasks = PAGES * 3 + 2  # ingest, tiles, ocr per page; manifest; collection
    return [
        Row(
            f"dask cluster pages/min ({PAGES} A4 300-dpi pages, {WORKERS} workers)",
            PAGES / best_cluster * 60,
            PAGES / best_local * 60,
            "p/min",
            peer_name=f"local process pool, {WORKERS} workers",
            higher_is_better=True,
            target="<= 1.15x (cluster time / pool time)",
            note=(
                f"pool {best_local:.1f} s, cluster {best_cluster:.1f} s; "
                f"{(best_cluster - best_local) / tasks * 1000:+.0f} ms per task; "
                f"runs: pool {', '.join(f'{s:.1f}' for s in local)} s, "
                f"cluster {', '.join(f'{s:.1f}' for s in cluster)} s"
            ),
        )
    ]
