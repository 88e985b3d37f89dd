"""Text: the volume's plain-text rendering, every page in order under a page marker."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.ocr.chosen import PageText, chosen_lines
from pipeline.records import StageRecord
from pipeline.results import OcrResult, TextResult
from pipeline.stages.spec import PageInput, StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "text"

HEADER = "Machine-generated OCR text (tesseract), not a human transcription: {volume}\n"
MIXED_HEADER = (
    "Text of {volume}: human or HTR transcriptions where a page has one, machine-generated "
    "OCR (tesseract) elsewhere; each page says which\n"
)


class TextSettings(BaseModel):
    """Nothing but the OCR records feeds the text; they are in the fingerprint already."""

    model_config = ConfigDict(frozen=True)

    enabled: bool


def settings(cfg: Config) -> TextSettings:
    """Whether OCR runs at all."""
    return TextSettings(enabled=cfg.ocr.enabled)


def marker(page: str, label: dict[str, list[str]] | None) -> str:
    """The line that starts a page: ``=== p001 (1) ===`` (its id and label)."""
    values = [v for vs in (label or {}).values() for v in vs]
    shown = f" ({values[0]})" if values and values[0] != page else ""
    return f"=== {page}{shown} ==="


def source_note(text: PageText) -> str:
    """What a transcribed page's text is: ``[transcription by NAME, DATE]``, ``[HTR: model]``..."""
    made = text.provenance
    by = f" by {made.creator}" if made.creator else ""
    when = f", {made.date}" if made.date else ""
    if made.kind == "human":
        return f"[transcription{by}{when}]"
    return f"[{text.label}{by}{when}]"


def page_block(ocr: OcrResult, layout: Layout) -> str:
    """A page's OCR text, or a bracketed note saying why there is none."""
    if ocr.blank:
        return "[blank page: no text found]"
    if not ocr.txt:
        return "[no text: OCR is switched off]"
    if not ocr.published:
        return (
            f"[text withheld: mean OCR confidence {ocr.confidence} is below the review threshold]"
        )
    text = layout.path(str(ocr.txt)).read_text(encoding="utf-8").strip("\n")
    return text or "[blank page: no text found]"


def _block(entry: PageInput, layout: Layout, mixed: bool) -> str:
    """A page's text under its marker; in a volume with transcriptions, it says what it is."""
    chosen = chosen_lines(entry.upstream.ocr, entry.upstream.transcription)
    head = marker(entry.item.page, entry.item.label)
    if chosen is not None and chosen.transcribed:
        body = "\n".join(line.text for line in chosen.lines) or "[blank page: transcribed empty]"
        return f"{head}\n{source_note(chosen)}\n{body}\n"
    body = page_block(entry.upstream.ocr or OcrResult(), layout)
    return f"{head}\n[machine-generated OCR]\n{body}\n" if mixed else f"{head}\n{body}\n"


def _transcribed(page: PageInput) -> bool:
    found = page.upstream.transcription
    return found is not None and found.chosen


def run(inp: VolumeInput, settings: TextSettings, layout: Layout) -> StageRecord:
    """Write ``<volume>/<volume>.txt`` from the pages' chosen text, in page order.

    Pages whose OCR failed or is withheld (low confidence) keep their marker with a note,
    so page numbers stay right and nothing vanishes silently. In a volume with transcribed
    pages, each page says whether its text is a transcription (and whose) or OCR.
    """
    path = layout.text_path(inp.volume)
    present = {p.item.page: p for p in inp.pages}
    has_ocr = [p for p in inp.pages if p.upstream.ocr is not None and p.upstream.ocr.txt]
    transcribed = [p for p in inp.pages if _transcribed(p)]
    if not (settings.enabled and has_ocr) and not transcribed:
        path.unlink(missing_ok=True)
        return StageRecord.done(NAME, inp.volume, "", TextResult(text=None))
    order = inp.order or tuple(present)
    header = MIXED_HEADER if transcribed else HEADER
    blocks = [header.format(volume=inp.volume)]
    withheld: list[str] = []
    for page in order:
        entry = present.get(page)
        if entry is None:
            blocks.append(f"{marker(page, None)}\n[no text: OCR of this page failed]\n")
            continue
        ocr = entry.upstream.ocr or OcrResult()
        if not ocr.published and not _transcribed(entry):
            withheld.append(page)
        blocks.append(_block(entry, layout, bool(transcribed)))
    digest = write_text_atomic(path, "\n".join(blocks))
    rel = layout.rel(path)
    result = TextResult(
        text=rel,
        pages=len({p.item.page for p in [*has_ocr, *transcribed]}),
        withheld=withheld,
        missing=[p for p in order if p not in present],
    )
    if transcribed:
        result = result.model_copy(update={"transcribed": [p.item.page for p in transcribed]})
    return StageRecord.done(NAME, inp.volume, "", result, outputs={rel: digest})


SPEC = StageSpec(
    name=NAME,
    scope="volume",
    version=1,
    inputs=VolumeInput,
    settings_type=TextSettings,
    settings_for=settings,
    work=run,
    requires=("ocr",),
    uses=("transcription",),
)
