"""OCR of one page: prepare the image, run tesseract, read doubtful lines again.

The page is read once at ``ocr.dpi``; lines it read poorly in another script are read again
with ``ocr.line_languages`` (:mod:`pipeline.ocr.lines`), those still unread (and, with
``ocr.reread_confidence``, lines of its own script read at a low confidence) again from the
page at ``ocr.reread_dpi`` (:mod:`pipeline.ocr.sharper`). A page the review gate holds
(:func:`judged`) has its orientation detected on the same OCR image, for the contact sheet of
the report. :mod:`pipeline.stages.ocr` turns the result into files.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import pyvips

from pipeline.config import OcrConfig
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.imaging import working_image as reduction
from pipeline.imaging.vips import (
    header_get,
    master_header,
    open_master,
    oriented_size,
    vips_message,
)
from pipeline.layout import Layout
from pipeline.ocr import hocr, preprocess, sharper, tesseract
from pipeline.ocr import lines as ocr_lines
from pipeline.stages.spec import PageInput


def working_image(
    inp: PageInput, cfg: OcrConfig, max_pixels: int, layout: Layout, dpi: int | None = None
) -> tuple[pyvips.Image, reduction.Reduction, tuple[int, int], Path]:
    """The grey, resampled page OCR starts from: ingest's kept copy, or decoded from the master.

    Both give the same pixels (the same functions on the same master), so output does not
    depend on which was used. ``dpi`` overrides ``ocr.dpi``; ingest keeps no copy at it, so the
    master is decoded.

    Returns:
        The image, how it was reduced, the canvas size, and where ingest keeps its copy.

    Raises:
        ScanError: The master cannot be read.
        pyvips.Error: libvips failed decoding or converting.
    """
    item = inp.item
    # Planning needs only the header: a JPEG 2000 master is decoded only if no copy is kept.
    header = master_header(Path(item.source), max_pixels=max_pixels)
    plan = reduction.plan_reduction(
        header, dpi=cfg.dpi if dpi is None else dpi, assume_dpi=cfg.assume_dpi
    )
    canvas = oriented_size(header)
    ingest = inp.upstream.ingest
    sha = ingest.sha256 if ingest is not None else ""
    kept = layout.working_image_path(item.volume, item.page, reduction.working_image_key(sha, plan))
    # Ingest keeps a copy at ocr.dpi only: at another resolution there is none to look for.
    cached = plan.resamples and sha and dpi is None
    grey = reduction.load_working_image(kept, plan, canvas) if cached else None
    if grey is None:
        # Rotating the master itself (not a resampled copy) needs random access.
        rotates = int(header_get(header, "orientation", 1) or 1) != 1
        access = "random" if rotates and not plan.resamples else "sequential"
        master = open_master(
            Path(item.source), max_pixels=max_pixels, access=access, scratch=layout.scratch_dir
        )
        unit = ingest is not None and ingest.unit_floats
        grey = reduction.working_image(master, plan, unit_floats=unit)
    return grey, plan, canvas, kept


def recognise(
    inp: PageInput, work: Path, *, lang: str, cfg: OcrConfig, max_pixels: int, layout: Layout
) -> tuple[preprocess.Prepared, dict[str, str], Path]:
    """Prepare the page image in ``work`` and run tesseract once for hOCR, ALTO and text.

    Returns:
        How the OCR image maps to the canvas, tesseract's outputs by kind, and where ingest
        keeps the page's working image.

    Raises:
        OcrError: libvips could not prepare the image, or tesseract failed.
        ScanError: The master cannot be read.
    """
    image = work / "page.png"
    try:
        grey, plan, canvas, kept = working_image(inp, cfg, max_pixels, layout)
        prepared = _prepare(grey, image, plan, canvas, cfg)
    except pyvips.Error as exc:
        raise OcrError(f"cannot prepare the image for OCR: {vips_message(exc)}") from None
    produced = tesseract.recognize(
        image=image,
        out_base=work / "page",
        lang=lang,
        psm=cfg.psm_for(lang),
        timeout_s=cfg.timeout_s,
        formats=("hocr", "alto", "txt"),
        dpi=prepared.dpi,
    )
    texts = {kind: path.read_text(encoding="utf-8") for kind, path in produced.items()}
    return prepared, texts, kept


def _prepare(
    grey: pyvips.Image,
    image: Path,
    plan: reduction.Reduction,
    canvas: tuple[int, int],
    cfg: OcrConfig,
) -> preprocess.Prepared:
    return preprocess.prepare(
        grey,
        image,
        plan=plan,
        canvas=canvas,
        binarize=cfg.binarize,
        deskew=cfg.deskew,
        crop_border=cfg.crop_border,
        normalize_background=cfg.normalize_background,
    )


def sharpen(
    inp: PageInput,
    page: hocr.Page,
    readings: dict[int, ocr_lines.Reading],
    prepared: preprocess.Prepared,
    work: Path,
    *,
    doubtful: list[int],
    lang: str,
    cfg: OcrConfig,
    max_pixels: int,
    layout: Layout,
) -> tuple[dict[int, ocr_lines.Reading], dict[int, ocr_lines.Reading]]:
    """Doubtful lines read again from the page at ``ocr.reread_dpi`` (:mod:`sharper`).

    Lines of the page's script under ``ocr.reread_confidence``, and lines of other scripts
    the first re-reading (:func:`reread_lines`) left as they were, if any: the page is only
    prepared again for them. ``doubtful`` are the page's lines probably in another script
    (:func:`pipeline.ocr.lines.doubtful`).

    Returns:
        The readings of other scripts (``readings`` and those found now), and the readings
        of the page's script, by line index.

    Raises:
        OcrError: libvips could not prepare the image or cut lines out, or tesseract failed.
        ScanError: The master cannot be read.
    """
    own = sharper.doubtful(page, lang, below=cfg.reread_confidence, skip=set(readings))
    others = [n for n in doubtful if n not in readings]
    others = others if _other_scripts(cfg, lang) else []
    if not cfg.reread_dpi or not (own or others):
        return readings, {}
    image = work / "sharp.png"
    try:
        grey, plan, canvas, _ = working_image(inp, cfg, max_pixels, layout, dpi=cfg.reread_dpi)
        if plan.dpi <= prepared.dpi:
            return readings, {}
        sharp = sharper.Sharp(image, _prepare(grey, image, plan, canvas, cfg), prepared)
        found = (
            sharper.reread(page, own, sharp, lang=lang, work=work, timeout_s=cfg.timeout_s)
            if own
            else {}
        )
    except pyvips.Error as exc:
        raise OcrError(
            f"cannot read lines again at {cfg.reread_dpi} dpi: {vips_message(exc)}"
        ) from None
    if others:
        there = sharp.lines_there(page)
        more = reread_lines(there, image, others, lang=lang, cfg=cfg, dpi=plan.dpi)
        readings = readings | {n: sharp.back(r) for n, r in more.items()}
    return readings, found


def _other_scripts(cfg: OcrConfig, lang: str) -> bool:
    """Whether ``ocr.line_languages`` adds models to a horizontal page's ``lang``."""
    parts = lang.split("+")
    if all(part.endswith("_vert") for part in parts):
        return False
    return bool(set(cfg.line_languages) - set(parts))


