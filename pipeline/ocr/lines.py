"""Lines in another script, found after the page pass and read again with that script's model.

A collection in Korean with Russian passages, names and dates needs no language setting per
volume: after tesseract has read the page with the page's languages (``kor``), the lines it
read poorly are read again, each as a single line (``--psm 7``), with the models of
``ocr.line_languages`` (``rus``, then ``eng``), and a reading replaces the line when it is
more confident and written in its model's script. The kor model's reading of a Cyrillic line
is easy to tell from Korean: few Hangul syllables (digits, Latin letters, loose jamo and
symbols instead) at a low confidence. Only those lines are read again, all of a page's in one
tesseract process per model, so the cost follows the lines that need it; a Korean page
usually has none (measured in ``tests/bench/bench_ocr_scripts.py``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyvips

from pipeline.ocr import hocr, tesseract

log = logging.getLogger(__name__)

# A line is doubtful below this mean word confidence (0-100) ...
DOUBTFUL_CONFIDENCE = 80.0
# ... when less than this share of its characters is in the page's own script.
OWN_SCRIPT_SHARE = 0.5
# A new reading must have at least this share of its letters in its model's script.
READING_SCRIPT_SHARE = 0.5
# A later model's reading displaces an earlier one's only from this confidence on
# (measured: eng reads Latin lines at 95-96, Cyrillic ones at up to 88).
CONFIDENT = 90.0
# Room around a line's box when it is cut out, as a share of the line's height.
MARGIN = 0.2
# Characters of a script that count as its text (Hangul's loose jamo are what the kor model
# makes of other scripts, not Korean).
_LETTERS = {"HANGUL": "HANGUL SYLLABLE"}
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Reading:
    """A line read again: its model, BCP 47 tag and words (OCR-image coordinates)."""

    lang: str
    tag: str
    words: tuple[hocr.Word, ...]

    @property
    def confidence(self) -> float:
        """Mean word confidence."""
        return sum(w.confidence for w in self.words) / len(self.words)

    @property
    def text(self) -> str:
        """The words joined by spaces (NFC)."""
        return unicodedata.normalize("NFC", " ".join(w.text for w in self.words))


def script_share(text: str, script: str) -> float:
    """Share of ``text``'s non-space characters in ``script`` (a Unicode name prefix).

    A number of up to four digits directly before a character of the script counts with it
    (``1934년``, ``21일``); longer runs of digits are what a model makes of another script.
    """
    chars = "".join(text.split())
    if not chars:
        return 0.0
    prefix = _LETTERS.get(script, script)
    own = [unicodedata.name(c, "").startswith(prefix) for c in chars]
    count = sum(own)
    for match in _DIGITS.finditer(chars):
        end = match.end()
        if len(match.group()) <= 4 and end < len(chars) and own[end]:
            count += len(match.group())
    return count / len(chars)


def letter_share(text: str, script: str) -> float:
    """Share of ``text``'s letters in ``script`` (digits and punctuation do not count)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(unicodedata.name(c, "").startswith(script) for c in letters) / len(letters)


def line_confidence(line: hocr.Line) -> float:
    """Mean word confidence of a line (0-100)."""
    return sum(w.confidence for w in line.words) / len(line.words)


def page_scripts(page_lang: str) -> set[str]:
    """The scripts of a ``+``-joined language spec's models (those whose script is known)."""
    scripts = {tesseract.LANGUAGE_TAGS.get(part, ("", ""))[1] for part in page_lang.split("+")}
    return scripts - {""}


def doubtful(page: hocr.Page, page_lang: str) -> list[int]:
    """Indexes of the lines the page's own models probably did not read.

    Args:
        page: The page as read with ``page_lang``.
        page_lang: Its ``+``-joined language spec.

    Returns:
        Lines with little text in the page's script and a low mean confidence; none when the
        page's script is unknown.
    """
    scripts = page_scripts(page_lang)
    if not scripts:
        return []
    return [
        n
        for n, line in enumerate(page.lines)
        if line_confidence(line) < DOUBTFUL_CONFIDENCE
        and max(script_share(line.text, s) for s in scripts) < OWN_SCRIPT_SHARE
    ]


def _cut(image: pyvips.Image, box: hocr.Box) -> tuple[pyvips.Image, int, int]:
    x0, y0, x1, y1 = box
    m = round(MARGIN * (y1 - y0))
    left, top = max(0, x0 - m), max(0, y0 - m)
    right, bottom = min(image.width, x1 + m), min(image.height, y1 + m)
    return image.crop(left, top, right - left, bottom - top), left, top


def read_lines(
    image: Path,
    boxes: Sequence[hocr.Box],
    *,
    lang: str,
    work: Path,
    dpi: int,
    timeout_s: float,
) -> list[Reading | None]:
    """Read each box of ``image`` as one line with ``lang``, in one tesseract process.

    Args:
        image: The OCR image the boxes are in.
        boxes: Line boxes ``(x0, y0, x1, y1)`` in its pixels.
        lang: A tesseract model.
        work: A folder for the cut-out lines.
        dpi: The OCR image's resolution.
        timeout_s: Kill tesseract after this many seconds.

    Returns:
        Per box, the reading in ``image`` coordinates, or ``None`` where nothing was read.

    Raises:
        OcrError: Tesseract failed or timed out.
        pyvips.Error: libvips could not cut the lines out.
    """
    if not boxes:
        return []
    listing, offsets = _cut_lines(image, boxes, lang=lang, work=work)
    produced = tesseract.recognize(
        image=listing,
        out_base=work / f"lines-{lang}",
        lang=lang,
        psm=7,
        timeout_s=timeout_s,
        formats=("hocr",),
        dpi=dpi,
    )
    pages = hocr.parse_pages(produced["hocr"].read_text(encoding="utf-8"))
    if len(pages) != len(offsets):
        # Not what tesseract 5 does (one ocr_page per listed image, empty or not).
        log.warning(
            "tesseract read %d of %d line images; keeping the lines", len(pages), len(offsets)
        )
        return [None] * len(offsets)
    tag = tesseract.LANGUAGE_TAGS.get(lang, ("und", ""))[0]
    out: list[Reading | None] = []
    for (left, top), read in zip(offsets, pages, strict=True):
        words = tuple(_shifted(w, left, top) for w in read.words)
        out.append(Reading(lang=lang, tag=tag, words=words) if words else None)
    return out


