"""Write the output folder of a small job, as the pipeline of commit 3c63b1a left it.

Run from a checkout of that commit (``git worktree add /some/where 3c63b1a``), with the repository
root on ``PYTHONPATH``: ``python tests/data/store_3c63b1a/make_store.py OUT``, then copy
``OUT/scans`` and ``OUT/out`` here, without ``out/.pipeline/{lock,reports,tmp}`` (the reports
name machine paths). The state store is checkpointed (no ``-wal`` file).
``result_digests.json`` holds each record's result digest as that commit computed it
(``pipeline.run.job.result_digest`` there). ``tests/integration/test_state_compat.py`` loads the
store with the current code and reruns over it.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pyvips

from pipeline.config import load_config
from pipeline.run.job import run_job

BASE_URL = "https://example.org/iiif/"
DESCRIPTOR = """\
label = { ko = "인물전기", en = "Biographies" }
summary = { en = "<p>Handwritten biographies.</p>" }
homepage = { id = "https://catalogue.library.example/record/1", label = { en = "Catalogue" } }
see_also = [{ id = "https://catalogue.library.example/record/1.xml", format = "text/xml" }]
date = { ko = "1994년", en = "1994" }
start = "p2"

[[metadata]]
label = { en = "Note" }
value = { en = "Synthetic" }

[[ranges]]
label = { en = "All" }
first = "p1"
last = "p2"
"""


def make(root: Path) -> None:
    """Two PNG masters (a line of Korean text, a gradient), a descriptor, and a full job."""
    folder = root / "scans" / "vol"
    folder.mkdir(parents=True)
    text = pyvips.Image.text("<span size='28000'>교원 리정숙 전기 1994년</span>", dpi=150)
    page = (255 - text).embed(40, 80, 640, 240, extend="white").cast("uchar")
    page.write_to_file(str(folder / "p1.png"))
    grad = pyvips.Image.xyz(300, 400)
    ((grad[0] * 7 + grad[1] * 3) % 256).cast("uchar").write_to_file(str(folder / "p2.png"))
    (folder / "volume.toml").write_text(DESCRIPTOR, encoding="utf-8")
    site = {"scans": str(root / "scans"), "out": str(root / "out"), "base_url": BASE_URL}
    overrides = {"site": site, "run": {"workers": 1}, "collection": {"label": {"en": "Test"}}}
    cfg = load_config(None, overrides=overrides, environ={})
    report = run_job(cfg)
    assert not report.failures, report.failures
    db = sqlite3.connect(root / "out" / ".pipeline" / "state.sqlite")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()


if __name__ == "__main__":
    make(Path(sys.argv[1]))