def reread_lines(
    page: hocr.Page,
    image: Path,
    lines: list[int],
    *,
    lang: str,
    cfg: OcrConfig,
    dpi: int,
) -> dict[int, ocr_lines.Reading]:
    """Lines of other scripts read again with ``ocr.line_languages`` (none for vertical pages).

    ``lines`` are the doubtful ones to read (:func:`pipeline.ocr.lines.reread`).

    Returns:
        The readings that replace lines, by line index.

    Raises:
        OcrError: libvips could not cut the lines out, or tesseract failed.
    """
    if not _other_scripts(cfg, lang):
        return {}
    try:
        return ocr_lines.reread(
            page,
            image,
            lines,
            page_lang=lang,
            line_languages=cfg.line_languages,
            work=image.parent,
            dpi=dpi,
            timeout_s=cfg.timeout_s,
        )
    except pyvips.Error as exc:
        raise OcrError(f"cannot cut lines out for OCR: {vips_message(exc)}") from None


def judged(page: hocr.Page, cfg: OcrConfig) -> tuple[float | None, bool]:
    """The review gate: a page's mean word confidence and whether it is held for review.

    Args:
        page: The page as first read, lines in other scripts put in (a sharper reading of a
            line is more confident, not always right).
        cfg: The OCR settings (``ocr.review_confidence``).

    Returns:
        The mean confidence (0-100, two decimals; ``None`` for a page without words) and
        whether it is under ``ocr.review_confidence``.
    """
    confs = [w.confidence for w in page.words]
    confidence = round(sum(confs) / len(confs), 2) if confs else None
    return confidence, confidence is not None and confidence < cfg.review_confidence


