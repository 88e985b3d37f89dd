"""ALTO 4.4, hOCR and plain text written from a page's chosen lines (a transcription).

The OCR stage publishes tesseract's own hOCR and ALTO, mapped to the canvas. A transcribed page
publishes these instead, written from the transcription's lines on the canvas: one text block
holding every line in reading order, each line with its box (the whole canvas for a line
without one), its polygon (ALTO ``Shape``), language and words (``String`` elements separated by
``SP``; a line's confidence is given to each of its words). Who made the text is recorded: ALTO
``Processing`` (``contentGeneration``, with the agency, date and software), hOCR
``ocr-system`` and ``ocr-capabilities`` meta elements. Both documents are deterministic.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from lxml import etree

from pipeline.ocr.alto import ALTO4, ALTO4_XSD, XLINK, XSI
from pipeline.ocr.chosen import ChosenLine
from pipeline.ocr.hocr import XHTML
from pipeline.results import TextProvenance

Box = tuple[int, int, int, int]
# lxml takes None for the default namespace; its stubs only know str keys.
_NSMAP: Any = {None: ALTO4, "xlink": XLINK, "xsi": XSI}
_NSMAP_XHTML: Any = {None: XHTML}


def _a(name: str) -> str:
    return f"{{{ALTO4}}}{name}"


def _box(line: ChosenLine, size: tuple[int, int]) -> Box:
    return line.box if line.box is not None else (0, 0, size[0], size[1])


def _description(provenance: TextProvenance) -> str:
    kinds = {"human": "transcribed by a person", "htr": "handwriting recognition", "ocr": "OCR"}
    parts = [kinds[provenance.kind]]
    parts += [f"by {provenance.creator}"] if provenance.creator else []
    parts += [f"model {provenance.model}"] if provenance.model else []
    parts += [f"dated {provenance.date}"] if provenance.date else []
    return ", ".join(parts)


def _processing(description: etree._Element, provenance: TextProvenance, note: str) -> None:
    step = etree.SubElement(description, _a("Processing"), ID="transcription")
    etree.SubElement(step, _a("processingCategory")).text = "contentGeneration"
    if provenance.creator:
        etree.SubElement(step, _a("processingAgency")).text = provenance.creator
    etree.SubElement(step, _a("processingStepDescription")).text = _description(provenance)
    if note:
        etree.SubElement(step, _a("processingStepDescription")).text = note
    if provenance.software:
        software = etree.SubElement(step, _a("processingSoftware"))
        etree.SubElement(software, _a("softwareName")).text = provenance.software


def _alto_line(block: etree._Element, n: int, line: ChosenLine, size: tuple[int, int]) -> None:
    x0, y0, x1, y1 = _box(line, size)
    attrs = {"ID": f"line_{n}", "HPOS": str(x0), "VPOS": str(y0)}
    attrs |= {"WIDTH": str(max(1, x1 - x0)), "HEIGHT": str(max(1, y1 - y0))}
    if line.language:
        attrs["LANG"] = line.language
    element = etree.SubElement(block, _a("TextLine"), attrs)
    if line.polygon:
        shape = etree.SubElement(element, _a("Shape"))
        points = " ".join(f"{x},{y}" for x, y in line.polygon)
        etree.SubElement(shape, _a("Polygon"), POINTS=points)
    for i, word in enumerate(line.text.split()):
        if i:
            etree.SubElement(element, _a("SP"))
        string = etree.SubElement(element, _a("String"), CONTENT=word)
        if line.confidence is not None:
            string.set("WC", f"{min(max(line.confidence, 0.0), 1.0):.3f}")


def _alto(
    lines: Sequence[ChosenLine],
    width: int,
    height: int,
    image: str,
    provenance: TextProvenance,
    note: str,
) -> str:
    root = etree.Element(_a("alto"), nsmap=_NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", f"{ALTO4} {ALTO4_XSD}")
    description = etree.SubElement(root, _a("Description"))
    etree.SubElement(description, _a("MeasurementUnit")).text = "pixel"
    source = etree.SubElement(description, _a("sourceImageInformation"))
    etree.SubElement(source, _a("fileName")).text = image
    _processing(description, provenance, note)
    layout = etree.SubElement(root, _a("Layout"))
    size = {"WIDTH": str(width), "HEIGHT": str(height)}
    page = etree.SubElement(layout, _a("Page"), {"ID": "page_1", "PHYSICAL_IMG_NR": "1"} | size)
    space = etree.SubElement(page, _a("PrintSpace"), {"HPOS": "0", "VPOS": "0"} | size)
    if lines:
        block = etree.SubElement(space, _a("TextBlock"), ID="block_1")
        for n, line in enumerate(lines, start=1):
            _alto_line(block, n, line, (width, height))
    etree.indent(root, space=" ")
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + "\n"


def _h(name: str) -> str:
    return f"{{{XHTML}}}{name}"


def _hocr(
    lines: Sequence[ChosenLine], width: int, height: int, image: str, provenance: TextProvenance
) -> str:
    root = etree.Element(_h("html"), nsmap=_NSMAP_XHTML)
    head = etree.SubElement(root, _h("head"))
    etree.SubElement(head, _h("title")).text = image
    etree.SubElement(head, _h("meta"), {"http-equiv": "Content-Type"}).set(
        "content", "text/html;charset=utf-8"
    )
    system = provenance.software or _description(provenance)
    etree.SubElement(head, _h("meta"), name="ocr-system", content=system)
    etree.SubElement(head, _h("meta"), name="ocr-capabilities", content="ocr_page ocr_line")
    body = etree.SubElement(root, _h("body"))
    title = f'image "{image}"; bbox 0 0 {width} {height}'
    page = etree.SubElement(body, _h("div"), {"class": "ocr_page", "id": "page_1", "title": title})
    for n, line in enumerate(lines, start=1):
        x0, y0, x1, y1 = _box(line, (width, height))
        attrs = {"class": "ocr_line", "id": f"line_1_{n}", "title": f"bbox {x0} {y0} {x1} {y1}"}
        if line.language:
            attrs["lang"] = line.language
        etree.SubElement(page, _h("span"), attrs).text = line.text
    etree.indent(root, space=" ")
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + "\n"


def _plain(lines: Sequence[ChosenLine]) -> str:
    text = "\n".join(line.text for line in lines)
    return unicodedata.normalize("NFC", text + "\n") if lines else ""


def text_documents(
    lines: Sequence[ChosenLine],
    *,
    width: int,
    height: int,
    image: str,
    provenance: TextProvenance,
    note: str = "",
) -> dict[str, str]:
    """A page's ALTO 4.4, hOCR and plain text of the lines, in canvas pixels.

    Args:
        lines: The page's lines on the canvas.
        width: Canvas width.
        height: Canvas height.
        image: The master's file name (ALTO ``fileName``, the hOCR page's ``image``).
        provenance: Who made the text.
        note: How the lines were placed, when the file had no boxes (in ALTO's step).

    Returns:
        The documents by kind (``alto``, ``hocr``, ``txt``): UTF-8 text ending with a newline
        (the plain text is empty for no lines).
    """
    return {
        "alto": _alto(lines, width, height, image, provenance, note),
        "hocr": _hocr(lines, width, height, image, provenance),
        "txt": _plain(lines),
    }
