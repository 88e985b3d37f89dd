"""JPEG 2000 masters: ingest + tiles of a huge JP2 page vs the same page as TIFF.

The master is the generated scan-like page of :mod:`tests.bench.bench_tiles` (20000 x 28000,
8-bit RGB, written by libvips in streaming fashion), saved once as an uncompressed TIFF and
once as a lossless, tiled JP2 (512 x 512 tiles, as ``vips jp2ksave`` writes by default). Each
variant runs ingest and then tiles, as the runner does with OCR off, in its own child process
(built-in settings plus ``ingest.formats`` with ``jp2k``). Peak RSS is the child's
``ru_maxrss``, which on Linux also covers the programs it waited for (the ``vips`` program that
decodes the JP2); that program's own peak is measured apart, decoding the same file the same
way. The JP2 variant also needs scratch disk space for the decoded copy (its uncompressed
size), which is printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.bench_tiles import HUGE, make_master
from tests.bench.common import REPO, Row, run_measured


def make_jp2(tiff: Path, path: Path) -> Path:
    """Encode ``tiff`` as a lossless tiled JP2 with the vips program (streaming)."""
    vips = shutil.which("vips")
    if vips is None:
        raise SystemExit("the vips program (libvips-tools) is needed to write the JP2 master")
    subprocess.run([vips, "copy", str(tiff), f"{path}[lossless]"], check=True)
    return path


def _child(src: str, out: str) -> None:
    """Ingest and tile one page in this process; print the seconds of both and of ingest."""
    from pipeline.config import Config
    from pipeline.imaging.vips import configure_vips
    from pipeline.layout import Layout
    from pipeline.records import PageItem
    from pipeline.stages import ingest, tiles
    from pipeline.stages.spec import PageInput, Upstream

    configure_vips()
    cfg = Config.model_validate(
        {
            "site": {"out": out},
            "ocr": {"enabled": False},
            "ingest": {"formats": ["tiff", "jp2k"], "max_pixels": 1_000_000_000},
        }
    )
    layout = Layout(cfg.site.out, cfg.site.base_url)
    item = PageItem("bench", "page", src, 0, {}, ())
    started = time.perf_counter()
    record = ingest.run(PageInput(item), ingest.settings(cfg), layout)
    ingested = time.perf_counter() - started
    tiles.run(PageInput(item, Upstream.of({"ingest": record})), tiles.settings(cfg), layout)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "ingest": ingested}))


def _decoder(jp2: Path, workdir: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of the vips program decoding ``jp2`` as ingest has it do."""
    vips = shutil.which("vips")
    assert vips is not None
    copy = workdir / "decoded.tif"
    argv = [vips, "jp2kload", str(jp2), f"{copy}[bigtiff]", "--fail-on", "error"]
    took = run_measured(argv)
    copy.unlink()
    return took


def _measure(src: Path, out: Path) -> tuple[float, float, dict[str, float]]:
    """(wall seconds, peak RSS MiB, the child's own figures) of one variant in a fresh child."""
    out.mkdir(parents=True)
    argv = [sys.executable, "-m", "tests.bench.bench_jp2", str(src), str(out)]
    with (out / "result.json").open("w") as result:
        _, rss = run_measured(argv, cwd=REPO, stdout=result)
    measured = json.loads((out / "result.json").read_text())
    shutil.rmtree(out / "images", ignore_errors=True)  # the next variant needs the disk
    return measured["seconds"], rss, measured


def run(workdir: Path) -> list[Row]:
    tiff = make_master(workdir / "huge.tif", *HUGE, seed=7)
    jp2 = make_jp2(tiff, workdir / "huge.jp2")
    tiff_s, tiff_rss, _ = _measure(tiff, workdir / "out-tiff")
    decode_s, decode_rss = _decoder(jp2, workdir)
    jp2_s, jp2_rss, measured = _measure(jp2, workdir / "out-jp2")
    scratch = HUGE[0] * HUGE[1] * 3 / 2**20
    label = f"{HUGE[0]}x{HUGE[1]} RGB page, lossless tiled JP2 vs uncompressed TIFF"
    return [
        Row(
            f"jp2: ingest+tiles peak RSS, {label}",
            jp2_rss,
            tiff_rss,
            "MiB",
            peer_name="the same page as TIFF, same stages and settings",
            target="well under 1024 MiB",
            note=f"the vips program decoding the JP2 alone: {decode_rss:.0f} MiB, "
            f"{decode_s:.0f} s; scratch disk {scratch:.0f} MiB",
        ),
        Row(
            f"jp2: ingest+tiles time, {label}",
            jp2_s,
            tiff_s,
            "s",
            peer_name="the same page as TIFF",
            note=f"of which ingest (decoding the JP2): {measured['ingest']:.0f} s",
        ),
    ]


if __name__ == "__main__":
    _child(*sys.argv[1:3])
