"""A transcription file's format, told by its content (never its name), and its XML parsed safely.

PAGE XML (``PcGts`` in the 2013-07-15 or 2019-07-15 namespace), ALTO (``alto`` in the ns-v2,
ns-v3 or ns-v4 namespace), hOCR (HTML with an ``ocr_page`` element) and plain text (UTF-8 that is
not markup). A UTF-8 byte-order mark, which ABBYY writes, is tolerated; other encodings are
refused with a message that says so.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.model import Format

PAGE_FORMATS: dict[str, Format] = {
    "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15": "page-2013",
    "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15": "page-2019",
}
ALTO_FORMATS: dict[str, Format] = {
    "http://www.loc.gov/standards/alto/ns-v2#": "alto-2",
    "http://www.loc.gov/standards/alto/ns-v3#": "alto-3",
    "http://www.loc.gov/standards/alto/ns-v4#": "alto-4",
}
# How much of a file is fed at a time while looking for its root element.
ROOT_CHUNK = 4096
_HOCR_PAGE = re.compile(r"""class\s*=\s*["'][^"']*\bocr_page\b""")


def decode(data: bytes, name: str) -> str:
    """The text of a file that must be UTF-8, without a byte-order mark.

    Args:
        data: The file's bytes.
        name: The file's name, for the message.

    Returns:
        The decoded text.

    Raises:
        TranscriptError: The bytes are not UTF-8 (the message names the first bad byte).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise TranscriptError(
            f"{name}: not UTF-8 text: byte 0x{bad} at offset {exc.start} (save the file as UTF-8)"
        ) from None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse a PAGE, ALTO or XHTML file without fetching or expanding anything.

    Args:
        data: The file's bytes (UTF-8, a byte-order mark allowed).
        name: The file's name, for the message.

    Returns:
        The document's root element.

    Raises:
        TranscriptError: The file is not UTF-8 or not well-formed XML (one line, with the
            parser's line number and reason).
    """
    decode(data, name)
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        reason = str(exc.msg).splitlines()[0] if exc.msg else "unreadable"
        raise TranscriptError(f"{name}: malformed XML: {reason}") from None


def _root_tag(data: bytes) -> etree.QName | None:
    """The name of the first element, read without parsing the rest; None if unreadable."""
    # Fed a little at a time: the root element comes early, after a declaration or comment.
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    try:
        for offset in range(0, len(data), ROOT_CHUNK):
            parser.feed(data[offset : offset + ROOT_CHUNK])
            for _, element in parser.read_events():
                # Only "start" events were asked for: each carries an element.
                if isinstance(element, etree._Element):
                    return etree.QName(element)
    except etree.XMLSyntaxError:
        return None
    return None


def detect(data: bytes, name: str) -> Format:
    """The format of a transcription file, from its content.

    Args:
        data: The file's bytes.
        name: The file's name, for messages.

    Returns:
        ``page-2013``, ``page-2019``, ``alto-2``/``-3``/``-4``, ``hocr`` or ``text``.

    Raises:
        TranscriptError: The file is not UTF-8, or it is markup of no format we read (the
            message names the root element).
    """
    text = decode(data, name)
    if not text.lstrip().startswith("<"):
        return "text"
    tag = _root_tag(data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data)
    namespace = (tag.namespace or "") if tag is not None else ""
    if tag is not None and tag.localname == "PcGts" and namespace in PAGE_FORMATS:
        return PAGE_FORMATS[namespace]
    if tag is not None and tag.localname == "alto" and namespace in ALTO_FORMATS:
        return ALTO_FORMATS[namespace]
    # hOCR is HTML, which need not be well-formed XML.
    if (tag is None or tag.localname == "html") and _HOCR_PAGE.search(text):
        return "hocr"
    if tag is None:
        parse_xml(data, name)  # raises with the parser's reason
        raise TranscriptError(f"{name}: malformed XML: no root element could be read")
    where = f" in namespace {namespace}" if namespace else ""
    hint = "PAGE 2013/2019, ALTO 2-4, hOCR or plain text"
    raise TranscriptError(f"{name}: root element {tag.localname}{where} is not {hint}")
