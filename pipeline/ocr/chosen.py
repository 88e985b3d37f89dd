"""A page's best text: its transcription or its OCR, as precedence chose, with provenance.

This is the one place that says which text a page shows. The ``transcription`` stage decides,
from the ``transcriptions.precedence`` setting, whether the page's transcription file wins over
its OCR (``TranscriptionResult.chosen``); everything downstream (annotations, the volume text,
the manifest, search, PDF) calls :func:`chosen_lines` with the page's two results and gets the
lines, their canvas boxes and who made them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pipeline.ocr import tesseract
from pipeline.ocr.alto import ALTO4
from pipeline.results import OcrResult, TextKind, TextLine, TextProvenance, TranscriptionResult

Box = tuple[int, int, int, int]
#: The label of the page's own OCR layer (as before transcriptions existed: unchanged output).
OCR_LABEL = "Machine-generated OCR text ({engine}, {lang})"


@dataclass(frozen=True)
class ChosenLine:
    """One line of a page's chosen text on the canvas.

    ``box`` is ``None`` for a line without geometry (a plain-text transcription whose line
    count differs from the OCR's): it belongs to the whole canvas. ``confidence`` is 0-1 when
    the file says (OCR lines carry none: their page has a mean word confidence).
    """

    text: str
    box: Box | None
    polygon: tuple[tuple[int, int], ...] | None
    language: str
    confidence: float | None


@dataclass(frozen=True)
class PageText:
    """A page's chosen text: its lines, who made them, and the files published for them.

    ``source`` is the kind of the text (``human``, ``htr`` or ``ocr``) and ``transcribed``
    whether it comes from a transcription file rather than the page's own OCR. ``label``
    names the layer (the AnnotationPage label). ``published`` is false when the text must
    not be shown (OCR withheld for low confidence, or switched off). ``alto``, ``hocr`` and
    ``txt`` are the layout-relative files of this text. ``machine`` is the page's OCR under a
    transcription, when ``transcriptions.machine_layer`` asks for it as a second layer.
    """

    source: TextKind
    transcribed: bool
    provenance: TextProvenance
    lines: tuple[ChosenLine, ...]
    label: str
    published: bool = True
    note: str = ""
    confidence: float | None = None
    needs_review: bool = False
    alto: str | None = None
    alto_profile: str | None = None
    hocr: str | None = None
    txt: str | None = None
    machine: PageText | None = None


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


def layer_label(provenance: TextProvenance) -> str:
    """A transcription layer's name: ``Transcription``, ``HTR: <model>``, ``OCR: <software>``."""
    if provenance.kind == "human":
        return "Transcription"
    made_by = " ".join(filter(None, (provenance.software, provenance.model))) or "unnamed"
    if provenance.kind == "htr":
        return f"HTR: {provenance.model or made_by}"
    return f"OCR: {made_by}, machine-generated"


def ocr_text(ocr: OcrResult) -> PageText:
    """The page's own OCR as a text layer (no lines when OCR is off or found nothing)."""
    tags = tesseract.language_tags(ocr.language) if ocr.language else ["und"]
    provenance = TextProvenance(kind="ocr", software=ocr.engine or "tesseract", model=ocr.language)
    lines = tuple(
        ChosenLine(
            text=text,
            box=(box[0], box[1], box[2], box[3]),
            polygon=None,
            language=line_language(text, tags),
            confidence=None,
        )
        for text, box in ocr.line_boxes
    )
    return PageText(
        source="ocr",
        transcribed=False,
        provenance=provenance,
        lines=lines,
        label=OCR_LABEL.format(engine=ocr.engine, lang=ocr.language),
        published=ocr.published and bool(ocr.txt),
        confidence=ocr.confidence,
        needs_review=ocr.needs_review,
        alto=ocr.alto,
        alto_profile=ocr.alto_profile,
        hocr=ocr.hocr,
        txt=ocr.txt,
    )


def chosen_line(line: TextLine) -> ChosenLine:
    """A transcription's line as a chosen line."""
    return ChosenLine(line.text, line.box, line.points, line.language, line.confidence)


def _transcribed(transcription: TranscriptionResult, machine: PageText | None) -> PageText:
    provenance = transcription.provenance or TextProvenance(kind="human")
    lines = tuple(chosen_line(line) for line in transcription.lines)
    return PageText(
        source=provenance.kind,
        transcribed=True,
        provenance=provenance,
        lines=lines,
        label=layer_label(provenance),
        note=transcription.note,
        alto=transcription.alto,
        alto_profile=ALTO4,
        hocr=transcription.hocr,
        txt=transcription.txt,
        machine=machine,
    )


def chosen_lines(
    ocr: OcrResult | None, transcription: TranscriptionResult | None
) -> PageText | None:
    """A page's best text: its transcription when precedence chose it, else its OCR.

    Args:
        ocr: The page's OCR result (``None``: OCR did not run or failed).
        transcription: The page's transcription result (``None``: none, or the file failed).

    Returns:
        The chosen text with its lines and provenance; under a transcription, ``machine``
        holds the OCR when it is to be published as a second layer. ``None`` when the page
        has neither.
    """
    machine = ocr_text(ocr) if ocr is not None else None
    if transcription is not None and transcription.chosen:
        second = machine if transcription.machine_layer and machine and machine.lines else None
        return _transcribed(transcription, second)
    return machine


def shown_text(ocr: OcrResult | None, transcription: TranscriptionResult | None) -> PageText | None:
    """The page's chosen text when it may be shown, else ``None``.

    What annotations, search and the PDF show: :func:`chosen_lines`, unless the page has no
    text or its OCR text is withheld for review (or OCR is off).
    """
    text = chosen_lines(ocr, transcription)
    return text if text is not None and text.published else None
