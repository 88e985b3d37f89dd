"""What a transcription file says, whatever its format: lines with text, geometry and provenance.

Coordinates are pixels of the image the file describes (``image_size``), which may be a
downscaled copy of the master: :func:`~pipeline.input.transcripts.geometry.to_canvas` maps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["human", "htr", "ocr"]
Format = Literal["page-2013", "page-2019", "alto-2", "alto-3", "alto-4", "hocr", "text"]
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Provenance:
    """Who or what made a text: a person, an organisation, or software and its model.

    ``creator`` names the person or organisation; ``software`` the program (and ``model`` the
    recognition model) when a machine made it; ``date`` is ISO 8601 as the file gives it.
    """

    kind: Kind
    creator: str = ""
    software: str = ""
    model: str = ""
    date: str = ""


@dataclass(frozen=True)
class Line:
    """One text line: its text (NFC), polygon, baseline and box, in image pixels.

    ``polygon`` is empty when the file gives only a box; ``box`` is always set when the file has
    geometry (derived from the polygon otherwise); a plain-text line has neither.
    """

    text: str
    box: Box | None = None
    polygon: tuple[Point, ...] = ()
    baseline: tuple[Point, ...] = ()
    id: str = ""
    language: str = ""  # BCP 47 when the file says
    confidence: float | None = None  # 0-1 when the file says
    provenance: Provenance | None = None  # when the line's differs from the page's


@dataclass(frozen=True)
class Transcript:
    """A page's transcription as read from one file."""

    source: str  # the file's name, for messages
    format: Format
    lines: tuple[Line, ...]
    provenance: Provenance
    image_file: str = ""  # the image file name the file declares, if any
    image_size: tuple[int, int] | None = None  # declared width, height in pixels
    warnings: tuple[str, ...] = field(default=())
