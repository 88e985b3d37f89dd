"""Doubtful lines read again from a sharper image of the page.

The page is read at ``ocr.dpi`` (150): fast, and best on average. Lines of another script
that :mod:`pipeline.ocr.lines` could not read on that image (a damaged Russian heading the
rus model reads at 18 there and at 82 at 200 dpi) are read again from the page prepared at
``ocr.reread_dpi`` (200); :class:`Sharp` maps their boxes there and back.

With ``ocr.reread_confidence``, lines of the page's own script under that confidence are read
again the same way (one by one, ``--psm 7``, all of a page's in one tesseract process, so the
cost follows the lines that need it), and a reading replaces a line only when clearly more
confident (:data:`GAIN`): on blurred, faded or stained print and heavy brush strokes, confused
syllables (물/둘, 집/잡, 주/구) come out right. It is off by default: in
``tests/bench/bench_ocr_groups.py`` it gains on every group of three tuning sets but made one
held-out group (damaged handwriting-like pages) slightly worse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.ocr import hocr, tesseract
from pipeline.ocr.lines import (
    OWN_SCRIPT_SHARE,
    Reading,
    line_confidence,
    page_scripts,
    read_lines,
    script_share,
)
from pipeline.ocr.preprocess import Prepared

# A sharper reading replaces a line only when this much more confident (mean word confidence,
# 0-100): measured on the tuning pages, smaller gains as often make a line worse as better.
GAIN = 4.0


def doubtful(page: hocr.Page, page_lang: str, *, below: float, skip: set[int]) -> list[int]:
    """Indexes of the lines in the page's own script read at a confidence under ``below``.

    Args:
        page: The page as read with ``page_lang`` (OCR-image coordinates).
        page_lang: Its ``+``-joined language spec.
        below: Mean word confidence (0-100) under which a line is read again.
        skip: Lines already replaced (read in another script).

    Returns:
        The lines, none when the page's script is unknown or it is read vertically.
    """
    scripts = page_scripts(page_lang)
    if not scripts or any(part.endswith("_vert") for part in page_lang.split("+")):
        return []
    return [
        n
        for n, line in enumerate(page.lines)
        if n not in skip
        and line_confidence(line) < below
        and max(script_share(line.text, s) for s in scripts) >= OWN_SCRIPT_SHARE
    ]


@dataclass(frozen=True)
class Sharp:
    """The page prepared again at a higher resolution, and how it relates to the page's image."""

    image: Path  # the sharper OCR image
    prepared: Prepared  # how it maps to the canvas
    page: Prepared  # how the page's OCR image maps to the canvas

    def there(self, box: hocr.Box) -> hocr.Box:
        """A box of the page's OCR image in the sharper one."""
        transform = self.page.transform.then(self.prepared.transform.inverse())
        return hocr.map_box(box, transform, (self.prepared.width, self.prepared.height))

    def back(self, reading: Reading) -> Reading:
        """A reading of the sharper image in the page's OCR-image coordinates."""
        transform = self.prepared.transform.then(self.page.transform.inverse())
        size = (self.page.width, self.page.height)
        words = tuple(
            hocr.Word(
                text=w.text, bbox=hocr.map_box(w.bbox, transform, size), confidence=w.confidence
            )
            for w in reading.words
        )
        return Reading(lang=reading.lang, tag=reading.tag, words=words)

    def lines_there(self, page: hocr.Page) -> hocr.Page:
        """The page with its line boxes in the sharper image (words left as they are)."""
        lines = tuple(replace(line, bbox=self.there(line.bbox)) for line in page.lines)
        return hocr.Page(width=self.prepared.width, height=self.prepared.height, lines=lines)


def reread(
    page: hocr.Page,
    lines: list[int],
    sharp: Sharp,
    *,
    lang: str,
    work: Path,
    timeout_s: float,
) -> dict[int, Reading]:
    """Read ``lines`` of ``page`` again from the sharper image; keep the more confident readings.

    Args:
        page: The page as read (coordinates of its OCR image).
        lines: Indexes of the lines to read again (:func:`doubtful`).
        sharp: The sharper image of the same page.
        lang: The page's ``+``-joined language spec.
        work: A folder for temporary files.
        timeout_s: Tesseract's time limit.

    Returns:
        Line index -> the reading that replaces it, in the page's OCR-image coordinates.

    Raises:
        OcrError: Tesseract failed or timed out.
        pyvips.Error: libvips could not cut the lines out.
    """
    boxes = [sharp.there(page.lines[n].bbox) for n in lines]
    dpi = sharp.prepared.dpi
    readings = read_lines(sharp.image, boxes, lang=lang, work=work, dpi=dpi, timeout_s=timeout_s)
    tag = tesseract.language_tags(lang)[0]
    chosen = {}
    for n, reading in zip(lines, readings, strict=True):
        line = page.lines[n]
        if reading is not None and reading.confidence > line_confidence(line) + GAIN:
            chosen[n] = sharp.back(Reading(lang=lang, tag=tag, words=reading.words))
    return chosen
