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
from pipeline.records import PageInput, StageRecord

log = logging.getLogger(__name__)

NAME = "annotations"
SCOPE = "page"
VERSION = 1
REQUIRES: tuple[str, ...] = ("ocr",)
USES: tuple[str, ...] = ()
ITEM_FIELDS: tuple[str, ...] = ()


class AnnotationSettings(BaseModel):
    """Annotation ids and targets are URLs under the base URL."""

    model_config = ConfigDict(frozen=True)

    base_url: str


def settings(cfg: Config) -> AnnotationSettings:
    """The base URL."""
    return AnnotationSettings(base_url=cfg.site.base_url)


def preflight(settings: AnnotationSettings) -> dict[str, str]:
    """Nothing external is needed."""
    return {}


def run(inp: PageInput, settings: AnnotationSettings, paths: Layout) -> StageRecord:
    """Write the page's AnnotationPage, or remove a stale one when there is nothing to publish.

    Args:
        inp: The page, with the OCR stage's record data upstream.
        settings: The base URL.
        paths: The layout (ids, URLs and the file's place).

    Returns:
        The record; ``data["annotations"]`` is the layout-relative path or ``None``.
    """
    item = inp.item
    ocr = inp.upstream["ocr"]
    path = paths.annotations_path(item.volume, item.page)
    boxes = ocr.get("line_boxes") or []
    if not boxes or not ocr.get("published", True):
        # Blank page, OCR switched off, or text withheld under the confidence policy.
        path.unlink(missing_ok=True)
        return StageRecord(
            stage=NAME, volume=item.volume, page=item.page, status="ok", data={"annotations": None}
        )
    doc = annotation_page(
        [LineBox(text=text, bbox=(box[0], box[1], box[2], box[3])) for text, box in boxes],
        volume=item.volume,
        page=item.page,
        layout=paths,
        lang=ocr["language"],
        engine=ocr["engine"],
        confidence=ocr.get("confidence"),
        needs_review=bool(ocr.get("needs_review")),
    )
    digest = write_text_atomic(path, dump_json(doc))
    rel = paths.rel(path)
    return StageRecord(
        stage=NAME,
        volume=item.volume,
        page=item.page,
        status="ok",
        outputs={rel: digest},
        data={"annotations": rel, "lines": len(boxes)},
    )
