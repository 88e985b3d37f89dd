"""OCR of handwriting-like hands, with and without notebook ruling: ours vs plain tesseract.

Pages come from ``pipeline.samples.generate`` (A4 at 300 dpi) in the three handwriting-like
styles (Pen, Barunpen, Brush), each clean (two pages) and degraded (one page), in a *tuning*
set (the seed the line reader below was tuned on) and a *held-out* set (another seed, so other
biographies, other ruling). Every page is read three ways: as generated (the generator's own
faint rule under each line), with light notebook ruling (grey rules at an 8 mm pitch, so they
drift through the text lines, some crossing the strokes) and with darker ruling: the
generator's ``ruling`` option, which prints the rules on the paper, under the ink and the
damage.

In the same run and on the same masters, one page at a time:

- ours: ``pipeline run --stages ocr`` as configured by default, after an untimed ingest;
- own lines: the reader this benchmark measures for the stage (:func:`read_own_lines`): the
  page deskewed and binarised by ``pipeline.ocr.preprocess.prepare``, its text lines found by
  a projection profile (:func:`find_lines`) and read one by one (``--psm 7``) in one tesseract
  process (``pipeline.ocr.lines.read_lines``), instead of tesseract's own page layout
  (``--psm 4``), which rules and irregular baselines mislead;
- auto: ours, except on a page where ruling crosses the text (:func:`ruling_share`: a long
  thin horizontal dark run through the middle of at least :data:`RULED_SHARE` of the lines
  ours found) and own lines read it more confidently: the rule this benchmark proposes for
  the stage (unruled pages keep ours; ruled ones get a second reading);
- the peer: ``tesseract MASTER out -l kor`` at its defaults, one page after another.

CER as in ``bench_ocr``. One worker: tesseract runs one page at a time for every reader, so
the pages/min rows compare like with like.
"""

from __future__ import annotations

import sys
import tempfile
import time
from array import array
from pathlib import Path

import pyvips

from pipeline.config import Config, OcrConfig, load_config
from pipeline.imaging.vips import master_header, open_master, oriented_size
from pipeline.imaging.working_image import plan_reduction, working_image
from pipeline.ocr import hocr, preprocess
from pipeline.ocr import lines as ocr_lines
from pipeline.run.job import run_job
from pipeline.samples import RULINGS
from pipeline.siteurl import layout_for
from tests.bench.bench_ocr import PageResult, cer, read_ocr, timed_ocr
from tests.bench.bench_ocr_scripts import a4_volume, run_peer
from tests.bench.common import Row

HANDS = ("hand", "hand2", "brush")
COMBOS = [(f, c) for f in HANDS for c in ("clean", "clean", "degraded")]
SETS = (("tuning", 63), ("held-out", 91))
WORKERS = 1
MAX_PIXELS = 200_000_000
BASE_URL = "https://example.org/iiif/"
PEER = "tesseract -l kor (defaults)"

# Own line finding (on the binarised OCR image, ink 0).
LONG_RUN_IN = 0.4  # horizontal or vertical ink runs this long are rules or frame lines
LINE_ON = 0.08  # a row is text when its (smoothed) ink is this share of a full text row
SPECK_SHARE = 0.03  # column clusters with less of the band's ink are specks, not text
# Ruling detection (on the grey working image): a pixel is thin and dark when it is this much
# darker than the brightest grey a few pixels above and below it; such pixels in a horizontal
# run this long (gaps where strokes cross bridged) are a rule.
THIN_DARK = 12
# Measured on the generator's ruling: 0.38-0.64 on dark-ruled pages and light-ruled clean ones,
# 0.00-0.32 on light-ruled degraded ones (their blur fades the rules), 0.00 on unruled ones.
RULED_SHARE = 0.2


def _values(image: pyvips.Image) -> list[float]:
    data = array("d")
    data.frombytes(image.cast("double").write_to_memory())
    return list(data)


