"""OCR: a master -> hOCR, ALTO, text and the canvas boxes of its lines, via tesseract.

One single-threaded tesseract process per page writes hOCR, ALTO and plain text in one pass
over an image libvips prepared (:mod:`pipeline.ocr.preprocess`). Lines that pass reads poorly
(Russian on a Korean page) are read again one by one with ``ocr.line_languages``
(:mod:`pipeline.ocr.lines`), and those still unread again from the page at ``ocr.reread_dpi``
(:mod:`pipeline.ocr.sharper`; with ``ocr.reread_confidence``, doubtful lines of the page's own
script too); both in :mod:`pipeline.stages.ocr_read`. Every coordinate written is mapped
back to the canvas. Pages under ``ocr.review_confidence`` are flagged ``needs_review``;
unless ``ocr.publish_low_confidence`` is set, their output stays in the work folder (for
review) and gets no annotations. The IIIF annotation page is written by the ``annotations``
stage: a new base URL never reruns tesseract.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline import __version__
from pipeline.config import Config, OcrConfig
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.fsio import write_text_atomic
from pipeline.imaging import working_image as reduction
from pipeline.layout import OCR_SUFFIXES, Layout
from pipeline.ocr import alto, hocr, page_text, preprocess, tesseract
from pipeline.ocr import lines as ocr_lines
from pipeline.records import PageItem, StageRecord
from pipeline.results import OcrResult
from pipeline.stages import ocr_read
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
    others = {r.lang for r in readings.values()} & set(cfg.line_languages)
    used = sorted(others, key=cfg.line_languages.index)
    settings_text = f"-l {lang} --psm {cfg.psm_for(lang)} --dpi {prepared.dpi}"
    try:
        if used:
            settings_text += f"; lines in other scripts: -l {'/'.join(used)} --psm 7"
            lang = "+".join([lang, *used])
        if any(r.lang not in cfg.line_languages for r in readings.values()):
            settings_text += f"; doubtful lines again at {cfg.reread_dpi} dpi: --psm 7"
        if readings:
            replaced = ocr_lines.by_box(page, readings)
            texts["hocr"] = hocr.replace_lines(texts["hocr"], replaced)
            texts["alto"] = alto.replace_lines(texts["alto"], replaced)
            page = ocr_lines.apply(page, readings)
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
    rec = ocr_read.recognised(inp, cfg, settings.max_pixels, layout)
    prepared, readings, lang = rec.prepared, rec.readings, "+".join(item.ocr_languages)
    every = readings | rec.sharpened
    image = Path(item.source).name
    documents, page, lang = _documents(
        rec.texts, rec.page, every, prepared, lang=lang, cfg=cfg, image=image
    )
    lines = page_text.canvas_lines(page, prepared)
    documents["txt"] = page_text.plain_text(lines)
    words = len(rec.first.words)
    confidence, needs_review = ocr_read.judged(rec.first, cfg)
    published = not needs_review or cfg.publish_low_confidence
    outputs, files = store(layout, item, documents, published=published)
    if needs_review:
        log.info("%s/%s: mean OCR confidence %s, needs review", item.volume, item.page, confidence)
    # Ingest's working image has served its purpose (a later rerun decodes the master).
    reduction.discard_working_image(rec.kept)
    tags = tesseract.language_tags(lang)
    result = OcrResult(
        language=lang,
        bcp47=tags[0] if len(tags) == 1 else tags,
        words=words,
        lines=len(lines),
        characters=sum(len("".join(line.text.split())) for line in lines),
        confidence=confidence,
        needs_review=needs_review,
        blank=not words,
        # Lines read again with ocr.line_languages, and how many of them that replaced.
        lines_reread=rec.reread,
        lines_replaced=len(readings),
        published=published,
        # Which way up the page is, for the report's contact sheet (held pages only).
        orientation=rec.orientation.degrees,
        orientation_confidence=rec.orientation.confidence,
        orientation_error=rec.orientation.error,
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
    version=8,
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
