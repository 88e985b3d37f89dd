"""Tesseract's ALTO: canvas coordinates, provenance of our preprocessing, optional ALTO 4.

Tesseract 5 writes ALTO 3.0. :func:`rewrite` maps its coordinates to the full-resolution
canvas, names the master instead of the temporary image, records the preprocessing as a
``preProcessingStep`` and, for ``version=4``, transforms the document to ALTO 4.4: the same
elements in the v4 namespace, with the deprecated ``OCRProcessing`` steps expressed as v4
``Processing`` elements. Both results validate against the official XSDs (tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

from pipeline.ocr.geometry import Affine
from pipeline.ocr.hocr import Box, Word, map_box

ALTO3 = "http://www.loc.gov/standards/alto/ns-v3#"
ALTO4 = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO4_XSD = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PROFILES = {3: ALTO3, 4: ALTO4}
_STEPS = ("preProcessingStep", "ocrProcessingStep", "postProcessingStep")
# lxml takes None for the default namespace; its stubs only know str keys.
_NSMAP_V4: Any = {None: ALTO4, "xlink": XLINK, "xsi": XSI}


class AltoError(ValueError):
    """The ALTO is not what tesseract writes."""


def _num(value: str | None) -> float:
    return float(value) if value else 0.0


def _v3(name: str) -> str:
    return f"{{{ALTO3}}}{name}"


def _map_coordinates(root: etree._Element, transform: Affine, width: int, height: int) -> None:
    scale = transform.scale
    size = (width, height)
    for element in root.iter(_v3("Page")):
        element.set("WIDTH", str(width))
        element.set("HEIGHT", str(height))
    for element in root.iter():
        if element.tag == _v3("Page") or element.get("HPOS") is None:
            continue
        x, y = _num(element.get("HPOS")), _num(element.get("VPOS"))
        w = _num(element.get("WIDTH"))
        if element.get("HEIGHT") is None:
            # SP has no height; its width may be negative where tesseract's boxes overlap.
            px, py = transform.point(x, y)
            element.set("HPOS", str(max(0, min(width, round(px)))))
            element.set("VPOS", str(max(0, min(height, round(py)))))
            if element.get("WIDTH") is not None:
                element.set("WIDTH", str(round(w * scale)))
            continue
        h = _num(element.get("HEIGHT"))
        x0, y0, x1, y1 = map_box((x, y, x + w, y + h), transform, size)
        element.set("HPOS", str(x0))
        element.set("VPOS", str(y0))
        element.set("WIDTH", str(x1 - x0))
        element.set("HEIGHT", str(y1 - y0))


def _add_provenance(
    root: etree._Element, steps: Sequence[str], software: tuple[str, str], settings: str
) -> None:
    """Record our preprocessing before tesseract's step, and tesseract's settings in it."""
    processing = root.find(f"{_v3('Description')}/{_v3('OCRProcessing')}")
    if processing is None:
        return
    ocr_step = processing.find(_v3("ocrProcessingStep"))
    if ocr_step is None:
        return
    inner = ocr_step.text or ""
    if settings:
        node = etree.Element(_v3("processingStepSettings"))
        node.text = settings
        node.tail = inner
        # processingStepSettings precedes processingSoftware in processingStepType.
        software_node = ocr_step.find(_v3("processingSoftware"))
        if software_node is not None:
            software_node.addprevious(node)
        else:
            ocr_step.append(node)
    if not steps:
        return
    pre = etree.Element(_v3("preProcessingStep"))
    pre.text = inner
    for step in steps:
        etree.SubElement(pre, _v3("processingStepDescription")).text = step
    tool = etree.SubElement(pre, _v3("processingSoftware"))
    tool.text = inner + "\t"
    etree.SubElement(tool, _v3("softwareName")).text = software[0]
    etree.SubElement(tool, _v3("softwareVersion")).text = software[1]
    for parent in (pre, tool):
        children = list(parent)
        for child in children:
            child.tail = parent.text
        children[-1].tail = (parent.text or "")[:-1]
    pre.tail = processing.text
    ocr_step.addprevious(pre)


def _copy_v4(
    element: etree._Element, parent: etree._Element | None, name: str = ""
) -> etree._Element:
    """Copy an ALTO 3 element and its subtree into the ALTO 4 namespace under ``parent``."""
    tag = f"{{{ALTO4}}}{name or etree.QName(element).localname}"
    copy = etree.Element(tag, nsmap=_NSMAP_V4) if parent is None else etree.SubElement(parent, tag)
    for key, value in element.attrib.items():
        if key != f"{{{XSI}}}schemaLocation":
            copy.set(key, value)
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        if not isinstance(child.tag, str):
            copy.append(child.__copy__())
        elif child.tag == _v3("OCRProcessing"):
            _processing_v4(child, copy)
        else:
            _copy_v4(child, copy)
    return copy


def _processing_v4(ocr_processing: etree._Element, parent: etree._Element) -> None:
    """ALTO 4 ``Processing`` elements for the steps of a (deprecated) ``OCRProcessing``."""
    base = ocr_processing.get("ID", "OCR")
    steps = [c for c in ocr_processing if etree.QName(c).localname in _STEPS]
    before = ocr_processing.getprevious()
    lead = before.tail if before is not None else parent.text
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        processing = _copy_v4(step, parent, "Processing")
        processing.set("ID", base if last else f"{base}_{n}")
        processing.tail = ocr_processing.tail if last else lead
        # One level shallower than in ALTO 3: drop a tab of indentation.
        for node in processing.iter():
            if node is not processing and node.tail and not node.tail.strip():
                node.tail = node.tail.replace("\t", "", 1)
            if node.text and not node.text.strip():
                node.text = node.text.replace("\t", "", 1)


def _line_box(element: etree._Element) -> tuple[int, int, int, int]:
    x, y = round(_num(element.get("HPOS"))), round(_num(element.get("VPOS")))
    return x, y, x + round(_num(element.get("WIDTH"))), y + round(_num(element.get("HEIGHT")))


def replace_lines(text: str, readings: dict[Box, tuple[str, tuple[Word, ...]]]) -> str:
    """Give lines other words: each ``TextLine`` whose box is a key gets the reading's words.

    Args:
        text: ALTO 3 as tesseract wrote it (OCR-image coordinates).
        readings: Line box ``(x0, y0, x1, y1)`` -> (BCP 47 tag, words in the same coordinates).

    Returns:
        The document with those lines' ``String`` and ``SP`` elements replaced and ``LANG`` set.

    Raises:
        AltoError: It is not well-formed XML.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise AltoError(f"ALTO is not well-formed XML: {exc}") from None
    for line in list(root.iter(_v3("TextLine"))):  # changed below: not while iterating
        reading = readings.get(_line_box(line))
        if reading is None or not len(line):
            continue
        tag, words = reading
        indent, last_tail = line.text, line[-1].tail
        for child in list(line):
            line.remove(child)
        line.set("LANG", tag)
        base = line.get("ID", "line")
        for n, word in enumerate(words):
            x0, y0, x1, y1 = word.bbox
            if n:
                gap = etree.SubElement(line, _v3("SP"))
                previous = words[n - 1].bbox
                gap.set("WIDTH", str(max(0, x0 - previous[2])))
                gap.set("VPOS", str(previous[1]))
                gap.set("HPOS", str(previous[2]))
                gap.tail = indent
            string = etree.SubElement(line, _v3("String"))
            string.set("ID", f"{base}_string_{n}")
            for key, value in (("HPOS", x0), ("VPOS", y0), ("WIDTH", x1 - x0), ("HEIGHT", y1 - y0)):
                string.set(key, str(value))
            string.set("WC", f"{word.confidence / 100:.2f}")
            string.set("CONTENT", word.text)
            string.tail = indent
        if len(line):
            line[-1].tail = last_tail
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + ("\n" if text.endswith("\n") else "")


