"""OCR on every page group in one table, tuning and held-out sets: ours vs plain tesseract.

Pages come from ``pipeline.samples.generate`` (A4 at 300 dpi): print (Myeongjo, Gothic) clean
and damaged (aged: gutter shadow, uneven light, show-through, foxing, uneven ink, blur and
skew; degraded; faded), handwriting-like hands (Pen, Barunpen, Brush) clean and damaged, and
Korean pages with Russian passages (``mixed``) clean and damaged, with no language set. Two
sets that share neither seed nor text: the *tuning* set (the biographies and Russian passages
of the ``tuning`` sets) and the *held-out* set (the ``held-out`` ones, another seed), never
tuned on.

In the same run and on the same masters:

- ours: ``pipeline run --stages ingest,ocr`` as configured by default, ``WORKERS`` worker
  processes (each tesseract single-threaded), both stages timed;
- the peer: ``tesseract MASTER out -l kor`` at its defaults (its own threading), one page
  after another: what a user would run by hand;
- ``VARIANTS``: ours with one setting changed, CER per group and pages/min (how a technique
  earns its place).

CER as in ``bench_ocr`` (edit distance / reference length, NFC, white space removed). The
review gate must flag every page above ``GATE_CER``. The machine's load average is printed
with the timings: other work only ever adds time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.run.job import run_job
from pipeline.samples.generate import SamplePage
from tests.bench.bench_ocr import PageResult, cer, read_ocr, run_peer, timed_ocr
from tests.bench.bench_ocr_scripts import GATE_CER, WORKERS, _config, _gate, a4_volume
from tests.bench.common import Row

# (set name, seed, text set): the text set picks the biographies and the Russian passages.
SETS = (("tuning", 201, "tuning"), ("held-out", 302, "held-out"))
# (group, target CER in percent, (style, condition) per page).
GROUPS: tuple[tuple[str, float, tuple[tuple[str, str], ...]], ...] = (
    ("print clean", 3.0, (("print", "clean"), ("gothic", "clean"))),
    (
        "print damaged",
        3.0,
        (("print", "aged"), ("gothic", "aged"), ("print", "degraded"), ("gothic", "faded")),
    ),
    ("hands clean", 15.0, (("hand", "clean"), ("hand2", "clean"), ("brush", "clean"))),
    ("hands damaged", 15.0, (("hand", "degraded"), ("hand2", "aged"), ("brush", "degraded"))),
    ("mixed clean", 5.0, (("mixed", "clean"), ("mixed", "clean"))),
    ("mixed damaged", 5.0, (("mixed", "aged"), ("mixed", "degraded"))),
)
# The whole pipeline's OCR (ingest + ocr) against one plain tesseract after another.
THROUGHPUT_TARGET = 3.5
PEER = "tesseract -l kor (defaults)"
# One setting changed from the default each: (label, [ocr] overrides). Without reread_dpi is
# the stage before lines were read again at 200 dpi (pipeline.ocr.sharper); reread_confidence
# = 88 also reads doubtful lines of the page's script again.
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("reread_dpi = 0 (the stage before)", {"reread_dpi": 0}),
    ("reread_confidence = 88 (Korean lines too)", {"reread_confidence": 88}),
)


def generate(workdir: Path, label: str, seed: int, text_set: str) -> tuple[str, list[SamplePage]]:
    """The set's volume (one page per group member); its scans folder name and pages."""
    combos = [combo for _, _, members in GROUPS for combo in members]
    scans = f"scans-{label}"
    pages = a4_volume(
        workdir / scans, f"groups-{seed}", seed, combos, russian_set=text_set, people_set=text_set
    )
    return scans, pages


def run_pipeline(
    workdir: Path, scans: str, volume: str, name: str, ocr: dict[str, Any]
) -> tuple[float, float, dict[str, PageResult], dict[str, dict[str, Any]]]:
    """Ingest and OCR as configured (with ``ocr`` overrides), each timed.

    Returns:
        Ingest's and OCR's wall time, each page's text and its OCR record's data.
    """
    cfg = _config(workdir, scans, name, ocr)
    started = time.perf_counter()
    report = run_job(cfg, stages=["ingest"])
    ingest_s = time.perf_counter() - started
    if report.failures:
        raise RuntimeError(f"{name}: {[f.error for f in report.failures]}")
    ocr_s = timed_ocr(cfg, name)
    read = read_ocr(cfg, volume)
    return (
        ingest_s,
        ocr_s,
        {k: r for k, (r, _) in read.items()},
        {k: d for k, (_, d) in read.items()},
    )


