"""Annotations: a page's recognised lines -> its IIIF AnnotationPage (machine-made text).

Kept apart from the OCR stage because it is the only OCR output holding URLs: building for
another base URL rewrites these small files and never runs tesseract again.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.fsio import write_text_atomic
from pipeline.iiif.jsonio import dump_json
from pipeline.layout import Layout
from pipeline.ocr.annotations import LineBox, annotation_page
from pipeline.records import StageRecord
from pipeline.results import AnnotationsResult, OcrResult
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "annotations"


class AnnotationSettings(BaseModel):
    """Annotation ids and targets are URLs under the base URL."""

    model_config = ConfigDict(frozen=True)

    base_url: str


def settings(cfg: Config) -> AnnotationSettings:
    """The base URL."""
    return AnnotationSettings(base_url=cfg.site.base_url)


def run(inp: PageInput, settings: AnnotationSettings, layout: Layout) -> StageRecord:
    """Write the page's AnnotationPage, or remove a stale one when there is nothing to publish.

    Args:
        inp: The page, with the OCR stage's result upstream.
        settings: The base URL.
        layout: The layout (ids, URLs and the file's place).

    Returns:
        The record; its result's ``annotations`` is the layout-relative path or ``None``.
    """
    item = inp.item
    ocr = inp.upstream.ocr or OcrResult()
    path = layout.annotations_path(item.volume, item.page)
    if not ocr.line_boxes or not ocr.published:
        # Blank page, OCR switched off, or text withheld under the confidence policy.
        path.unlink(missing_ok=True)
        return StageRecord.done(NAME, item.volume, item.page, AnnotationsResult(annotations=None))
    doc = annotation_page(
        [LineBox(text=text, bbox=box) for text, box in ocr.line_boxes],
        volume=item.volume,
        page=item.page,
        layout=layout,
        lang=ocr.language,
        engine=ocr.engine,
        confidence=ocr.confidence,
        needs_review=ocr.needs_review,
    )
    digest = write_text_atomic(path, dump_json(doc))
    rel = layout.rel(path)
    result = AnnotationsResult(annotations=rel, lines=len(ocr.line_boxes))
    return StageRecord.done(NAME, item.volume, item.page, result, outputs={rel: digest})


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=1,
    inputs=PageInput,
    settings_type=AnnotationSettings,
    settings_for=settings,
    work=run,
    requires=("ocr",),
    item_fields=(),
    writes_urls=True,
)
