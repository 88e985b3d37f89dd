"""OCR lines -> a IIIF AnnotationPage of ``supplementing`` annotations, marked as machine text."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iiif_prezi3 import Agent, Annotation, AnnotationPage, TextualBody

from pipeline.layout import Layout
from pipeline.ocr import tesseract


@dataclass(frozen=True)
class LineBox:
    """One recognised line: its text and its box on the canvas (x0, y0, x1, y1)."""

    text: str
    bbox: tuple[int, int, int, int]


def line_language(text: str, tags: list[str]) -> str:
    """The language of one line: of the page's languages, the one whose script dominates."""
    if len(tags) == 1:
        return tags[0]
    counts = dict.fromkeys(tags, 0)
    scripts = {tag: tesseract.script_of(tag) for tag in tags}
    for char in text:
        name = unicodedata.name(char, "")
        for tag, script in scripts.items():
            if script and name.startswith(script):
                counts[tag] += 1
    best = max(tags, key=lambda t: counts[t])
    return best if counts[best] else tags[0]


def annotation_page(
    lines: Sequence[LineBox],
    *,
    volume: str,
    page: str,
    layout: Layout,
    lang: str,
    engine: str,
    confidence: float | None = None,
    needs_review: bool = False,
) -> dict[str, Any]:
    """One ``supplementing`` annotation per line, targeting its box on the canvas.

    Args:
        lines: Lines with canvas boxes and text.
        volume: Volume id.
        page: Page id.
        layout: The layout (ids and URLs).
        lang: The tesseract language spec (``kor+rus``).
        engine: ``tesseract 5.3.0``, recorded as the creator of every annotation.
        confidence: The page's mean word confidence, shown in the label.
        needs_review: Whether the page is under the review threshold (said in the label).

    Returns:
        The AnnotationPage as JSON-ready data (validated by iiif-prezi3).
    """
    canvas = layout.canvas_id(volume, page)
    tags = tesseract.language_tags(lang)
    creator = Agent(type="Software", name=f"{engine} (machine-generated OCR)")
    items = []
    for n, line in enumerate(lines, start=1):
        x0, y0, x1, y1 = line.bbox
        body = TextualBody(
            value=line.text, format="text/plain", language=line_language(line.text, tags)
        )
        items.append(
            Annotation(
                id=layout.annotation_id(volume, page, n),
                motivation="supplementing",
                body=body,
                target=f"{canvas}#xywh={x0},{y0},{max(1, x1 - x0)},{max(1, y1 - y0)}",
                creator=creator,
            )
        )
    label = f"Machine-generated OCR text ({engine}, {lang})"
    if confidence is not None:
        label += f", mean word confidence {confidence:g}"
    label += "; low confidence, not reviewed" if needs_review else "; not a human transcription"
    doc = AnnotationPage(id=layout.annotations_id(volume, page), label={"en": [label]}, items=items)
    data: dict[str, Any] = json.loads(doc.jsonld())
    return data
