"""A page's chosen text -> a IIIF AnnotationPage of ``supplementing`` annotations, with provenance.

Each line is an annotation targeting its box on the canvas (the whole canvas for a line
without one), in the line's language. Who made the text follows the W3C Web Annotation model:
``creator`` is the person (``Person``) or organisation (``Organization``) who transcribed it, or
the software that recognised it (``Software``); ``generator`` the software that produced the
file; ``created`` the date the file gives. The page's label names the layer: "Transcription",
"HTR: <model>" or "OCR: <software>, machine-generated" for a transcription file; the page's own
OCR keeps the label and creator it always had ("Machine-generated OCR text (tesseract 5.3.0,
kor)", with its confidence), so existing annotation pages stay as they are.
"""

from __future__ import annotations

import json
from typing import Any

from iiif_prezi3 import Agent, Annotation, AnnotationPage, TextualBody

from pipeline.layout import Layout
from pipeline.ocr.chosen import PageText


def agents(text: PageText) -> tuple[Agent | None, Agent | None]:
    """The W3C ``creator`` and ``generator`` of a text (``None`` where nothing is known).

    A person's transcription has the person as creator (an organisation for HTR text an
    institution ran); machine text without one has its software as creator. The software
    (and model) is the generator whenever it is known. The page's own OCR names its engine.
    """
    provenance = text.provenance
    if not text.transcribed:
        return Agent(type="Software", name=f"{provenance.software} (machine-generated OCR)"), None
    software = " ".join(filter(None, (provenance.software, provenance.model)))
    generator = Agent(type="Software", name=software) if software else None
    # A creator that only names the software (eScriptorium's PAGE export) is not a person.
    person = provenance.creator if provenance.creator.lower() != provenance.software.lower() else ""
    if provenance.kind == "human":
        return (Agent(type="Person", name=person) if person else None), generator
    if person:
        return Agent(type="Organization", name=person), generator
    name = software or ("HTR" if provenance.kind == "htr" else "OCR")
    return Agent(type="Software", name=f"{name} (machine-generated)"), generator


def page_label(text: PageText) -> str:
    """The layer's label, with the OCR's confidence and review state for OCR text."""
    label = text.label
    if text.transcribed:
        return label
    if text.confidence is not None:
        label += f", mean word confidence {text.confidence:g}"
    return label + (
        "; low confidence, not reviewed" if text.needs_review else "; not a human transcription"
    )


def annotation_page(
    text: PageText, *, volume: str, page: str, layout: Layout, layer: str = ""
) -> dict[str, Any]:
    """One ``supplementing`` annotation per line of the page's text, targeting its box.

    Args:
        text: The page's chosen text (:func:`pipeline.ocr.chosen.chosen_lines`), or its OCR
            under a transcription.
        volume: Volume id.
        page: Page id.
        layout: The layout (ids and URLs).
        layer: ``""`` for the page's text, ``"ocr"`` for the OCR shown under a transcription.

    Returns:
        The AnnotationPage as JSON-ready data (validated by iiif-prezi3).
    """
    canvas = layout.canvas_id(volume, page)
    creator, generator = agents(text)
    made: dict[str, Any] = {"creator": creator, "generator": generator}
    if text.provenance.date:
        made["created"] = text.provenance.date
    made = {k: v for k, v in made.items() if v is not None}
    items = []
    for n, line in enumerate(text.lines, start=1):
        target = canvas
        if line.box is not None:
            x0, y0, x1, y1 = line.box
            target = f"{canvas}#xywh={x0},{y0},{max(1, x1 - x0)},{max(1, y1 - y0)}"
        body = TextualBody(value=line.text, format="text/plain", language=line.language or "und")
        items.append(
            Annotation(
                id=layout.annotation_id(volume, page, n, layer),
                motivation="supplementing",
                body=body,
                target=target,
                **made,
            )
        )
    doc = AnnotationPage(
        id=layout.annotations_id(volume, page, layer), label={"en": [page_label(text)]}, items=items
    )
    data: dict[str, Any] = json.loads(doc.jsonld())
    return data
