"""Reading transcription files: 1,000 PAGE XML exports, ours vs a plain lxml parse.

The files are copies of the real Transkribus export in ``tests/data/transcripts`` (PAGE
2013-07-15, 35 lines, with the ``TranskribusMetadata`` element its own schema forbids), each
given another name. In the same run:

- ours: :func:`pipeline.input.transcripts.read.read_transcript` on every file: format found from
  the content, the file checked against its XSD, every line's text, polygon, baseline and box
  read, provenance decided;
- the peer: ``lxml.etree.parse`` of every file and nothing else, the floor any importer starts
  from.

Target (issue 14): 1,000 files in under 10 s, no OCR rerun involved.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lxml import etree

from pipeline.input.transcripts.read import read_transcript
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


def run(workdir: Path, files: int = FILES) -> list[Row]:
    paths = _copies(workdir / "transcriptions", files)
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
        )
    ]
