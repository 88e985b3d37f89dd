"""hOCR transcriptions (tesseract, kraken, OCRopus) read into lines.

The page is the one ``ocr_page``: its ``bbox 0 0 W H`` is the image size and ``image "..."`` the
image file (its name only). Lines are the ``ocr_line``, ``ocr_header``, ``ocr_caption`` and
``ocr_textfloat`` elements, outermost only, in document order. Classes are matched on any
element, with or without the XHTML namespace (OCRopus writes plain HTML). A line's text is its
``ocrx_word`` texts joined by one space, or its own text when it has no words (OCRopus), NFC;
a line with no text (tesseract writes some for specks) is left out. Its ``baseline`` (slope and
offset from the box's bottom-left corner) becomes two points at the box's left and right edges;
its confidence is the mean ``x_wconf`` of its words (0-100, given as 0-1); its language is the
nearest ``lang`` (or ``xml:lang``) of it or a parent, a tesseract model name (``kor``) given as
its BCP 47 tag (``ko``). The ``ocr-system`` meta names the software; the kind is ``ocr``.
"""

from __future__ import annotations

import unicodedata
from pathlib import PureWindowsPath

from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.model import Box, Line, Point, Provenance, Transcript
from pipeline.ocr.hocr import LINE_CLASSES, properties
from pipeline.ocr.tesseract import LANGUAGE_TAGS

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _classes(element: etree._Element) -> set[str]:
    return set(str(element.get("class", "")).split())


def _box(element: etree._Element, source: str) -> Box | None:
    value = properties(str(element.get("title", ""))).get("bbox")
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split())
    except ValueError:
        raise TranscriptError(f"{source}: bbox {value!r} is not four numbers") from None
    return x0, y0, x1, y1


def _baseline(element: etree._Element, box: Box | None, source: str) -> tuple[Point, ...]:
    value = properties(str(element.get("title", ""))).get("baseline")
    if value is None or box is None:
        return ()
    try:
        slope, offset = (float(v) for v in value.split())
    except ValueError:
        raise TranscriptError(f"{source}: baseline {value!r} is not slope and offset") from None
    x0, _, x1, y1 = box
    return (x0, y1 + offset), (x1, y1 + offset + slope * (x1 - x0))


def _language(element: etree._Element) -> str:
    for node in (element, *element.iterancestors()):
        value = node.get("lang") or node.get(XML_LANG)
        if value:
            return LANGUAGE_TAGS.get(str(value), (str(value), ""))[0]
    return ""


def _words(line: etree._Element) -> list[etree._Element]:
    return [w for w in line.iter(etree.Element) if "ocrx_word" in _classes(w)]


def _own_text(element: etree._Element) -> str:
    return "".join(str(t) for t in element.itertext())


def _text(line: etree._Element, words: list[etree._Element]) -> str:
    parts = [_own_text(w) for w in words] if words else [_own_text(line)]
    return unicodedata.normalize("NFC", " ".join(" ".join(parts).split()))


def _confidence(words: list[etree._Element], source: str) -> float | None:
    values = []
    for word in words:
        value = properties(str(word.get("title", ""))).get("x_wconf")
        if value is None:
            continue
        try:
            values.append(float(value) / 100)
        except ValueError:
            raise TranscriptError(f"{source}: x_wconf {value!r} is not a number") from None
    return sum(values) / len(values) if values else None


def _line(element: etree._Element, source: str) -> Line:
    box = _box(element, source)
    words = _words(element)
    return Line(
        text=_text(element, words),
        box=box,
        baseline=_baseline(element, box, source),
        id=str(element.get("id", "")),
        language=_language(element),
        confidence=_confidence(words, source),
    )


def _is_line(element: etree._Element) -> bool:
    return bool(_classes(element) & LINE_CLASSES)


def _lines(page: etree._Element) -> list[etree._Element]:
    return [
        e
        for e in page.iter(etree.Element)
        if _is_line(e) and not any(_is_line(a) for a in e.iterancestors())
    ]


def _software(root: etree._Element) -> str:
    for meta in root.iter(etree.Element):
        if etree.QName(meta).localname == "meta" and meta.get("name") == "ocr-system":
            return str(meta.get("content", "")).strip()
    return ""


def _image(page: etree._Element) -> str:
    value = properties(str(page.get("title", ""))).get("image", "").strip().strip("\"'")
    return PureWindowsPath(value).name if value else ""


def read_hocr(root: etree._Element, source: str) -> Transcript:
    """Read an hOCR page into lines in image pixels (rules: the module docstring).

    Args:
        root: The parsed ``html`` element.
        source: The file's name, for messages.

    Returns:
        The transcript, format ``hocr``, provenance kind ``ocr``.

    Raises:
        TranscriptError: The file has no or several ``ocr_page`` elements, the page has no
            ``bbox`` of a positive size, or a ``bbox``, ``baseline`` or ``x_wconf`` is not numbers.
    """
    pages = [e for e in root.iter(etree.Element) if "ocr_page" in _classes(e)]
    if len(pages) != 1:
        raise TranscriptError(
            f"{source}: {len(pages)} hOCR ocr_page elements; a transcription file holds one page"
        )
    page_box = _box(pages[0], source)
    if page_box is None or page_box[2] <= page_box[0] or page_box[3] <= page_box[1]:
        raise TranscriptError(f"{source}: the hOCR ocr_page has no bbox with the image size")
    x0, y0, x1, y1 = page_box
    lines = [_line(e, source) for e in _lines(pages[0])]
    return Transcript(
        source=source,
        format="hocr",
        lines=tuple(line for line in lines if line.text),
        provenance=Provenance(kind="ocr", software=_software(root)),
        image_file=_image(pages[0]),
        image_size=(round(x1 - x0), round(y1 - y0)),
    )
