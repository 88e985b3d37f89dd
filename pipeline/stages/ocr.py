"""OCR: a master -> hOCR, ALTO, text and the canvas boxes of its lines, via tesseract.

One single-threaded tesseract process per page writes hOCR, ALTO and plain text in one pass
over an image libvips prepared (:mod:`pipeline.ocr.preprocess`). Lines that pass reads poorly
(Russian on a Korean page) are read again one by one with ``ocr.line_languages``
(:mod:`pipeline.ocr.lines`). Every coordinate written is mapped back to the canvas. Pages under
``ocr.review_confidence`` are flagged ``needs_review``; unless ``ocr.publish_low_confidence``
is set, their output stays in the work folder (for review) and gets no annotations. The IIIF
annotation page is written by the ``annotations`` stage: a new base URL never reruns tesseract.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pyvips
from pydantic import BaseModel, ConfigDict

from pipeline import __version__
from pipeline.config import Config, OcrConfig
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.fsio import write_text_atomic
from pipeline.imaging import working_image as reduction
from pipeline.imaging.vips import (
    header_get,
    master_header,
    open_master,
    oriented_size,
    vips_message,
)
from pipeline.layout import OCR_SUFFIXES, Layout
from pipeline.ocr import alto, hocr, page_text, preprocess, tesseract
from pipeline.ocr import lines as ocr_lines
from pipeline.records import PageItem, StageRecord
from pipeline.results import OcrResult
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "ocr"


class OcrSettings(BaseModel):
    """What OCR output depends on (no URLs: the annotations stage adds those)."""

    model_config = ConfigDict(frozen=True)

    ocr: OcrConfig
    max_pixels: int


def settings(cfg: Config) -> OcrSettings:
    """The OCR section and the pixel limit."""
    return OcrSettings(ocr=cfg.ocr, max_pixels=cfg.ingest.max_pixels)


def preflight(settings: OcrSettings) -> dict[str, str]:
    """Tesseract and every configured language must be installed."""
    if not settings.ocr.enabled:
        return {}
    version = tesseract.version()
    tesseract.check_languages(settings.ocr.languages)
    try:
        tesseract.check_languages(settings.ocr.line_languages)
    except MissingDependencyError as exc:
        raise MissingDependencyError(f"{exc}; or set ocr.line_languages = []") from None
    return {"tesseract": version}


def volume_problems(settings: OcrSettings, pages: Sequence[PageItem]) -> list[str]:
    """Languages a volume's descriptor asks for that are not installed, said once at job start.

    The configured languages are checked by :func:`preflight`, before any work; these only
    make the volume's own pages fail (each with the same one-line message).
    """
    if not settings.ocr.enabled:
        return []
    problems = []
    for spec in sorted({"+".join(item.ocr_languages) for item in pages}):
        try:
            tesseract.check_languages([spec])
        except MissingDependencyError as exc:
            problems.append(f"{exc}; OCR of this volume's pages will fail")
    return list(dict.fromkeys(problems))


def working_image(
    inp: PageInput, cfg: OcrConfig, max_pixels: int, layout: Layout
) -> tuple[pyvips.Image, reduction.Reduction, tuple[int, int], Path]:
    """The grey, resampled page OCR starts from: ingest's kept copy, or decoded from the master.

    Both give the same pixels (the same functions on the same master), so output does not
    depend on which was used.

    Returns:
        The image, how it was reduced, the canvas size, and where ingest keeps its copy.

    Raises:
        ScanError: The master cannot be read.
        pyvips.Error: libvips failed decoding or converting.
    """
    item = inp.item
    # Planning needs only the header: a JPEG 2000 master is decoded only if no copy is kept.
    header = master_header(Path(item.source), max_pixels=max_pixels)
    plan = reduction.plan_reduction(header, dpi=cfg.dpi, assume_dpi=cfg.assume_dpi)
    canvas = oriented_size(header)
    ingest = inp.upstream.ingest
    sha = ingest.sha256 if ingest is not None else ""
    kept = layout.working_image_path(item.volume, item.page, reduction.working_image_key(sha, plan))
    grey = reduction.load_working_image(kept, plan, canvas) if plan.resamples and sha else None
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
        prepared = preprocess.prepare(
            grey,
            image,
            plan=plan,
            canvas=canvas,
            binarize=cfg.binarize,
            deskew=cfg.deskew,
            crop_border=cfg.crop_border,
            normalize_background=cfg.normalize_background,
        )
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


def reread_lines(
    page: hocr.Page, work: Path, *, lang: str, cfg: OcrConfig, dpi: int
) -> tuple[dict[int, ocr_lines.Reading], int]:
    """Lines of other scripts read again with ``ocr.line_languages`` (none for vertical pages).

    Returns:
        The readings that replace lines, by line index, and how many lines were read again.

    Raises:
        OcrError: libvips could not cut the lines out, or tesseract failed.
    """
    if not cfg.line_languages or all(part.endswith("_vert") for part in lang.split("+")):
        return {}, 0
    if not set(cfg.line_languages) - set(lang.split("+")):
        return {}, 0
    try:
        readings = ocr_lines.reread(
            page,
            work / "page.png",
            page_lang=lang,
            line_languages=cfg.line_languages,
            work=work,
            dpi=dpi,
            timeout_s=cfg.timeout_s,
        )
    except pyvips.Error as exc:
        raise OcrError(f"cannot cut lines out for OCR: {vips_message(exc)}") from None
    return readings, len(ocr_lines.doubtful(page, lang))


def _write(layout: Layout, outputs: dict[str, str], path: Path, text: str) -> str:
    outputs[layout.rel(path)] = write_text_atomic(path, text)
    return layout.rel(path)


def store(
    layout: Layout,
    item: PageItem,
    documents: dict[str, str],
    *,
    published: bool,
) -> tuple[dict[str, str], dict[str, str | None]]:
    """Write the page's OCR files where the confidence policy puts them.

    Published pages go to the public tree; withheld ones to the work folder, and any public
    copy left by an earlier run is removed, so nothing withheld is ever uploaded.

    Returns:
        The record's outputs (path -> sha256) and the layout-relative path of each kind.
    """
    outputs: dict[str, str] = {}
    files: dict[str, str | None] = {}
    keep = layout.ocr_path if published else layout.withheld_ocr_path
    drop = layout.withheld_ocr_path if published else layout.ocr_path
    for kind, text in documents.items():
        files[kind] = _write(layout, outputs, keep(item.volume, item.page, kind), text)
        drop(item.volume, item.page, kind).unlink(missing_ok=True)
    if not published:
        # Its annotation page (written by the annotations stage) must not stay public either.
        layout.annotations_path(item.volume, item.page).unlink(missing_ok=True)
    return outputs, files


def _documents(
    texts: dict[str, str],
    page: hocr.Page,
    readings: dict[int, ocr_lines.Reading],
    prepared: preprocess.Prepared,
    *,
    lang: str,
    cfg: OcrConfig,
    image: str,
) -> tuple[dict[str, str], hocr.Page, str]:
    """HOCR and ALTO in canvas coordinates, lines read again in other scripts put in.

    Returns:
        The documents by kind, the page (with those lines), and every language used.

    Raises:
        OcrError: Tesseract wrote output that cannot be parsed.
    """
    used = sorted({r.lang for r in readings.values()}, key=cfg.line_languages.index)
    settings_text = f"-l {lang} --psm {cfg.psm_for(lang)} --dpi {prepared.dpi}"
    try:
        if used:
            settings_text += f"; lines in other scripts: -l {'/'.join(used)} --psm 7"
            replaced = ocr_lines.by_box(page, readings)
            texts["hocr"] = hocr.replace_lines(texts["hocr"], replaced)
            texts["alto"] = alto.replace_lines(texts["alto"], replaced)
            page = ocr_lines.apply(page, readings)
            lang = "+".join([lang, *used])
        size = {"width": prepared.canvas_width, "height": prepared.canvas_height}
        documents = {
            "hocr": hocr.rewrite(
                texts["hocr"], prepared.transform, image=image, dpi=prepared.source_dpi, **size
            ),
            "alto": alto.rewrite(
                texts["alto"],
                prepared.transform,
                image=image,
                steps=[*prepared.steps, "coordinates mapped back to the full-resolution master"],
                software=("pipeline", __version__),
                settings=settings_text,
                version=cfg.alto_version,
                **size,
            ),
        }
    except (hocr.HocrError, alto.AltoError) as exc:
        raise OcrError(f"tesseract wrote unreadable output: {exc}") from None
    return documents, page, lang


class _Recognised(NamedTuple):
    prepared: preprocess.Prepared  # how the OCR image maps to the canvas
    page: hocr.Page
    readings: dict[int, ocr_lines.Reading]  # lines read again in other scripts, by index
    reread: int  # how many lines were read again
    texts: dict[str, str]  # tesseract's outputs by kind
    kept: Path  # where ingest keeps the page's working image


def _recognised(inp: PageInput, settings: OcrSettings, layout: Layout) -> _Recognised:
    """Run tesseract on the page (and on lines of other scripts) in a scratch folder.

    Raises:
        OcrError: A page language is not installed, or tesseract failed or wrote nonsense.
        ScanError: The master cannot be read.
    """
    item, cfg = inp.item, settings.ocr
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
            inp, work, lang=lang, cfg=cfg, max_pixels=settings.max_pixels, layout=layout
        )
        page = hocr.line_texts(hocr.parse(texts["hocr"]), texts["txt"])
        readings, reread = reread_lines(page, work, lang=lang, cfg=cfg, dpi=prepared.dpi)
    except hocr.HocrError as exc:
        raise OcrError(f"tesseract wrote unreadable output: {exc}") from None
    finally:
        shutil.rmtree(work)
    return _Recognised(prepared, page, readings, reread, texts, kept)


def run(inp: PageInput, settings: OcrSettings, layout: Layout) -> StageRecord:
    """Recognise one page; write hOCR, ALTO, text and annotations in canvas coordinates.

    Raises:
        OcrError: The image could not be prepared, tesseract failed or timed out, or a page
            language is not installed.
        ScanError: The master cannot be read.
    """
    item, cfg = inp.item, settings.ocr
    if not cfg.enabled:
        # Switched off: text from an earlier run must not stay behind to be published.
        for kind in OCR_SUFFIXES:
            layout.ocr_path(item.volume, item.page, kind).unlink(missing_ok=True)
            layout.withheld_ocr_path(item.volume, item.page, kind).unlink(missing_ok=True)
        return StageRecord.done(NAME, item.volume, item.page, OcrResult())
    prepared, page, readings, reread, texts, kept = _recognised(inp, settings, layout)
    lang = "+".join(item.ocr_languages)
    documents, page, lang = _documents(
        texts, page, readings, prepared, lang=lang, cfg=cfg, image=Path(item.source).name
    )
    lines = page_text.canvas_lines(page, prepared)
    documents["txt"] = page_text.plain_text(lines)
    confs = [w.confidence for w in page.words]
    confidence = round(sum(confs) / len(confs), 2) if confs else None
    needs_review = confidence is not None and confidence < cfg.review_confidence
    published = not needs_review or cfg.publish_low_confidence
    outputs, files = store(layout, item, documents, published=published)
    if needs_review:
        log.info("%s/%s: mean OCR confidence %s, needs review", item.volume, item.page, confidence)
    # Ingest's working image has served its purpose (a later rerun decodes the master).
    reduction.discard_working_image(kept)
    tags = tesseract.language_tags(lang)
    result = OcrResult(
        language=lang,
        bcp47=tags[0] if len(tags) == 1 else tags,
        words=len(confs),
        lines=len(lines),
        characters=sum(len("".join(line.text.split())) for line in lines),
        confidence=confidence,
        needs_review=needs_review,
        blank=not confs,
        # Lines read again with ocr.line_languages, and how many of them that replaced.
        lines_reread=reread,
        lines_replaced=len(readings),
        published=published,
        preprocessing=list(prepared.steps),
        alto_profile=alto.PROFILES[cfg.alto_version],
        engine=f"tesseract {tesseract.version()}",
        # Canvas boxes of the lines: the annotations stage turns them into IIIF.
        line_boxes=[(line.text, line.bbox) for line in lines],
        hocr=files["hocr"],
        alto=files["alto"],
        txt=files["txt"],
    )
    return StageRecord.done(
        NAME,
        item.volume,
        item.page,
        result,
        outputs=outputs,
        tool_versions={"tesseract": tesseract.version()},
    )


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=7,
    inputs=PageInput,
    settings_type=OcrSettings,
    settings_for=settings,
    check_tools=preflight,
    work=run,
    requires=("ingest",),
    item_fields=("ocr_languages",),
    # Starts from the working image ingest keeps in the cache (cleared after a job that ran OCR).
    reads_cache=True,
    # Each task runs one tesseract process: on a cluster it holds one unit of this resource.
    resources={tesseract.RESOURCE: 1},
    volume_check=volume_problems,
)
