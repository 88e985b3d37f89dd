"""ALTO 2.x, 3.x and 4.x transcriptions (eScriptorium, ABBYY FineReader, tesseract) read into lines.

What is read, and the rules where a file leaves a choice:

- **Lines**: every ``TextLine`` of the page in document order, in every block, including those
  outside ``PrintSpace`` (ABBYY puts the running head in ``TopMargin``).
- **Text**: the line's ``String/@CONTENT`` values joined by one space (an ``SP`` and two adjacent
  ``String`` elements both separate words), NFC. A ``HYP`` (the hyphen at the end of a line of a
  word split across lines) is kept as the hyphen the page shows: ABBYY writes it as a soft
  hyphen U+00AD, which viewers do not display at the end of a text, so a soft or empty ``HYP``
  becomes ``-`` (U+002D); any other ``HYP/@CONTENT`` (``¬``, ``⸗``) is kept as written.
  ``SUBS_CONTENT`` (the whole word) is not used: a line holds what is written on it. A line
  with no text (not transcribed yet, or OCR noise) is left out.
- **Confidence**: the mean of the line's ``String/@WC`` (0-1), when any has one.
- **Geometry**: the box from ``HPOS/VPOS/WIDTH/HEIGHT`` (or, without them, the polygon's bounds),
  the polygon from ``Shape/Polygon/@POINTS`` (``x y x y`` or ``x,y x,y``), and ``BASELINE``
  either as a point list (ALTO 4.2 and later) or as a single number, a y value (ALTO 2 and 3:
  the baseline is then drawn across the line's box).
- **Units**: ``MeasurementUnit`` ``pixel`` is used as it is, and the declared image size is
  ``Page/@WIDTH`` x ``@HEIGHT`` (without them, the coordinates are taken as the master's pixels,
  with a warning). ``mm10`` (1/10 mm) and ``inch1200`` (1/1200 inch) are converted
  to pixels at :data:`NOMINAL_DPI`: ALTO records no image resolution, and since the page size
  converts by the same factor, the choice does not move anything on the canvas.
- **Image**: the file name of ``Description/sourceImageInformation/fileName``.
- **Provenance**: from ``Processing`` (ALTO 3, 4) or ``OCRProcessing`` (ALTO 2): the step that
  generated the content (``processingCategory`` ``contentGeneration`` or ALTO 2's
  ``ocrProcessingStep``, else the first step naming software): ``softwareName`` and
  ``softwareVersion`` are the software, ``processingDateTime`` the date. The kind is ``htr`` for
  software known to recognise handwriting (:data:`HTR_SOFTWARE`), ``ocr`` otherwise. An
  eScriptorium export names no software (its ids start with ``eSc_``): software
  ``escriptorium``, kind ``human``, as for its PAGE export: eScriptorium is where people
  transcribe and correct, and the file names no recognition engine. A file with neither is
  taken as ``ocr``. The volume descriptor may say otherwise.
"""

from __future__ import annotations

import unicodedata
from pathlib import PureWindowsPath

from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.geometry import bounds
from pipeline.input.transcripts.model import (
    Box,
    Format,
    Kind,
    Line,
    Point,
    Provenance,
    Transcript,
)

NAMESPACES: dict[str, Format] = {
    "http://www.loc.gov/standards/alto/ns-v2#": "alto-2",
    "http://www.loc.gov/standards/alto/ns-v3#": "alto-3",
    "http://www.loc.gov/standards/alto/ns-v4#": "alto-4",
}
# Units per inch of ALTO's physical measurement units; pixel coordinates are not converted.
UNITS_PER_INCH = {"mm10": 254.0, "inch1200": 1200.0}
NOMINAL_DPI = 300
# Lower-case names of recognisers made for handwriting: their text is HTR, not OCR.
HTR_SOFTWARE = ("escriptorium", "kraken", "transkribus", "pylaia", "htr")
ESCRIPTORIUM_ID = "eSc_"
SOFT_HYPHEN = "\u00ad"


