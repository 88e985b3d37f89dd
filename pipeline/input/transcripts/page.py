"""PAGE XML transcriptions: 2013-07-15 (Transkribus) and 2019-07-15 (eScriptorium, OCR-D).

Text is read from lines only: Transkribus repeats every line's text in its region's own
``TextEquiv`` (joined with CR LF), so region text is never read as well.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.geometry import bounds
from pipeline.input.transcripts.model import Kind, Line, Point, Provenance, Transcript
from pipeline.input.transcripts.sniff import PAGE_FORMATS

# Transkribus status of a page that a person has finished or checked (GT: ground truth).
HUMAN_STATUSES = frozenset({"DONE", "FINAL", "GT"})
# Creator names that mean a machine read the text (case-insensitive substrings).
HTR_NAMES = ("trhtr", "pylaia", "htr+", "kraken", "calamari", "loghi")
OCR_NAMES = ("tesseract", "abbyy", "finereader", "ocr-d", "ocrd")
_FIELD = re.compile(r"(\w+)=([^:]*)")
_DATE = re.compile(r"(\d\d)_(\d\d)_(\d{4})_(\d\d)")


class _Reader:
    """Namespace-qualified lookups and messages for one document."""

    def __init__(self, root: etree._Element, source: str) -> None:
        self.ns = etree.QName(root).namespace or ""
        self.source = source

    def tag(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def fail(self, reason: str) -> TranscriptError:
        return TranscriptError(f"{self.source}: {reason}")

    def points(self, element: etree._Element | None, where: str) -> tuple[Point, ...]:
        """The ``@points`` of a ``Coords`` or ``Baseline`` (``x,y x,y ...``); () without one."""
        if element is None or not element.get("points", "").strip():
            return ()
        try:
            pairs = [pair.split(",") for pair in element.get("points", "").split()]
            return tuple((float(x), float(y)) for x, y in pairs)
        except ValueError:
            raise self.fail(f"{where}: points are not 'x,y x,y ...' pairs") from None


def _image(page: etree._Element, reader: _Reader) -> tuple[str, tuple[int, int]]:
    """The image file name and size the page declares; a missing or zero size is an error."""
    size = []
    for attribute in ("imageWidth", "imageHeight"):
        value = page.get(attribute, "")
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            shown = f"'{value}'" if value else "missing"
            raise reader.fail(f"Page/@{attribute} is {shown}: the image size must be given")
        size.append(number)
    return page.get("imageFilename", ""), (size[0], size[1])


def _group_refs(group: etree._Element) -> Iterator[str]:
    """Region ids of a reading-order group, by ``@index`` where given, nested groups expanded."""
    if group.get("regionRef"):
        yield group.get("regionRef", "")
    children = [child for child in group if isinstance(child.tag, str)]
    if all(child.get("index", "").isdigit() for child in children):
        children.sort(key=lambda child: int(child.get("index", "0")))
    for child in children:
        if etree.QName(child).localname.startswith("RegionRef"):
            yield child.get("regionRef", "")
        else:
            yield from _group_refs(child)


def _ordered_lines(page: etree._Element, reader: _Reader) -> list[etree._Element]:
    """Every ``TextLine`` in reading order: regions as ``ReadingOrder`` lists them, then others."""
    order: list[str] = []
    reading = page.find(reader.tag("ReadingOrder"))
    if reading is not None:
        for group in reading:
            if isinstance(group.tag, str):
                order.extend(_group_refs(group))
    rank = {region: index for index, region in enumerate(dict.fromkeys(order))}
    regions = list(page.iter(reader.tag("TextRegion")))
    regions.sort(key=lambda region: rank.get(region.get("id", ""), len(rank)))
    return [line for region in regions for line in region.findall(reader.tag("TextLine"))]


def _primary(element: etree._Element, reader: _Reader) -> etree._Element | None:
    """The primary ``TextEquiv`` of a line or word: ``@index`` 1, else the first; None if none."""
    equivs = element.findall(reader.tag("TextEquiv"))
    return next((e for e in equivs if e.get("index") == "1"), equivs[0] if equivs else None)


def _text(line: etree._Element, reader: _Reader) -> tuple[str, float | None]:
    """A line's primary text and confidence, or its words' primary texts joined by spaces."""
    primary = _primary(line, reader)
    text = primary.findtext(reader.tag("Unicode")) if primary is not None else None
    if not text or primary is None:
        words = (_primary(word, reader) for word in line.findall(reader.tag("Word")))
        texts = (word.findtext(reader.tag("Unicode")) for word in words if word is not None)
        return " ".join(text for text in texts if text), None
    conf = primary.get("conf")
    if conf is None:
        return text, None
    try:
        return text, float(conf)
    except ValueError:
        raise reader.fail(f"line {line.get('id', '?')}: conf '{conf}' is not a number") from None


def _line(element: etree._Element, reader: _Reader) -> Line:
    where = f"line {element.get('id', '?')}"
    text, confidence = _text(element, reader)
    polygon = reader.points(element.find(reader.tag("Coords")), where)
    return Line(
        text=unicodedata.normalize("NFC", text),
        box=bounds(polygon) if polygon else None,
        polygon=polygon,
        baseline=reader.points(element.find(reader.tag("Baseline")), where),
        id=element.get("id", ""),
        confidence=confidence,
    )


def _transkribus_engine(creator: str) -> dict[str, str]:
    """The latest ``prov=...:name=...:model_id=...`` line of a Transkribus creator with a model.

    Transkribus lists every tool that touched the page, one per line and not in time order; the
    recognition engines are those with a ``model_id``.
    """
    engines = []
    for position, row in enumerate(creator.splitlines()):
        fields = dict(_FIELD.findall(row))
        if fields.get("model_id"):
            found = _DATE.search(row.partition(":date=")[2])
            when = (found[3], found[2], found[1], found[4]) if found else ("",) * 4
            engines.append((when, position, fields))
    return max(engines, key=lambda entry: entry[:2])[2] if engines else {}


def _kind(creator: str, status: str, engine: dict[str, str]) -> Kind:
    machine = creator.lower()
    if status in HUMAN_STATUSES:
        return "human"
    if engine or any(name in machine for name in HTR_NAMES):
        return "htr"
    if any(name in machine for name in OCR_NAMES):
        return "ocr"
    return "human"


def provenance(root: etree._Element) -> Provenance:
    """Who or what made a PAGE file's text, from its ``Metadata``.

    The rule for ``kind``: a Transkribus page whose ``TranskribusMetadata/@status`` is DONE,
    FINAL or GT was finished or checked by a person: ``human``. Otherwise a creator naming an
    HTR engine (a Transkribus ``model_id`` line, TrHtr, PyLaia, kraken, Calamari, Loghi) means
    ``htr``, and one naming an OCR engine (tesseract, ABBYY, OCR-D) means ``ocr``. Anything else
    (eScriptorium, a person's name, no creator) is ``human``: a file placed among the
    transcriptions is taken as a person's unless it says otherwise, and ``volume.toml`` can
    override it. Software and model come from the latest Transkribus engine line
    (``name``/``version``, ``model_id``: for a human page, the first pass the person corrected),
    whose ``prov`` organisation is the creator only of ``htr`` text; otherwise the creator is the
    first line of ``Creator``, which is also the software when it names a program
    (eScriptorium, or any machine-made text). The date is ``LastChange``, else ``Created``.

    Args:
        root: The ``PcGts`` element.

    Returns:
        The page's provenance.
    """
    reader = _Reader(root, "")
    metadata = root.find(reader.tag("Metadata"))
    if metadata is None:
        return Provenance(kind="human")
    creator = (metadata.findtext(reader.tag("Creator")) or "").strip()
    extra = metadata.find(reader.tag("TranskribusMetadata"))
    status = (extra.get("status", "") if extra is not None else "").upper()
    engine = _transkribus_engine(creator)
    kind = _kind(creator, status, engine)
    if engine:
        software = " ".join(filter(None, (engine.get("name"), engine.get("version"))))
        creator_name = engine.get("prov", "") if kind == "htr" else ""
    else:
        creator_name = creator.splitlines()[0] if creator else ""
        machine = kind != "human" or creator_name.lower() == "escriptorium"
        software = creator_name if machine else ""
    date = metadata.findtext(reader.tag("LastChange")) or metadata.findtext(reader.tag("Created"))
    return Provenance(
        kind=kind,
        creator=creator_name,
        software=software,
        model=engine.get("model_id", ""),
        date=(date or "").strip(),
    )


def read_page(root: etree._Element, source: str) -> Transcript:
    """Read a PAGE XML document (2013-07-15 or 2019-07-15) into a transcript.

    Lines come from ``TextLine`` elements, region by region in ``ReadingOrder`` (regions it
    does not list follow in document order), each line's text from its ``TextEquiv/Unicode``
    (``@index`` 1, else the first; ``@conf`` is the confidence), or its words' text joined by
    spaces when the line has none. A line with no text at all is left out, with a warning.

    Args:
        root: The ``PcGts`` element, parsed and validated.
        source: The file's name, for messages.

    Returns:
        The lines in image pixels of the declared image, with the page's provenance.

    Raises:
        TranscriptError: The document is not PAGE, has no ``Page``, a missing or zero image
            size, or unreadable points or confidence.
    """
    reader = _Reader(root, source)
    if etree.QName(root).localname != "PcGts" or reader.ns not in PAGE_FORMATS:
        raise reader.fail(f"not PAGE 2013/2019: root element {root.tag}")
    page = root.find(reader.tag("Page"))
    if page is None:
        raise reader.fail("no Page element")
    image_file, image_size = _image(page, reader)
    lines = [_line(element, reader) for element in _ordered_lines(page, reader)]
    kept = tuple(line for line in lines if line.text.strip())
    warnings: tuple[str, ...] = ()
    if len(kept) < len(lines):
        warnings = (f"{source}: {len(lines) - len(kept)} lines without text left out",)
    return Transcript(
        source=source,
        format=PAGE_FORMATS[reader.ns],
        lines=kept,
        provenance=provenance(root),
        image_file=image_file,
        image_size=image_size,
        warnings=warnings,
    )
