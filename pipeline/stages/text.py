"""Text: the volume's plain-text rendering, every page in order under a page marker."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from pipeline.config import Config
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.results import OcrResult, TextResult
from pipeline.stages.spec import StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "text"

HEADER = "Machine-generated OCR text (tesseract), not a human transcription: {volume}\n"


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


def page_block(ocr: OcrResult, layout: Layout) -> str:
    """A page's text, or a bracketed note saying why there is none."""
    if ocr.blank:
        return "[blank page: no text found]"
    if not ocr.published:
        return (
            f"[text withheld: mean OCR confidence {ocr.confidence} is below the review threshold]"
        )
    text = layout.path(str(ocr.txt)).read_text(encoding="utf-8").strip("\n")
    return text or "[blank page: no text found]"


def run(inp: VolumeInput, settings: TextSettings, layout: Layout) -> StageRecord:
    """Write ``<volume>/<volume>.txt`` from the pages' OCR text, in page order.

    Pages whose OCR failed or is withheld (low confidence) keep their marker with a note,
    so page numbers stay right and nothing vanishes silently.
    """
    path = layout.text_path(inp.volume)
    present = {p.item.page: p for p in inp.pages}
    has_ocr = [p for p in inp.pages if p.upstream.ocr is not None and p.upstream.ocr.txt]
    if not settings.enabled or not has_ocr:
        path.unlink(missing_ok=True)
        return StageRecord.done(NAME, inp.volume, "", TextResult(text=None))
    order = inp.order or tuple(present)
    blocks = [HEADER.format(volume=inp.volume)]
    withheld: list[str] = []
    for page in order:
        entry = present.get(page)
        if entry is None:
            blocks.append(f"{marker(page, None)}\n[no text: OCR of this page failed]\n")
            continue
        ocr = entry.upstream.ocr or OcrResult()
        if not ocr.published:
            withheld.append(page)
        blocks.append(f"{marker(page, entry.item.label)}\n{page_block(ocr, layout)}\n")
    digest = write_text_atomic(path, "\n".join(blocks))
    rel = layout.rel(path)
    result = TextResult(
        text=rel,
        pages=len(has_ocr),
        withheld=withheld,
        missing=[p for p in order if p not in present],
    )
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
)
