"""Tesseract's hOCR: read lines and words with boxes and confidences; map it to the canvas.

Korean ``ocrx_word`` elements are often single syllables (tesseract splits ``인물전기`` into
``인``, ``물``, ``전기``), so joining words with spaces gives wrong text. The spacing tesseract
itself decided is in its plain-text output of the same pass, one line per ``ocr_line`` in the
same order; :func:`line_texts` takes each line's text from there and checks that both agree.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from lxml import etree

from pipeline.ocr.geometry import Affine

log = logging.getLogger(__name__)

XHTML = "http://www.w3.org/1999/xhtml"
LINE_CLASSES = frozenset({"ocr_line", "ocr_textfloat", "ocr_header", "ocr_caption"})
_NUMBER = r"-?\d+(?:\.\d+)?"

Box = tuple[int, int, int, int]


class HocrError(ValueError):
    """The hOCR is not what tesseract writes."""


@dataclass(frozen=True)
class Word:
    """One ``ocrx_word``: text (NFC), box ``(x0, y0, x1, y1)`` and confidence 0-100."""

    text: str
    bbox: Box
    confidence: float


@dataclass(frozen=True)
class Line:
    """One text line: its box, words and the paragraph it belongs to."""

    bbox: Box
    words: tuple[Word, ...]
    paragraph: str
    text: str = ""


@dataclass(frozen=True)
class Page:
    """The page box and its lines in reading order."""

    width: int
    height: int
    lines: tuple[Line, ...]

    @property
    def words(self) -> list[Word]:
        """Every word with text, in reading order."""
        return [w for line in self.lines for w in line.words]


def properties(title: str) -> dict[str, str]:
    """Split an hOCR ``title`` into its properties (``bbox``, ``x_wconf`` ...)."""
    out: dict[str, str] = {}
    for part in title.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name] = value.strip()
    return out


def _box(value: str) -> Box:
    parts = value.split()
    if len(parts) != 4:
        raise HocrError(f"bad bbox {value!r}")
    x0, y0, x1, y1 = (int(float(p)) for p in parts)
    return x0, y0, x1, y1


def _parse_xml(text: str) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.ElementTree(etree.fromstring(text.encode("utf-8"), parser))
    except etree.XMLSyntaxError as exc:
        raise HocrError(f"hOCR is not well-formed XML: {exc}") from None


def _classes(element: etree._Element) -> set[str]:
    return set(str(element.get("class", "")).split())


def _page(page_el: etree._Element) -> Page:
    x0, y0, x1, y1 = _box(properties(page_el.get("title", "")).get("bbox", ""))
    lines: list[Line] = []
    for element in page_el.iter(f"{{{XHTML}}}span"):
        if not _classes(element) & LINE_CLASSES:
            continue
        words = []
        for w in element.iter(f"{{{XHTML}}}span"):
            if "ocrx_word" not in _classes(w):
                continue
            content = unicodedata.normalize("NFC", "".join(str(t) for t in w.itertext())).strip()
            if not content:
                continue
            props = properties(w.get("title", ""))
            conf = float(props.get("x_wconf", "0"))
            words.append(Word(text=content, bbox=_box(props["bbox"]), confidence=conf))
        if not words:
            continue
        par = element.getparent()
        paragraph = str(par.get("id", "")) if par is not None else ""
        lines.append(
            Line(
                bbox=_box(properties(element.get("title", "")).get("bbox", "")),
                words=tuple(words),
                paragraph=paragraph,
            )
        )
    return Page(width=x1 - x0, height=y1 - y0, lines=tuple(lines))


def _page_elements(text: str) -> list[etree._Element]:
    root = _parse_xml(text).getroot()
    return [e for e in root.iter(f"{{{XHTML}}}div") if "ocr_page" in _classes(e)]


def parse(text: str) -> Page:
    """Read tesseract's hOCR.

    Args:
        text: The hOCR document.

    Returns:
        The page with its lines and words (words without text are dropped).

    Raises:
        HocrError: It is not well-formed or has no ``ocr_page``.
    """
    pages = _page_elements(text)
    if not pages:
        raise HocrError("no ocr_page element")
    return _page(pages[0])


def parse_pages(text: str) -> list[Page]:
    """Read every ``ocr_page`` of an hOCR document (tesseract run on a list of images).

    Raises:
        HocrError: It is not well-formed.
    """
    return [_page(element) for element in _page_elements(text)]


def replace_lines(text: str, readings: dict[Box, tuple[str, tuple[Word, ...]]]) -> str:
    """Give lines other words: each line whose box is a key gets the reading's words and language.

    Args:
        text: Tesseract's hOCR (OCR-image coordinates).
        readings: Line box -> (BCP 47 tag, words in the same coordinates).

    Returns:
        The document with those lines' ``ocrx_word`` spans replaced and ``lang`` set on them.

    Raises:
        HocrError: It is not well-formed.
    """
    tree = _parse_xml(text)
    spans = list(tree.getroot().iter(f"{{{XHTML}}}span"))  # changed below: not while iterating
    for element in spans:
        if not _classes(element) & LINE_CLASSES:
            continue
        reading = readings.get(_box(properties(element.get("title", "")).get("bbox", "")))
        if reading is None:
            continue
        tag, words = reading
        old = [child for child in element if "ocrx_word" in _classes(child)]
        if not old:
            continue
        indent, last_tail = element.text, old[-1].tail
        for child in list(element):
            element.remove(child)
        element.set("lang", tag)
        base = str(element.get("id", "line")).replace("line", "word", 1)
        for n, word in enumerate(words, start=1):
            span = etree.SubElement(element, f"{{{XHTML}}}span")
            span.set("class", "ocrx_word")
            span.set("id", f"{base}_{n}")
            span.set("title", f"bbox {' '.join(map(str, word.bbox))}; x_wconf {word.confidence:g}")
            span.text = word.text
            span.tail = indent
        if len(element):
            element[-1].tail = last_tail
    out: bytes = etree.tostring(tree, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + ("\n" if text.endswith("\n") else "")


def _squeeze(text: str) -> str:
    return "".join(text.split())


def line_texts(page: Page, plain: str) -> Page:
    """Give every line its text, with tesseract's own spacing from its plain-text output.

    Args:
        page: Parsed hOCR.
        plain: Tesseract's ``txt`` output of the same run.

    Returns:
        The page with ``Line.text`` set (NFC). When the two outputs disagree anywhere, every
        line falls back to its words joined by spaces (and a debug message is logged).
    """
    text_lines = [
        t.strip() for t in unicodedata.normalize("NFC", plain).splitlines() if _squeeze(t)
    ]
    agree = len(text_lines) == len(page.lines) and all(
        _squeeze(t) == _squeeze("".join(w.text for w in line.words))
        for t, line in zip(text_lines, page.lines, strict=True)
    )
    if not agree:
        log.debug("hOCR and text output disagree; joining hOCR words with spaces")
        text_lines = [" ".join(w.text for w in line.words) for line in page.lines]
    lines = tuple(
        Line(bbox=ln.bbox, words=ln.words, paragraph=ln.paragraph, text=" ".join(t.split()))
        for ln, t in zip(page.lines, text_lines, strict=True)
    )
    return Page(width=page.width, height=page.height, lines=lines)


def map_box(
    box: tuple[float, float, float, float], transform: Affine, size: tuple[int, int]
) -> Box:
    """Map a box to the canvas: the bounding box of its mapped corners, inside the canvas.

    Args:
        box: ``(x0, y0, x1, y1)`` in OCR-image pixels.
        transform: OCR image -> canvas.
        size: Canvas width and height.
    """
    x0, y0, x1, y1 = box
    corners = [transform.point(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    width, height = size
    return (
        max(0, min(width, int(min(xs)))),
        max(0, min(height, int(min(ys)))),
        max(0, min(width, round(max(xs) + 0.499))),
        max(0, min(height, round(max(ys) + 0.499))),
    )


def _map_baseline(value: str, box: Box, new: Box, transform: Affine) -> str:
    """Re-express ``baseline slope offset`` (relative to the box's bottom-left) on the canvas."""
    slope, offset = (float(v) for v in value.split())
    x0, _, x1, y1 = box
    ax, ay = transform.point(x0, y1 + offset)
    bx, by = transform.point(x1, y1 + offset + slope * (x1 - x0))
    new_slope = (by - ay) / (bx - ax) if bx != ax else 0.0
    at_left = ay + new_slope * (new[0] - ax)
    return f"{new_slope:.3f} {round(at_left - new[3])}"


def rewrite(
    text: str, transform: Affine, *, width: int, height: int, image: str, dpi: float
) -> str:
    """Express tesseract's hOCR in canvas coordinates, naming the master instead of a temp file.

    Args:
        text: The hOCR as tesseract wrote it for the OCR image.
        transform: OCR image -> canvas.
        width: Canvas width.
        height: Canvas height.
        image: File name to record as the page image.
        dpi: The master's resolution (``scan_res``).

    Returns:
        The hOCR document, same structure, canvas coordinates.

    Raises:
        HocrError: It is not well-formed.
    """
    tree = _parse_xml(text)
    scale = transform.scale
    size = (width, height)
    for element in tree.getroot().iter():
        title = element.get("title")
        if not title or "bbox" not in title:
            continue
        props = properties(title)
        old = _box(props["bbox"])
        if "ocr_page" in _classes(element):
            new: Box = (0, 0, width, height)
            props["image"] = f'"{image}"'
            if "scan_res" in props:
                props["scan_res"] = f"{round(dpi)} {round(dpi)}"
        else:
            new = map_box(old, transform, size)
        props["bbox"] = " ".join(str(v) for v in new)
        if "baseline" in props and re.fullmatch(f"{_NUMBER} {_NUMBER}", props["baseline"]):
            props["baseline"] = _map_baseline(props["baseline"], old, new, transform)
        for key in ("x_size", "x_descenders", "x_ascenders"):
            if key in props:
                props[key] = f"{float(props[key]) * scale:.2f}"
        element.set("title", "; ".join(f"{k} {v}" for k, v in props.items()))
    out: bytes = etree.tostring(tree, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + "\n"
