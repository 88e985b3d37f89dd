"""Reading transcription files: 1,000 PAGE XML exports, ours vs a plain lxml parse.

The files are copies of the real Transkribus export in ``tests/data/transcripts`` (PAGE
2013-07-15, 35 lines, with the ``TranskribusMetadata`` element its own schema forbids), each
given another name. In the same run:

- ours: :func:`pipeline.input.transcripts.read.read_transcript` on every file: format found from
  the content, the file checked against its XSD, every line's text, polygon, baseline and box
  read, provenance decided;
- the peer: ``lxml.etree.parse`` of every file and nothing else, the floor any importer starts
  from.

A second row times the ``transcription`` stage itself, as ``pipeline run --stages
transcription`` runs it (the runner, records, fingerprints, the state store), over a volume of
1,000 pages whose masters were ingested before (small blank masters of the export's
proportions, OCR switched off, so no tesseract): match each file to its page, read it, map it
to the canvas, decide precedence, write the page's ALTO, hOCR and text (flushed to disk), store
the records. It runs with the default worker count (one per core); a third row runs it again
with one worker. Their peer is reading the same files with ``read_transcript`` alone (the
first row's "ours"), so the ratio is what the stage adds to reading. Each row notes the load
average when it started: the machine may be shared.

Target (issue 14): 1,000 files in under 10 s, no OCR rerun involved.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyvips
from lxml import etree

from pipeline.config import Config, load_config
from pipeline.input.transcripts.read import read_transcript
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.bench.common import Row, timed

FILES = 1000
SOURCE = (
    Path(__file__).resolve().parents[1] / "data" / "transcripts" / "transkribus-page2013-0002.xml"
)
TARGET_S = 10.0


def _copies(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"p{n:04d}.xml" for n in range(1, count + 1)]
    for path in paths:
        shutil.copyfile(SOURCE, path)
    return paths


# The export's image is 2923 x 3605: masters a tenth of that keep its proportions.
MASTER = (292, 360)


def _ingested(workdir: Path, files: int) -> Config:
    """A volume of ``files`` small blank masters, ingested (OCR off), with the copies beside."""
    master = pyvips.Image.black(*MASTER)
    (workdir / "scans" / "vol").mkdir(parents=True)
    for n in range(1, files + 1):
        master.write_to_file(str(workdir / "scans" / "vol" / f"p{n:04d}.png"))
    site = {"scans": str(workdir / "scans"), "out": str(workdir / "out")}
    site["transcriptions"] = str(workdir / "transcriptions")
    cfg = load_config(None, overrides={"site": site, "ocr": {"enabled": False}}, environ={})
    assert not run_job(cfg, stages=["ingest", "ocr"]).failures
    return cfg


def _stage_row(cfg: Config, workers: int, files: int, reading_s: float) -> Row:
    """The transcription stage over every page (none current: earlier records forgotten)."""
    cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"workers": workers})})
    with StateStore(layout_for(cfg).state_db) as state:
        for n in range(1, files + 1):
            state.delete("vol", f"p{n:04d}", "transcription")
    load = os.getloadavg()[0]
    ours, report = timed(lambda: run_job(cfg, stages=["transcription"]))
    assert not report.failures and report.counts["ok"] == files
    with StateStore(layout_for(cfg).state_db) as state:
        chosen = [r for r in state.records() if r.stage == "transcription" and r.data["chosen"]]
    assert len(chosen) == files
    how = "1 worker" if workers == 1 else "default -j"
    return Row(
        f"transcription stage, {files} pages, {how}",
        ours,
        reading_s,
        "s",
        peer_name="read_transcript of each file alone",
        target=f"< {TARGET_S:g} s",
        note=f"match, read, map, write ALTO/hOCR/text, store records; load avg {load:.1f}",
    )


def run(workdir: Path, files: int = FILES) -> list[Row]:
    paths = _copies(workdir / "transcriptions" / "vol", files)
    cfg = _ingested(workdir, files)
    peer, _ = timed(lambda: [etree.parse(str(p)) for p in paths])
    ours, read = timed(lambda: [read_transcript(p) for p in paths])
    lines = sum(len(t.lines) for t in read)
    assert lines == 35 * files
    return [
        Row(
            f"read {files} PAGE 2013 files (Transkribus, 35 lines each)",
            ours,
            peer,
            "s",
            peer_name="lxml.etree.parse of each file",
            target=f"< {TARGET_S:g} s",
            note=f"{ours / files * 1000:.1f} ms per file: detect, validate against the XSD, read",
        ),
        _stage_row(cfg, 0, files, ours),
        _stage_row(cfg, 1, files, ours),
    ]