def _number(element: etree._Element, name: str, source: str) -> float | None:
    value = element.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        what = " ".join(filter(None, (etree.QName(element).localname, element.get("ID"))))
        raise TranscriptError(f"{source}: {what} has {name}={value!r}, not a number") from None


def _numbers(value: str, what: str, source: str) -> list[float]:
    try:
        return [float(v) for v in value.replace(",", " ").split()]
    except ValueError:
        raise TranscriptError(f"{source}: {what} {value!r} is not a list of numbers") from None


def _points(value: str, what: str, source: str, scale: float) -> tuple[Point, ...]:
    numbers = _numbers(value, what, source)
    if len(numbers) % 2:
        raise TranscriptError(f"{source}: {what} {value!r} has an odd count of numbers")
    return tuple((numbers[i] * scale, numbers[i + 1] * scale) for i in range(0, len(numbers), 2))


def _text(line: etree._Element, ns: str) -> str:
    words: list[str] = []
    for child in line:
        name = child.tag
        if name == f"{{{ns}}}String":
            words.append(str(child.get("CONTENT", "")).strip())
        elif name == f"{{{ns}}}HYP":
            hyphen = str(child.get("CONTENT", "")).strip()
            words[-1:] = ["".join(words[-1:]) + ("-" if hyphen in ("", SOFT_HYPHEN) else hyphen)]
    return unicodedata.normalize("NFC", " ".join(" ".join(words).split()))


def _confidence(line: etree._Element, ns: str, source: str) -> float | None:
    values = [_number(s, "WC", source) for s in line.iter(f"{{{ns}}}String")]
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _language(line: etree._Element) -> str:
    for element in (line, *line.iterancestors()):
        for name in ("LANG", "language"):
            value = element.get(name)
            if value:
                return str(value)
    return ""


def _box(line: etree._Element, source: str, scale: float) -> Box | None:
    x, y = _number(line, "HPOS", source), _number(line, "VPOS", source)
    w, h = _number(line, "WIDTH", source), _number(line, "HEIGHT", source)
    if x is None or y is None or w is None or h is None:
        return None
    return x * scale, y * scale, (x + w) * scale, (y + h) * scale


def _baseline(value: str, box: Box | None, source: str, scale: float) -> tuple[Point, ...]:
    numbers = _numbers(value, "BASELINE", source)
    if len(numbers) == 1:
        if box is None:
            raise TranscriptError(
                f"{source}: BASELINE {value!r} is a y value on a line with no box"
            )
        y = numbers[0] * scale
        return (box[0], y), (box[2], y)
    return _points(value, "BASELINE", source, scale)


def _line(line: etree._Element, ns: str, source: str, scale: float) -> Line:
    polygon_el = line.find(f"{{{ns}}}Shape/{{{ns}}}Polygon")
    polygon: tuple[Point, ...] = ()
    if polygon_el is not None:
        polygon = _points(str(polygon_el.get("POINTS", "")), "Polygon POINTS", source, scale)
    box = _box(line, source, scale)
    if box is None and polygon:
        box = bounds(polygon)
    baseline_value = line.get("BASELINE")
    baseline = _baseline(baseline_value, box, source, scale) if baseline_value else ()
    return Line(
        text=_text(line, ns),
        box=box,
        polygon=polygon,
        baseline=baseline,
        id=str(line.get("ID", "")),
        language=_language(line),
        confidence=_confidence(line, ns, source),
    )


def _scale(root: etree._Element, ns: str, source: str) -> float:
    unit = (root.findtext(f"{{{ns}}}Description/{{{ns}}}MeasurementUnit") or "pixel").strip()
    if unit == "pixel":
        return 1.0
    if unit not in UNITS_PER_INCH:
        raise TranscriptError(
            f"{source}: MeasurementUnit {unit!r} is none of pixel, mm10, inch1200"
        )
    return NOMINAL_DPI / UNITS_PER_INCH[unit]