def _group(pages: list[SamplePage], members: tuple[tuple[str, str], ...]) -> list[SamplePage]:
    return [p for p in pages if (p.font, p.condition) in members]


def group_rows(
    label: str, pages: list[SamplePage], ours: dict[str, PageResult], peer: dict[str, PageResult]
) -> list[Row]:
    """Per group: CER ours vs the peer, pages worse than the peer, the gate's hits and misses."""
    rows = []
    for name, target, members in GROUPS:
        group = _group(pages, members)
        worse = [p.page_id for p in group if cer([p], ours) > cer([p], peer)]
        hits, misses, _ = _gate(group, ours)
        rows.append(
            Row(
                name=f"ocr groups: CER {label} {name}",
                ours=cer(group, ours),
                peer=cer(group, peer),
                unit="%",
                peer_name=PEER,
                target=f"< {target:g}%, no page worse than the peer",
                note=(
                    f"{len(group)} pages; worse than the peer: {len(worse)} {' '.join(worse)}; "
                    f"gate: {hits} of {hits + misses} above {GATE_CER:g}% flagged"
                ),
            )
        )
    return rows


def set_rows(workdir: Path, label: str, seed: int, text_set: str) -> list[Row]:
    """Rows of one set: every group, the throughput, the gate, the variants."""
    scans, pages = generate(workdir, label, seed, text_set)
    volume = f"groups-{seed}"
    files = [workdir / scans / volume / p.file for p in pages]
    load = os.getloadavg()[0]
    ingest_s, ocr_s, ours, data = run_pipeline(workdir, scans, volume, "ours", {})
    peer_s, peer = run_peer(workdir, files, f"peer-{label}", 1)
    load = max(load, os.getloadavg()[0])
    for p in pages:
        print(
            f"[ocr_groups] {label} {p.page_id} {p.font:<6} {p.condition:<8} "
            f"CER ours {cer([p], ours):5.1f}% peer {cer([p], peer):5.1f}% "
            f"conf {ours[p.page_id].confidence} review {ours[p.page_id].needs_review} "
            f"{data[p.page_id]['language']} {data[p.page_id]['lines_replaced']}",
            file=sys.stderr,
        )
    n = len(pages)
    hits, misses, flagged = _gate(pages, ours)
    rows = group_rows(label, pages, ours, peer)
    rows += [
        Row(
            name=f"ocr groups: pages/min {label}, ingest + ocr, {WORKERS} workers",
            ours=60 * n / (ingest_s + ocr_s),
            peer=60 * n / peer_s,
            unit="p/min",
            higher_is_better=True,
            peer_name=f"{PEER}, one page after another",
            target=f">= {THROUGHPUT_TARGET:g}x the peer's rate",
            note=(
                f"{n} pages; ours {ingest_s:.1f} + {ocr_s:.1f} s (ocr alone "
                f"{peer_s / ocr_s:.2f}x the peer), peer {peer_s:.1f} s; load average {load:.1f}"
            ),
        ),
        Row(
            name=f"ocr groups: review gate {label}, pages > {GATE_CER:g}% CER missed",
            ours=misses,
            peer=None,
            unit="pages",
            target="0",
            note=f"{hits} flagged of {hits + misses} above {GATE_CER:g}%; {flagged} of {n} flagged",
        ),
    ]
    for variant, overrides in VARIANTS:
        key = "-".join(f"{k}{v}" for k, v in overrides.items())
        other_ingest_s, other_s, other, _ = run_pipeline(workdir, scans, volume, key, overrides)
        notes = [
            f"{name} {cer(_group(pages, m), ours):.2f} vs {cer(_group(pages, m), other):.2f}"
            for name, _, m in GROUPS
        ]
        notes.append(
            f"ingest + ocr {60 * n / (ingest_s + ocr_s):.1f} vs "
            f"{60 * n / (other_ingest_s + other_s):.1f} p/min"
        )
        rows.append(
            Row(
                name=f"ocr groups: CER {label}, default vs {variant}",
                ours=cer(pages, ours),
                peer=cer(pages, other),
                unit="%",
                peer_name=variant,
                note="; ".join(notes),
            )
        )
    return rows


def run(workdir: Path) -> list[Row]:
    """The tuning set, then the held-out set."""
    rows: list[Row] = []
    for label, seed, text_set in SETS:
        rows += set_rows(workdir, label, seed, text_set)
    return rows
