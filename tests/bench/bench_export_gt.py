"""Line images for HTR training (``export-gt``), ours vs the same cuts made with Pillow.

A volume of pages at the size of the real Transkribus export in ``tests/data/transcripts``
(2923 x 3605, a grey pattern so that PNGs do not compress to nothing), each transcribed by a
copy of that export (35 lines with polygons, kind ``human``), built with OCR off. In the same
run:

- ours: ``export_gt`` over the volume: open each master upright and grey, cut every line along
  its polygon (librsvg mask, white outside), write the PNG, its ``.gt.txt`` and the index;
- the peer: Pillow on the same masters and the same canvas polygons (read from the stage's
  records): open, convert to grey, crop the polygon's box, ``ImageDraw.polygon`` a mask,
  paste over white, save the PNG (the loop a script doing this by hand would run).

No target: the row tells whether the export is in line with a plain script.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyvips
from PIL import Image, ImageDraw

from pipeline.archive.gt_export import export_gt
from pipeline.config import Config, load_config
from pipeline.results import TranscriptionResult
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.bench.common import Row, timed

PAGES = 8
SOURCE = (
    Path(__file__).resolve().parents[1] / "data" / "transcripts" / "transkribus-page2013-0002.xml"
)
SIZE = (2923, 3605)


def _volume(workdir: Path, pages: int) -> Config:
    xyz = pyvips.Image.xyz(*SIZE)
    master = ((xyz[0] * 7 + xyz[1] * 3) % 251).cast("uchar").copy(interpretation="b-w")
    scans, texts = workdir / "scans" / "vol", workdir / "transcriptions" / "vol"
    scans.mkdir(parents=True)
    texts.mkdir(parents=True)
    for n in range(1, pages + 1):
        master.write_to_file(str(scans / f"p{n:03d}.tif"))
        shutil.copyfile(SOURCE, texts / f"p{n:03d}.xml")
    site = {"scans": str(scans.parent), "out": str(workdir / "out")}
    overrides = {"site": site, "ocr": {"enabled": False}, "run": {"workers": 1}}
    cfg = load_config(None, overrides=overrides, environ={})
    assert not run_job(cfg).failures
    return cfg


def _pillow(cfg: Config, dest: Path) -> int:
    """Cut every human line of the volume with Pillow; the number of images written."""
    dest.mkdir()
    written = 0
    with StateStore(layout_for(cfg).state_db) as state:
        records = sorted(
            (r for r in state.records("vol") if r.stage == "transcription"), key=lambda r: r.page
        )
        for rec in records:
            result = rec.result_as(TranscriptionResult)
            with Image.open(cfg.site.scans / "vol" / f"{rec.page}.tif") as opened:
                grey = opened.convert("L")
            for number, line in enumerate(result.lines, start=1):
                points = line.points or ()
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                box = (min(xs), min(ys), max(xs), max(ys))
                mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
                ImageDraw.Draw(mask).polygon([(x - box[0], y - box[1]) for x, y in points], 255)
                out = Image.new("L", mask.size, 255)
                out.paste(grey.crop(box), (0, 0), mask)
                out.save(dest / f"{rec.page}_{number:03d}.png")
                written += 1
    return written


def run(workdir: Path, pages: int = PAGES) -> list[Row]:
    cfg = _volume(workdir, pages)
    ours, result = timed(lambda: export_gt(cfg, "vol", workdir / "gt"))
    peer, written = timed(lambda: _pillow(cfg, workdir / "peer"))
    assert result.lines == written == 35 * pages, (result.lines, written)
    return [
        Row(
            f"export-gt: {result.lines} line images of {pages} pages (2923 x 3605)",
            ours,
            peer,
            "s",
            peer_name="Pillow: crop, polygon mask, paste on white, PNG",
            note=f"{ours / result.lines * 1000:.1f} ms per line, with .gt.txt and index.csv",
        )
    ]
