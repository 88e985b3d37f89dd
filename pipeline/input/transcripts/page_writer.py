"""Writing a transcript as PAGE XML 2019-07-15, the format eScriptorium and Transkribus import.

The document is what the schema asks for and what both tools read: ``Metadata`` (``Creator``,
``Created``, ``LastChange``), one ``Page`` with the image's file name and size, one
``TextRegion`` around all lines (listed in ``ReadingOrder``), and a ``TextLine`` per line with
its ``Coords`` (the polygon, or the box's four corners), its ``Baseline`` when known and its
``TextEquiv`` (with ``@conf`` when the line has a confidence). Lines and the region carry
Transkribus' ``custom="readingOrder {index:N;}"``. PAGE allows only whole, non-negative pixel
coordinates, so points are rounded (and negative ones set to 0). The bytes depend only on the
arguments: dates are given, never taken from the clock.

:func:`~pipeline.input.transcripts.page.read_page` reads the file back to the same lines and
provenance when the provenance is one the reader derives from a ``Creator``: a person's name
for ``human`` text (no software), or a program's name as both creator and software for
machine text.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from pipeline.input.transcripts.geometry import bounds
from pipeline.input.transcripts.model import Line, Point, Transcript
from pipeline.input.transcripts.schemas import PAGE_2019

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_URL = f"{PAGE_2019} {PAGE_2019}/pagecontent.xsd"
REGION_ID = "r1"
# lxml's stubs type nsmap keys as str; the default namespace's key is None.
_NSMAP: Any = {None: PAGE_2019, "xsi": XSI}
# An xsd:ID: a letter or underscore first (ids such as "1" from hOCR are not usable).
_NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")


def _tag(local: str) -> str:
    return f"{{{PAGE_2019}}}{local}"


def _points(points: tuple[Point, ...]) -> str:
    return " ".join(f"{max(round(x), 0)},{max(round(y), 0)}" for x, y in points)


def _polygon(line: Line, number: int) -> tuple[Point, ...]:
    if line.polygon:
        return line.polygon
    if line.box is None:
        raise ValueError(f"line {number} has no polygon or box: PAGE needs coordinates")
    x0, y0, x1, y1 = line.box
    return (x0, y0), (x1, y0), (x1, y1), (x0, y1)


def _line_ids(lines: tuple[Line, ...]) -> list[str]:
    """Each line's own id where it is a usable, unique xsd:ID, else ``l<N>`` (unique too)."""
    taken = {REGION_ID}
    ids = []
    for number, line in enumerate(lines, start=1):
        candidate = line.id if _NCNAME.match(line.id) and line.id not in taken else f"l{number}"
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _metadata(root: etree._Element, transcript: Transcript, created: str) -> None:
    prov = transcript.provenance
    metadata = etree.SubElement(root, _tag("Metadata"))
    creator = prov.creator or prov.software
    etree.SubElement(metadata, _tag("Creator")).text = creator
    etree.SubElement(metadata, _tag("Created")).text = created
    etree.SubElement(metadata, _tag("LastChange")).text = prov.date or created


def _text_line(parent: etree._Element, line: Line, line_id: str, index: int) -> None:
    element = etree.SubElement(
        parent, _tag("TextLine"), id=line_id, custom=f"readingOrder {{index:{index};}}"
    )
    etree.SubElement(element, _tag("Coords"), points=_points(_polygon(line, index + 1)))
    if len(line.baseline) >= 2:
        etree.SubElement(element, _tag("Baseline"), points=_points(line.baseline))
    equiv = etree.SubElement(element, _tag("TextEquiv"))
    if line.confidence is not None:
        equiv.set("conf", repr(min(max(float(line.confidence), 0.0), 1.0)))
    etree.SubElement(equiv, _tag("Unicode")).text = line.text


def page_xml(transcript: Transcript, *, created: str) -> bytes:
    """Write a transcript as a PAGE XML 2019-07-15 document.

    Args:
        transcript: The lines, in the pixels of the image named by ``image_file`` and sized
            ``image_size`` (both required), and the page's provenance: ``Creator`` is its
            creator (else its software), ``LastChange`` its date (else ``created``).
        created: ``Metadata/Created``, an ISO 8601 UTC date and time
            (``2026-12-03T17:00:00Z``).

    Returns:
        The document, UTF-8 with an XML declaration.

    Raises:
        ValueError: The transcript has no image file name or size, or a line has no geometry.
    """
    if not transcript.image_file or transcript.image_size is None:
        raise ValueError(f"{transcript.source}: PAGE needs the image's file name and size")
    root = etree.Element(_tag("PcGts"), nsmap=_NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_URL)
    _metadata(root, transcript, created)
    width, height = transcript.image_size
    page = etree.SubElement(
        root,
        _tag("Page"),
        imageFilename=transcript.image_file,
        imageWidth=str(width),
        imageHeight=str(height),
    )
    if transcript.lines:
        order = etree.SubElement(etree.SubElement(page, _tag("ReadingOrder")), _tag("OrderedGroup"))
        order.set("id", "ro1")
        etree.SubElement(order, _tag("RegionRefIndexed"), index="0", regionRef=REGION_ID)
        polygons = [_polygon(line, n) for n, line in enumerate(transcript.lines, start=1)]
        x0, y0, x1, y1 = bounds(tuple(p for polygon in polygons for p in polygon))
        region = etree.SubElement(
            page, _tag("TextRegion"), id=REGION_ID, custom="readingOrder {index:0;}"
        )
        corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        etree.SubElement(region, _tag("Coords"), points=_points(corners))
        for index, (line, line_id) in enumerate(
            zip(transcript.lines, _line_ids(transcript.lines), strict=True)
        ):
            _text_line(region, line, line_id, index)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