def _page(root: etree._Element, ns: str, source: str) -> etree._Element:
    pages = root.findall(f"{{{ns}}}Layout/{{{ns}}}Page")
    if len(pages) != 1:
        raise TranscriptError(
            f"{source}: {len(pages)} ALTO Page elements; a transcription file holds one page"
        )
    return pages[0]


def _image_size(page: etree._Element, source: str, scale: float) -> tuple[int, int] | None:
    width, height = _number(page, "WIDTH", source), _number(page, "HEIGHT", source)
    if width and height and width > 0 and height > 0:
        return round(width * scale), round(height * scale)
    if scale != 1.0:
        raise TranscriptError(
            f"{source}: the ALTO Page declares no WIDTH and HEIGHT, so its physical "
            "coordinates cannot be placed on the image"
        )
    return None


def _step(description: etree._Element, ns: str) -> etree._Element | None:
    """The processing step that generated the text (see the module docstring)."""
    steps = [
        *description.iter(f"{{{ns}}}Processing"),
        *description.iter(f"{{{ns}}}ocrProcessingStep"),
    ]
    for step in steps:
        category = step.findtext(f"{{{ns}}}processingCategory")
        if etree.QName(step).localname == "ocrProcessingStep" or category == "contentGeneration":
            return step
    named = [s for s in description.iter() if s.find(f"{{{ns}}}processingSoftware") is not None]
    return named[0] if named else None


def _provenance(root: etree._Element, ns: str) -> Provenance:
    description = root.find(f"{{{ns}}}Description")
    step = _step(description, ns) if description is not None else None
    if step is None:
        if root.xpath(f".//*[starts-with(@ID, '{ESCRIPTORIUM_ID}')]"):
            return Provenance(kind="human", software="escriptorium")
        return Provenance(kind="ocr")
    software_el = step.find(f"{{{ns}}}processingSoftware")
    name = version = ""
    if software_el is not None:
        name = (software_el.findtext(f"{{{ns}}}softwareName") or "").strip()
        version = (software_el.findtext(f"{{{ns}}}softwareVersion") or "").strip()
    software = f"{name} {version}".strip()
    kind: Kind = "htr" if any(h in name.lower() for h in HTR_SOFTWARE) else "ocr"
    date = (step.findtext(f"{{{ns}}}processingDateTime") or "").strip()
    return Provenance(kind=kind, software=software, date=date)


def read_alto(root: etree._Element, source: str) -> Transcript:
    """Read an ALTO 2.x, 3.x or 4.x file into lines in image pixels (rules: module docstring).

    Args:
        root: The parsed ``alto`` element.
        source: The file's name, for messages.

    Returns:
        The transcript, format ``alto-2``, ``alto-3`` or ``alto-4`` by namespace.

    Raises:
        TranscriptError: The namespace is not ALTO 2-4, the file has no or several pages, an
            unknown unit, physical units without a page size, or coordinates that are not
            numbers.
    """
    ns = str(etree.QName(root).namespace or "")
    fmt = NAMESPACES.get(ns)
    if fmt is None or etree.QName(root).localname != "alto":
        raise TranscriptError(f"{source}: not ALTO 2, 3 or 4 (root {root.tag!r})")
    scale = _scale(root, ns, source)
    page = _page(root, ns, source)
    image_file = root.findtext(
        f"{{{ns}}}Description/{{{ns}}}sourceImageInformation/{{{ns}}}fileName"
    )
    lines = [_line(line, ns, source, scale) for line in page.iter(f"{{{ns}}}TextLine")]
    image_size = _image_size(page, source, scale)
    warnings: tuple[str, ...] = ()
    if image_size is None and any(line.box for line in lines):
        warnings = (f"{source}: the ALTO Page declares no size: coordinates taken as the master's",)
    return Transcript(
        source=source,
        format=fmt,
        lines=tuple(line for line in lines if line.text),
        provenance=_provenance(root, ns),
        image_file=PureWindowsPath(image_file.strip()).name if image_file else "",
        image_size=image_size,
        warnings=warnings,
    )
