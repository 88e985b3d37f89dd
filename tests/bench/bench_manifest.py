"""Building and writing a manifest of 1,000 and 10,000 canvases with OCR links.

Each measurement runs in its own child process (``python -m tests.bench.bench_manifest MODE N
DIR``), so that its peak RSS is its own. Modes, all on the same synthetic volume (tile records
with thumbnails, OCR records with annotation page, ALTO, hOCR and text, a volume text, the
catalogue description and one range per 100 pages):

- ``ours``: the manifest stage's ``run()`` (build, validate each shape with iiif-prezi3, write);
- ``floor``: ``json.dumps`` + write of the very JSON ``ours`` wrote (the structure costs nothing
  to build here: the floor);
- ``prezi3``: every canvas and range built as validated iiif-prezi3 objects, the list assigned
  once, serialised with ``jsonld()`` (what the stage would cost without shape validation).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO, Row, run_measured

SIZES = (1_000, 10_000)
TARGET_S = 2.0
PREZI3_MAX = 10_000  # every size: the fully validated 10,000-canvas manifest takes ~10 s


def _volume_input(n: int, paths: Any) -> Any:
    from pipeline.input.descriptor import Descriptor
    from pipeline.records import PageItem
    from pipeline.stages.spec import PageInput, Upstream, VolumeInput

    pages = []
    for i in range(n):
        pid = f"p{i + 1:05d}"
        item = PageItem(
            volume="bench",
            page=pid,
            source=f"/scans/bench/{pid}.tif",
            index=i,
            label={"none": [str(i + 1)]},
            ocr_languages=("kor",),
        )
        tiles = {
            "service_id": paths.image_service_id("bench", pid),
            "width": 4961,
            "height": 7016,
            "full": "full/2896,4096/0/default.jpg",
            "full_width": 2896,
            "full_height": 4096,
            "sizes": [[310, 439], [621, 877]],
            "thumbnail": {"path": "full/310,439/0/default.jpg", "width": 310, "height": 439},
        }
        ocr = {
            "annotations": f"bench/annotations/{pid}.json",
            "alto": f"bench/ocr/{pid}.alto.xml",
            "hocr": f"bench/ocr/{pid}.hocr",
            "txt": f"bench/ocr/{pid}.txt",
            "language": "kor",
            "bcp47": "ko",
            "published": True,
        }
        upstream = Upstream.model_validate({"ingest": {}, "tiles": tiles, "ocr": ocr})
        pages.append(PageInput(item=item, upstream=upstream))
    descriptor = {
        "label": {
            "ko": ["인물전기 제1권"],
            "ko-Latn": ["Inmul chŏn'gi che 1 kwŏn"],
            "en": ["Vol. 1"],
        },
        "summary": {"en": ["<p>Handwritten biographies, <i>1990s</i>.</p>"]},
        "title": {"ko": ["인물전기"], "en": ["Biographies"]},
        "date": {"none": ["1995"]},
        "identifier": {"none": ["MS-BIO-001"]},
        "nav_date": "1995-01-01T00:00:00Z",
        "viewing_direction": "left-to-right",
        "ranges": [
            {
                "label": {"ko": [f"전기 {r + 1}"], "en": [f"Biography {r + 1}"]},
                "first": f"p{r * 100 + 1:05d}",
                "last": f"p{min(n, r * 100 + 100):05d}",
            }
            for r in range((n + 99) // 100)
        ],
    }
    return VolumeInput(
        volume="bench",
        descriptor=Descriptor.model_validate(descriptor),
        pages=tuple(pages),
        upstream=Upstream.model_validate({"text": {"text": "bench/bench.txt"}}),
        order=tuple(p.item.page for p in pages),
    )


def _prezi3_full(inp: Any, settings: Any, paths: Any) -> str:
    from iiif_prezi3 import Manifest

    from pipeline.iiif.models import validated
    from pipeline.stages import manifest as stage

    canvases = [
        stage.canvas_parts(p.item, p.upstream.tiles, p.upstream.ocr, p.upstream.annotations, paths)
        for p in inp.pages
    ]
    present = {c.page: i for i, c in enumerate(canvases)}
    entries = [r.model_dump(mode="json", exclude_none=True) for r in inp.descriptor.ranges]
    ranges = stage.range_parts(entries, inp.order, present, "bench", paths)
    shell: Manifest = stage._shell(inp, settings, paths, None, canvases[0])
    shell.items = [stage.build_canvas(validated, c) for c in canvases]
    shell.structures = [stage.build_range(validated, r) for r in ranges]
    return str(shell.jsonld())


def child(mode: str, n: int, workdir: Path) -> tuple[float, float]:
    """Run one measurement in this process; return its wall and CPU seconds."""
    from pipeline.config import load_config
    from pipeline.iiif.jsonio import dump_json
    from pipeline.layout import Layout
    from pipeline.stages import manifest as stage

    paths = Layout(out=workdir, base_url="https://example.org/iiif/")
    settings = stage.settings(load_config(None, environ={}))
    inp = _volume_input(n, paths)
    written = paths.manifest_path("bench")
    data = json.loads(written.read_text(encoding="utf-8")) if mode == "floor" else None
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "floor":
        (workdir / "floor.json").write_text(dump_json(data), encoding="utf-8")
    elif mode == "prezi3":
        (workdir / "prezi3.json").write_text(_prezi3_full(inp, settings, paths), encoding="utf-8")
    else:
        stage.run(inp, settings, paths)
    return time.perf_counter() - started, time.process_time() - cpu


def _measure(mode: str, n: int, workdir: Path) -> tuple[float, float, float]:
    """Return wall seconds, CPU seconds and peak RSS (MiB) of one child run."""
    result = workdir / f"{mode}-{n}.txt"
    argv = [
        sys.executable,
        "-m",
        "tests.bench.bench_manifest",
        mode,
        str(n),
        str(workdir),
        str(result),
    ]
    _, rss = run_measured(argv, cwd=REPO)
    wall, cpu = (float(x) for x in result.read_text().split())
    return wall, cpu, rss


def run(workdir: Path) -> list[Row]:
    rows: list[Row] = []
    for n in SIZES:
        ours, ours_cpu, ours_rss = _measure("ours", n, workdir)
        floor, _, floor_rss = _measure("floor", n, workdir)
        size = (workdir / "bench" / "manifest.json").stat().st_size / 2**20
        target = f"< {TARGET_S:g} s" if n == max(SIZES) else ""
        rows.append(
            Row(
                f"manifest {n:,} canvases + OCR links: build+write",
                ours,
                floor,
                "s",
                peer_name="json.dumps + write of the same JSON",
                target=target,
                note=f"{size:.1f} MiB written; {ours_cpu:.2f} s CPU",
            )
        )
        rows.append(
            Row(
                f"manifest {n:,} canvases: peak RSS",
                ours_rss,
                floor_rss,
                "MiB",
                peer_name="json.dumps of the same JSON (structure loaded)",
            )
        )
        if n <= PREZI3_MAX:
            full, _, _ = _measure("prezi3", n, workdir)
            rows.append(
                Row(
                    f"manifest {n:,} canvases: ours vs every object through prezi3",
                    ours,
                    full,
                    "s",
                    peer_name="iiif-prezi3 objects for every canvas and range + jsonld()",
                )
            )
    return rows


if __name__ == "__main__":
    mode_, n_, dir_, out_ = sys.argv[1:5]
    wall_, cpu_ = child(mode_, int(n_), Path(dir_))
    Path(out_).write_text(f"{wall_!r} {cpu_!r}")
