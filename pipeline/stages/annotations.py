"""Annotations: a page's chosen text (transcription or OCR) -> its IIIF AnnotationPage.

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
from pipeline.ocr.annotations import annotation_page
from pipeline.ocr.chosen import PageText, shown_text
from pipeline.records import PageItem, StageRecord
from pipeline.results import AnnotationsResult
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "annotations"
#: The layer of the OCR under a transcription (``annotations/ocr/PAGE.json``).
MACHINE_LAYER = "ocr"


class AnnotationSettings(BaseModel):
    """Annotation ids and targets are URLs under the base URL."""

    model_config = ConfigDict(frozen=True)

    base_url: str


def settings(cfg: Config) -> AnnotationSettings:
    """The base URL."""
    return AnnotationSettings(base_url=cfg.site.base_url)


def _write(
    text: PageText, item: PageItem, layout: Layout, layer: str, outputs: dict[str, str]
) -> str:
    doc = annotation_page(text, volume=item.volume, page=item.page, layout=layout, layer=layer)
    path = layout.annotations_path(item.volume, item.page, layer)
    rel = layout.rel(path)
    outputs[rel] = write_text_atomic(path, dump_json(doc))
    return rel


def run(inp: PageInput, settings: AnnotationSettings, layout: Layout) -> StageRecord:
    """Write the page's AnnotationPage, or remove a stale one when there is nothing to publish.

    The text is the page's chosen one (:func:`~pipeline.ocr.chosen.chosen_lines`): its
    transcription, or its OCR. Under a transcription, the OCR is written as a second layer
    when ``transcriptions.machine_layer`` asks for it.

    Args:
        inp: The page, with the OCR and transcription stages' results upstream.
        settings: The base URL.
        layout: The layout (ids, URLs and the file's place).

    Returns:
        The record; its result's ``annotations`` is the layout-relative path or ``None``.
    """
    item = inp.item
    text = shown_text(inp.upstream.ocr, inp.upstream.transcription)
    outputs: dict[str, str] = {}
    if text is None or not text.lines:
        # Blank page (an empty transcription too), OCR switched off, or text withheld under
        # the confidence policy: no layer at all, the OCR one under it neither.
        for layer in ("", MACHINE_LAYER):
            layout.annotations_path(item.volume, item.page, layer).unlink(missing_ok=True)
        return StageRecord.done(NAME, item.volume, item.page, AnnotationsResult(annotations=None))
    machine = None
    if text.machine is not None:
        machine = _write(text.machine, item, layout, MACHINE_LAYER, outputs)
    else:
        layout.annotations_path(item.volume, item.page, MACHINE_LAYER).unlink(missing_ok=True)
    rel = _write(text, item, layout, "", outputs)
    result = AnnotationsResult(annotations=rel, lines=len(text.lines))
    if machine is not None:
        result = result.model_copy(update={"machine": machine})
    return StageRecord.done(NAME, item.volume, item.page, result, outputs=outputs)


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=1,
    inputs=PageInput,
    settings_type=AnnotationSettings,
    settings_for=settings,
    work=run,
    requires=("ocr",),
    uses=("transcription",),
    item_fields=(),
    writes_urls=True,
)
