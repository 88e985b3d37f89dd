"""Reading one transcription file, whatever its format: detect, validate, parse.

The format comes from the content (:func:`~pipeline.input.transcripts.sniff.detect`), never
from the file name, so an eScriptorium or Transkribus export folder can be dropped in as it is.
PAGE and ALTO are checked against their schemas first (tolerating what real exports are known
to do); hOCR that is not well-formed XML is read as HTML, as browsers read it.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.transcripts.alto import read_alto
from pipeline.input.transcripts.hocr import read_hocr
from pipeline.input.transcripts.model import Transcript
from pipeline.input.transcripts.page import read_page
from pipeline.input.transcripts.plain import read_plain
from pipeline.input.transcripts.schemas import validate
from pipeline.input.transcripts.sniff import decode, detect, parse_xml


def read_transcript(path: Path) -> Transcript:
    """Read a transcription file into lines in the coordinates of the image it describes.

    Args:
        path: A PAGE XML, ALTO, hOCR or plain-text file.

    Returns:
        The transcript (map it to a canvas with
        :func:`~pipeline.input.transcripts.geometry.to_canvas`).

    Raises:
        TranscriptError: The file cannot be read, is not UTF-8, is malformed, does not follow
            its schema, or lacks what a page needs (one line naming the file and the reason).
    """
    return parse_transcript(read_bytes(path), path.name)


def read_bytes(path: Path) -> bytes:
    """A transcription file's bytes.

    Raises:
        TranscriptError: The file cannot be read (one line naming it).
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def parse_transcript(data: bytes, name: str) -> Transcript:
    """Read a transcription file's bytes (see :func:`read_transcript`).

    Args:
        data: The file's content.
        name: Its name, for messages.

    Returns:
        The transcript.

    Raises:
        TranscriptError: As :func:`read_transcript`.
    """
    kind = detect(data, name)
    if kind == "text":
        return read_plain(decode(data, name), name)
    if kind == "hocr":
        return read_hocr(_html_root(data, name), name)
    root = parse_xml(data, name)
    problems = validate(root)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TranscriptError(f"{name}: not valid {kind}: {problems[0]}{more}")
    return read_page(root, name) if kind.startswith("page") else read_alto(root, name)


def _html_root(data: bytes, name: str) -> etree._Element:
    """An hOCR document's root: as XML when it is well-formed XHTML, else parsed as HTML."""
    try:
        return parse_xml(data, name)
    except TranscriptError:
        root: etree._Element = lxml.html.document_fromstring(decode(data, name))
        return root
