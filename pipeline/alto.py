"""Tesseract's ALTO (v3): map its coordinates to the canvas and name the master image."""

from __future__ import annotations

from lxml import etree

from pipeline.hocr import map_box
from pipeline.preprocess import Affine

ALTO3 = "http://www.loc.gov/standards/alto/ns-v3#"


class AltoError(ValueError):
    """The ALTO is not what tesseract writes."""


def _num(value: str | None) -> float:
    return float(value) if value else 0.0


def rewrite(text: str, transform: Affine, *, width: int, height: int, image: str) -> str:
    """Express tesseract's ALTO in canvas pixels, naming the master instead of a temp file.

    Args:
        text: ALTO as tesseract wrote it for the OCR image.
        transform: OCR image -> canvas.
        width: Canvas width.
        height: Canvas height.
        image: File name for ``sourceImageInformation/fileName``.

    Returns:
        The ALTO document, same structure and namespace, canvas coordinates.

    Raises:
        AltoError: It is not well-formed ALTO 3.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise AltoError(f"ALTO is not well-formed XML: {exc}") from None
    if root.tag != f"{{{ALTO3}}}alto":
        raise AltoError(f"not ALTO 3: root element {root.tag}")
    scale = transform.scale
    size = (width, height)
    for name in root.iter(f"{{{ALTO3}}}fileName"):
        name.text = image
    for element in root.iter():
        if element.tag == f"{{{ALTO3}}}Page":
            element.set("WIDTH", str(width))
            element.set("HEIGHT", str(height))
            continue
        if element.get("HPOS") is None or element.get("VPOS") is None:
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
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out.decode("utf-8") + "\n"
