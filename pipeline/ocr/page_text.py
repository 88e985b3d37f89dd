"""A page's recognised lines on the canvas, and its plain text."""

from __future__ import annotations

import unicodedata

from pipeline.ocr import hocr, preprocess


def canvas_lines(page: hocr.Page, prepared: preprocess.Prepared) -> list[hocr.Line]:
    """The page's lines with boxes in canvas coordinates (words keep OCR-image boxes)."""
    size = (prepared.canvas_width, prepared.canvas_height)
    return [
        hocr.Line(
            bbox=hocr.map_box(line.bbox, prepared.transform, size),
            words=line.words,
            paragraph=line.paragraph,
            text=line.text,
        )
        for line in page.lines
    ]


def plain_text(lines: list[hocr.Line]) -> str:
    """Lines in reading order, a blank line between paragraphs, NFC, ending with a newline."""
    out: list[str] = []
    previous = None
    for line in lines:
        if previous is not None and line.paragraph != previous:
            out.append("")
        out.append(line.text)
        previous = line.paragraph
    return unicodedata.normalize("NFC", "\n".join(out) + "\n") if out else ""
