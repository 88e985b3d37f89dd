"""OCR of damaged print: ours vs plain ``tesseract -l kor``, with and without normalisation.

Pages come from ``pipeline.samples.generate`` (A4 at 300 dpi) in the two print fonts (Myeongjo and
Gothic), each ``clean`` or ``aged``: the damage of a 1990s leaf (gutter shadow and uneven
light, show-through of the other side, foxing, uneven ink, blur, skew). The *tuning* set (the
seed background normalisation was tuned on), two *held-out* sets (other seeds, so other
biographies, fillers and damage; the second one aged pages only), and a *check* set of the
other groups (print degraded and faded, handwriting clean and degraded).

In the same run and on the same masters:

- ours: ``pipeline run --stages ocr`` as configured by default, after an untimed ingest;
- normalised: the same with ``normalize_background = true`` (off by default: see the rows);
- the peer: ``tesseract MASTER out -l kor`` at its defaults, one page after another.

CER as in ``bench_ocr``. The review gate must flag every page above 10% CER.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.bench.bench_ocr import PageResult, cer
from tests.bench.bench_ocr_scripts import GATE_CER, WORKERS, a4_volume, run_ours, run_peer
from tests.bench.common import Row

PRINT_FONTS = ("print", "gothic")
# (set name, seed, (font, condition) per page); the held-out seed picks other biographies.
SETS: tuple[tuple[str, int, list[tuple[str, str]]], ...] = (
    ("tuning", 41, [(f, c) for _ in range(2) for c in ("clean", "aged") for f in PRINT_FONTS]),
    ("held-out", 52, [(f, c) for _ in range(2) for c in ("clean", "aged") for f in PRINT_FONTS]),
    ("held-out-2", 74, [(f, "aged") for _ in range(4) for f in PRINT_FONTS]),
    (
        "check",
        63,
        [(f, c) for f in PRINT_FONTS for c in ("degraded", "faded")]
        + [(f, c) for f in ("hand", "hand2") for c in ("clean", "degraded")],
    ),
)
PEER = "tesseract -l kor (defaults)"
VARIANTS: dict[str, dict[str, Any]] = {"ours": {}, "normalised": {"normalize_background": True}}


def _rate(pages: int, seconds: float) -> float:
    return 60 * pages / seconds


def set_rows(workdir: Path, label: str, seed: int, combos: list[tuple[str, str]]) -> list[Row]:
    """Rows of one set: CER per group (ours, normalised, peer), pages/min, the review gate."""
    scans, volume = f"scans-{label}", f"damage-{seed}"
    pages = a4_volume(workdir / scans, volume, seed, combos)
    files = [workdir / scans / volume / p.file for p in pages]
    run_ours(workdir, scans, volume, "warm-up", VARIANTS["ours"])
    times: dict[str, float] = {}
    texts: dict[str, dict[str, PageResult]] = {}
    for key, ocr in VARIANTS.items():
        times[key], texts[key], _ = run_ours(workdir, scans, volume, key, ocr)
    peer_s, peer = run_peer(workdir, files, f"peer-{label}")
    ours, norm = texts["ours"], texts["normalised"]
    for p in pages:
        print(
            f"[ocr_damage] {label} {p.page_id} {p.font:<6} {p.condition:<8} "
            f"CER ours {cer([p], ours):5.1f}% normalised {cer([p], norm):5.1f}% "
            f"peer {cer([p], peer):5.1f}% conf {ours[p.page_id].confidence} "
            f"review {ours[p.page_id].needs_review}",
            file=sys.stderr,
        )
    rows: list[Row] = []
    groups = sorted({(p.font, p.condition) for p in pages})
    for font, condition in groups:
        group = [p for p in pages if (p.font, p.condition) == (font, condition)]
        worse = [p.page_id for p in group if cer([p], ours) > cer([p], peer)]
        printed = font in PRINT_FONTS
        rows.append(
            Row(
                name=f"ocr damage: CER {label} {font} {condition}",
                ours=cer(group, ours),
                peer=cer(group, peer),
                unit="%",
                peer_name=PEER,
                target="< 3%, no page worse than the peer" if printed else "",
                note=(
                    f"{len(group)} pages; normalised {cer(group, norm):.2f}%; "
                    f"pages worse than the peer: {len(worse)} {' '.join(worse)}"
                ).rstrip(),
            )
        )
    n = len(pages)
    bad = [p for p in pages if cer([p], ours) > GATE_CER]
    hits = sum(ours[p.page_id].needs_review for p in bad)
    flagged = sum(r.needs_review for r in ours.values())
    rows += [
        Row(
            name=f"ocr damage: CER {label}, background normalised vs ours",
            ours=cer(pages, norm),
            peer=cer(pages, ours),
            unit="%",
            peer_name="ours (normalize_background = false)",
            target="no worse, to be on by default",
            note=f"{n} pages",
        ),
        Row(
            name=f"ocr damage: pages/min {label}, {WORKERS} workers",
            ours=_rate(n, times["ours"]),
            peer=_rate(n, peer_s),
            unit="p/min",
            higher_is_better=True,
            peer_name="tesseract -l kor, one page after another",
            note=f"one run each; background normalised {_rate(n, times['normalised']):.1f} p/min",
        ),
        Row(
            name=f"ocr damage: review gate {label}, pages > {GATE_CER:g}% CER missed",
            ours=len(bad) - hits,
            peer=None,
            unit="pages",
            target="0",
            note=f"{hits} flagged of {len(bad)} above {GATE_CER:g}%; {flagged} of {n} flagged",
        ),
    ]
    return rows


def run(workdir: Path) -> list[Row]:
    """The tuning set, the held-out set, then the check set of the other groups."""
    rows: list[Row] = []
    for label, seed, combos in SETS:
        rows += set_rows(workdir, label, seed, combos)
    return rows