def strip_long_runs(binary: pyvips.Image, dpi: int) -> pyvips.Image:
    """The binary page (ink 0) without long horizontal and vertical runs (rules, frame)."""
    ink = (binary < 128).ifthenelse(255, 0).cast("uchar")
    side = max(9, round(LONG_RUN_IN * dpi))
    across = pyvips.Image.new_from_list([[255] * side])
    down = pyvips.Image.new_from_list([[255] for _ in range(side)])
    long = ink.erode(across).dilate(across) | ink.erode(down).dilate(down)
    return ((ink > 0) & (long == 0)).ifthenelse(0, 255).cast("uchar")


def _bands(profile: list[float]) -> list[list[int]]:
    """Runs of text rows of a smoothed row profile, merged and split to line height."""
    inked = sorted(v for v in profile if v > 0)
    if not inked:
        return []
    on = [v > LINE_ON * inked[int(0.9 * (len(inked) - 1))] for v in profile]
    bands: list[list[int]] = []
    for y, text in enumerate(on):
        if text and (not bands or bands[-1][1] != y):
            bands.append([y, y + 1])
        elif text:
            bands[-1][1] = y + 1
    if not bands:
        return []
    med = sorted(b[1] - b[0] for b in bands)[len(bands) // 2]
    merged = [bands[0]]
    for b in bands[1:]:
        gap, short = b[0] - merged[-1][1], b[1] - b[0] < 0.35 * med
        if gap < 0.25 * med or (short and gap < 0.6 * med):
            merged[-1][1] = b[1]
        else:
            merged.append(b)
    out: list[list[int]] = []
    for y0, y1 in (b for b in merged if b[1] - b[0] >= 0.35 * med):
        parts = round((y1 - y0) / med)
        if y1 - y0 < 1.6 * med or parts < 2:
            out.append([y0, y1])
            continue
        # A band much taller than a line holds several: cut it at the emptiest rows.
        step = (y1 - y0) / parts
        cuts = [y0]
        for k in range(1, parts):
            centre = round(y0 + k * step)
            lo, hi = (
                max(y0 + 1, centre - round(0.35 * step)),
                min(y1 - 1, centre + round(0.35 * step)),
            )
            cuts.append(min(range(lo, hi), key=lambda r: profile[r]))
        out += [[a, b] for a, b in zip(cuts, [*cuts[1:], y1], strict=True)]
    return out


def find_lines(binary: pyvips.Image, dpi: int) -> list[tuple[int, int, int, int]]:
    """Text line boxes ``(x0, y0, x1, y1)`` of a deskewed binary page, top to bottom."""
    ink = (binary < 128).ifthenelse(1, 0).cast("uchar")
    rows = _values(ink.project()[1])
    k = max(1, round(dpi / 50))
    profile = [sum(rows[max(0, i - k) : i + k + 1]) / (2 * k + 1) for i in range(len(rows))]
    boxes = []
    for y0, y1 in _bands(profile):
        columns = _values(ink.crop(0, y0, ink.width, y1 - y0).project()[0])
        clusters: list[list[float]] = []
        last = -(10**9)
        for x, v in enumerate(columns):
            if v <= 0:
                continue
            if not clusters or x - last > round(0.25 * dpi):
                clusters.append([x, x + 1, 0.0])
            clusters[-1][1:] = [x + 1, clusters[-1][2] + v]
            last = x
        total = sum(c[2] for c in clusters)
        kept = [c for c in clusters if c[2] >= SPECK_SHARE * total and c[1] - c[0] >= 0.05 * dpi]
        if kept:
            boxes.append((int(kept[0][0]), y0, int(kept[-1][1]), y1))
    return boxes


def rules(grey: pyvips.Image, dpi: int) -> pyvips.Image:
    """Long thin horizontal dark runs of a grey page (255): rules, not strokes or blots."""
    reach = max(1, round(dpi / 75))
    side = 2 * reach + 1
    paper = grey.rank(1, side, side - 1)
    dark = ((paper.cast("int") - grey.cast("int")) > THIN_DARK).ifthenelse(255, 0).cast("uchar")
    bridge = pyvips.Image.new_from_list([[255] * (max(3, round(dpi / 30)) | 1)])
    run = pyvips.Image.new_from_list([[255] * max(9, round(LONG_RUN_IN * dpi))])
    return dark.dilate(bridge).erode(bridge).erode(run).dilate(run)


def ruling_share(grey: pyvips.Image, dpi: int, boxes: list[tuple[int, int, int, int]]) -> float:
    """Share of the line ``boxes`` (in ``grey``'s pixels) crossed by a rule through their middle.

    A rule under a line (the generator's own, a notebook written on its lines) crosses none.
    """
    found = rules(grey, dpi)
    lines = [b for b in boxes if b[2] - b[0] > 0.5 * dpi]
    crossed = 0
    for x0, y0, x1, y1 in lines:
        top, bottom = y0 + round(0.2 * (y1 - y0)), y1 - round(0.2 * (y1 - y0))
        if bottom > top:
            band = found.crop(x0, top, x1 - x0, bottom - top)
            crossed += max(_values(band.project()[1])) / 255 >= 0.5 * (x1 - x0)
    return crossed / max(1, len(lines))


def read_own_lines(
    master: Path, cfg: OcrConfig, canvas_boxes: list[tuple[int, int, int, int]]
) -> tuple[str, float, float, float]:
    """The page read line by line (:func:`find_lines`, ``--psm 7``).

    Args:
        master: The page.
        cfg: The OCR settings.
        canvas_boxes: The lines ours found (canvas pixels), for :func:`ruling_share`.

    Returns:
        The text, its mean word confidence, the ruling share and the time taken.
    """
    started = time.perf_counter()
    header = master_header(master, max_pixels=MAX_PIXELS)
    plan = plan_reduction(header, dpi=cfg.dpi, assume_dpi=cfg.assume_dpi)
    grey = working_image(open_master(master, max_pixels=MAX_PIXELS), plan)
    k = grey.width / oriented_size(header)[0]
    boxes = [
        (round(a * k), round(b * k), round(c * k), round(d * k)) for a, b, c, d in canvas_boxes
    ]
    share = ruling_share(grey, plan.dpi, boxes)
    with tempfile.TemporaryDirectory(prefix="own-lines-") as tmp:
        work = Path(tmp)
        image = work / "page.png"
        prepared = preprocess.prepare(
            grey,
            image,
            plan=plan,
            canvas=oriented_size(header),
            binarize=cfg.binarize,
            deskew=True,
            crop_border=cfg.crop_border,
        )
        binary = strip_long_runs(pyvips.Image.new_from_file(str(image)), prepared.dpi)
        res = prepared.dpi / 25.4
        binary.copy(xres=res, yres=res).pngsave(str(image), compression=1, bitdepth=1)
        readings = ocr_lines.read_lines(
            image,
            find_lines(binary, prepared.dpi),
            lang="+".join(cfg.languages),
            work=work,
            dpi=prepared.dpi,
            timeout_s=cfg.timeout_s,
        )
    read = [r for r in readings if r is not None]
    words = [w.confidence for r in read for w in r.words]
    confidence = sum(words) / len(words) if words else 0.0
    text = "\n".join(r.text for r in read)
    return text, confidence, share, time.perf_counter() - started


def _config(workdir: Path, scans: str, name: str) -> Config:
    return load_config(
        None,
        overrides={
            "site": {
                "scans": str(workdir / scans),
                "out": str(workdir / f"out-{scans}-{name}"),
                "base_url": BASE_URL,
            },
            "run": {"workers": WORKERS},
        },
        environ={},
    )


Boxes = list[tuple[int, int, int, int]]


def run_ours(
    workdir: Path, scans: str, volume: str
) -> tuple[float, dict[str, PageResult], dict[str, Boxes]]:
    """Untimed ingest, then the timed OCR stage as configured; the pages' text and line boxes."""
    cfg = _config(workdir, scans, "ours")
    report = run_job(cfg, stages=["ingest"])
    if report.failures:
        raise RuntimeError(f"{scans}: {[f.error for f in report.failures]}")
    wall = timed_ocr(cfg, scans)
    layout = layout_for(cfg)
    results, boxes = {}, {}
    for page, (result, data) in read_ocr(cfg, volume).items():
        results[page] = result
        lines = hocr.parse(layout.path(data["hocr"]).read_text(encoding="utf-8")).lines
        boxes[page] = [line.bbox for line in lines]
    return wall, results, boxes


def _rate(pages: int, seconds: float) -> float:
    return 60 * pages / seconds


def set_rows(workdir: Path, label: str, seed: int) -> list[Row]:
    """Rows of one set: per ruling and group, ours, own lines and the peer; pages/min."""
    volume = f"hands-{seed}"
    cfg = OcrConfig()
    rows: list[Row] = []
    # Ruling: none (the generator's own faint rule under each line), light and dark.
    for ruling in RULINGS:
        scans = f"scans-{label}-{ruling}"
        pages = a4_volume(workdir / scans, volume, seed, COMBOS, ruling=ruling)
        files = [workdir / scans / volume / p.file for p in pages]
        ours_s, ours, boxes = run_ours(workdir, scans, volume)
        own: dict[str, PageResult] = {}
        auto: dict[str, PageResult] = {}
        shares: list[str] = []
        own_s = 0.0
        for p, path in zip(pages, files, strict=True):
            text, confidence, share, took = read_own_lines(path, cfg, boxes[p.page_id])
            own[p.page_id] = PageResult(p.page_id, text, confidence)
            better = confidence > (ours[p.page_id].confidence or 0.0)
            auto[p.page_id] = own[p.page_id] if share >= RULED_SHARE and better else ours[p.page_id]
            shares.append(f"{share:.2f}")
            own_s += took
        peer_s, peer = run_peer(workdir, files, f"peer-{label}-{ruling}")
        for p in pages:
            print(
                f"[ocr_hands] {label} {ruling:<5} {p.page_id} {p.font:<5} {p.condition:<8} "
                f"CER ours {cer([p], ours):5.1f}% own lines {cer([p], own):5.1f}% "
                f"auto {cer([p], auto):5.1f}% peer {cer([p], peer):5.1f}%",
                file=sys.stderr,
            )
        for font in HANDS:
            for condition in ("clean", "degraded"):
                group = [p for p in pages if (p.font, p.condition) == (font, condition)]
                rows.append(
                    Row(
                        name=f"ocr hands: CER {label} {ruling} ruling {font} {condition}",
                        ours=cer(group, ours),
                        peer=cer(group, peer),
                        unit="%",
                        peer_name=PEER,
                        target="< 15%, no page worse than the peer",
                        note=(
                            f"{len(group)} pages; own lines {cer(group, own):.2f}%, "
                            f"auto {cer(group, auto):.2f}%"
                        ),
                    )
                )
        n = len(pages)
        rows += [
            Row(
                name=f"ocr hands: CER {label} {ruling} ruling, own lines vs ours",
                ours=cer(pages, own),
                peer=cer(pages, ours),
                unit="%",
                peer_name="ours (tesseract's page layout, --psm 4)",
                note=f"{n} pages",
            ),
            Row(
                name=f"ocr hands: CER {label} {ruling} ruling, auto vs ours",
                ours=cer(pages, auto),
                peer=cer(pages, ours),
                unit="%",
                peer_name="ours (tesseract's page layout, --psm 4)",
                note=f"ruling share per page {' '.join(shares)}; ruled from {RULED_SHARE:g}",
            ),
            Row(
                name=f"ocr hands: pages/min {label} {ruling} ruling, own lines",
                ours=_rate(n, own_s),
                peer=_rate(n, peer_s),
                unit="p/min",
                higher_is_better=True,
                peer_name="tesseract -l kor, one page after another",
                note=f"ours (stage, {WORKERS} worker) {_rate(n, ours_s):.1f} p/min",
            ),
        ]
    return rows


def run(workdir: Path) -> list[Row]:
    """The tuning set, then the held-out set."""
    rows: list[Row] = []
    for label, seed in SETS:
        rows += set_rows(workdir, label, seed)
    return rows