class Orientation(NamedTuple):
    """Which way up tesseract's orientation detection (``--psm 0``) found a page."""

    degrees: int | None = None  # 0, 90, 180 or 270 (180: upside down)
    confidence: float | None = None
    error: str | None = None  # why it could not tell


def orientation(image: Path, cfg: OcrConfig) -> Orientation:
    """Detect which way up the page's OCR image is.

    An upside-down page gives tesseract nothing it recognises, so the review gate always holds
    it; only held pages are looked at. The OCR image (at ``ocr.dpi``, 900-1,240 px wide for
    the sample pages) tells upright from upside-down pages as well as the full-size
    derivative does: confidence 12-31 on both for pages in print and gothic type, turned or
    not; at 450 px, 0.3-3.3 and often the wrong way. Handwriting-like pages defeat it at every
    size (under 3, either way up), but on the OCR image no upright one was said to be turned
    with the contact sheet's 2 (the full-size derivative said so of one, at 2.9).

    A failure (too little text to tell, or a timeout) is recorded, not raised: the page's
    text is read all the same.
    """
    try:
        degrees, confidence = tesseract.orientation(image=image, timeout_s=cfg.timeout_s)
    except OcrError as exc:
        return Orientation(error=str(exc))
    return Orientation(degrees, confidence)


class Recognised(NamedTuple):
    """The page as tesseract read it, and the lines read again."""

    prepared: preprocess.Prepared  # how the OCR image maps to the canvas
    page: hocr.Page
    readings: dict[int, ocr_lines.Reading]  # lines read again in other scripts, by index
    reread: int  # how many lines were read again
    sharpened: dict[int, ocr_lines.Reading]  # lines of the page's script read again, sharper
    texts: dict[str, str]  # tesseract's outputs by kind
    kept: Path  # where ingest keeps the page's working image
    first: hocr.Page  # the page as the review gate judges it (:func:`judged`)
    orientation: Orientation  # detected only for a page the gate holds


def recognised(inp: PageInput, cfg: OcrConfig, max_pixels: int, layout: Layout) -> Recognised:
    """Run tesseract on the page (and on lines of other scripts) in a scratch folder.

    Raises:
        OcrError: A page language is not installed, or tesseract failed or wrote nonsense.
        ScanError: The master cannot be read.
    """
    item = inp.item
    lang = "+".join(item.ocr_languages)
    try:
        tesseract.check_languages([lang])
    except MissingDependencyError as exc:
        # A language named by this page's volume.toml, not by the configuration.
        raise OcrError(str(exc)) from None
    layout.scratch_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"ocr-{item.page}-", dir=layout.scratch_dir))
    try:
        prepared, texts, kept = recognise(
            inp, work, lang=lang, cfg=cfg, max_pixels=max_pixels, layout=layout
        )
        page = hocr.line_texts(hocr.parse(texts["hocr"]), texts["txt"])
        image = work / "page.png"
        doubtful = ocr_lines.doubtful(page, lang)
        readings = reread_lines(page, image, doubtful, lang=lang, cfg=cfg, dpi=prepared.dpi)
        reread = len(doubtful) if _other_scripts(cfg, lang) else 0
        readings, sharpened = sharpen(
            inp,
            page,
            readings,
            prepared,
            work,
            doubtful=doubtful,
            lang=lang,
            cfg=cfg,
            max_pixels=max_pixels,
            layout=layout,
        )
        first = ocr_lines.apply(page, readings)
        held = judged(first, cfg)[1]
        turned = orientation(image, cfg) if held else Orientation()
    except hocr.HocrError as exc:
        raise OcrError(f"tesseract wrote unreadable output: {exc}") from None
    finally:
        shutil.rmtree(work)
    return Recognised(prepared, page, readings, reread, sharpened, texts, kept, first, turned)