def _cut_lines(
    image: Path, boxes: Sequence[hocr.Box], *, lang: str, work: Path
) -> tuple[Path, list[tuple[int, int]]]:
    """Write each box of ``image`` (with a margin) to ``work``, and a listing of the files.

    Returns:
        The listing tesseract reads, and each cut-out's top-left corner in ``image``.
    """
    page = pyvips.Image.new_from_file(str(image), access="random")
    offsets = []
    names = []
    for n, box in enumerate(boxes):
        cut, left, top = _cut(page, box)
        name = work / f"line-{lang}-{n:04d}.png"
        cut.write_to_file(str(name))
        names.append(str(name))
        offsets.append((left, top))
    listing = work / f"lines-{lang}.txt"
    listing.write_text("\n".join(names) + "\n", encoding="utf-8")
    return listing, offsets


def _shifted(word: hocr.Word, left: int, top: int) -> hocr.Word:
    """A word of a cut-out line in the coordinates of the image it was cut from."""
    x0, y0, x1, y1 = word.bbox
    return hocr.Word(
        text=word.text, bbox=(x0 + left, y0 + top, x1 + left, y1 + top), confidence=word.confidence
    )


def reread(
    page: hocr.Page,
    image: Path,
    lines: Sequence[int],
    *,
    page_lang: str,
    line_languages: Sequence[str],
    work: Path,
    dpi: int,
    timeout_s: float,
) -> dict[int, Reading]:
    """Read the page's doubtful lines again with each line language; keep the better readings.

    Each model reads only the lines no earlier one read confidently; a reading is kept when
    it is more confident than the line's current one and mostly in its model's script, and,
    to displace an earlier model's reading, confident (:data:`CONFIDENT`).

    Args:
        page: The page as read with ``page_lang`` (OCR-image coordinates).
        image: The OCR image.
        lines: Indexes of the lines to read again: doubtful ones (:func:`doubtful`).
        page_lang: The page's ``+``-joined language spec.
        line_languages: Models to try, in order (those already in ``page_lang`` are skipped).
        work: A folder for temporary files.
        dpi: The OCR image's resolution.
        timeout_s: Tesseract's time limit per model.

    Returns:
        Line index -> the reading that replaces it.

    Raises:
        OcrError: Tesseract failed or timed out.
        pyvips.Error: libvips could not cut the lines out.
    """
    own = set(page_lang.split("+"))
    best: dict[int, float] = {n: line_confidence(page.lines[n]) for n in lines}
    chosen: dict[int, Reading] = {}
    for lang in line_languages:
        if lang in own:
            continue
        todo = [n for n in lines if best[n] < DOUBTFUL_CONFIDENCE]
        if not todo:
            break
        script = tesseract.LANGUAGE_TAGS.get(lang, ("", ""))[1]
        readings = read_lines(
            image,
            [page.lines[n].bbox for n in todo],
            lang=lang,
            work=work,
            dpi=dpi,
            timeout_s=timeout_s,
        )
        for n, reading in zip(todo, readings, strict=True):
            if reading is not None and _better(reading, best[n], script, replaces=n in chosen):
                best[n] = reading.confidence
                chosen[n] = reading
    return chosen


def _better(reading: Reading, confidence: float, script: str, *, replaces: bool) -> bool:
    """Whether ``reading`` should replace a line read at ``confidence``.

    Args:
        reading: The new reading.
        confidence: The line's current confidence.
        script: The reading model's script (``""`` if unknown: not checked).
        replaces: Whether another line language's reading would be displaced.
    """
    if reading.confidence <= confidence:
        return False
    if script and letter_share(reading.text, script) < READING_SCRIPT_SHARE:
        return False
    # The eng model reads Cyrillic as confident-looking Latin ("года." as "roma." at 87): it
    # displaces another model's reading only when sure.
    return not replaces or reading.confidence >= CONFIDENT


def apply(page: hocr.Page, readings: dict[int, Reading]) -> hocr.Page:
    """The page with the chosen lines' words and text replaced."""
    lines = tuple(
        hocr.Line(
            bbox=line.bbox,
            words=readings[n].words,
            paragraph=line.paragraph,
            text=readings[n].text,
        )
        if n in readings
        else line
        for n, line in enumerate(page.lines)
    )
    return hocr.Page(width=page.width, height=page.height, lines=lines)


def by_box(
    page: hocr.Page, readings: dict[int, Reading]
) -> dict[hocr.Box, tuple[str, tuple[hocr.Word, ...]]]:
    """The readings keyed by their line's box, as :func:`hocr.replace_lines` takes them."""
    return {page.lines[n].bbox: (r.tag, r.words) for n, r in sorted(readings.items())}