def rewrite(
    text: str,
    transform: Affine,
    *,
    width: int,
    height: int,
    image: str,
    steps: Sequence[str] = (),
    software: tuple[str, str] = ("pipeline", ""),
    settings: str = "",
    version: int = 3,
) -> str:
    """Express tesseract's ALTO in canvas pixels, naming the master and our preprocessing.

    Args:
        text: ALTO 3 as tesseract wrote it for the OCR image.
        transform: OCR image -> canvas.
        width: Canvas width.
        height: Canvas height.
        image: File name for ``sourceImageInformation/fileName``.
        steps: Preprocessing steps, each recorded as a ``processingStepDescription``.
        software: Name and version of the software that preprocessed the image.
        settings: Tesseract's settings (``-l kor --psm 4``), recorded in its step.
        version: 3 (as tesseract writes it) or 4 (ALTO 4.4).

    Returns:
        The ALTO document in canvas coordinates.

    Raises:
        AltoError: It is not well-formed ALTO 3.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise AltoError(f"ALTO is not well-formed XML: {exc}") from None
    if root.tag != _v3("alto"):
        raise AltoError(f"not ALTO 3: root element {root.tag}")
    for name in root.iter(_v3("fileName")):
        name.text = image
    _map_coordinates(root, transform, width, height)
    _add_provenance(root, steps, software, settings)
    if version == 4:
        root = _copy_v4(root, None)
        root.set(f"{{{XSI}}}schemaLocation", f"{ALTO4} {ALTO4_XSD}")
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + "\n"
