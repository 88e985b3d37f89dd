"""Plain-text transcriptions: one line of text per line of the page, no geometry.

Lines end with LF or CR LF; a final line ending does not start another line, and blank
lines (between paragraphs, say) are dropped: they are not lines of the page. A leading
byte-order mark is ignored. Each line is NFC, with the spaces around it removed. Who made the
text is not in the file: the kind is ``human`` with no creator, and the volume descriptor may
say who. A file with no text is a blank page: no lines and a warning.
"""

from __future__ import annotations

import unicodedata

from pipeline.input.transcripts.model import Line, Provenance, Transcript

BYTE_ORDER_MARK = "\ufeff"


def read_plain(text: str, source: str) -> Transcript:
    """Read a plain-text transcription.

    Args:
        text: The file's text, decoded.
        source: The file's name, for messages.

    Returns:
        The transcript, format ``text``: lines without geometry, provenance kind ``human``.
    """
    body = unicodedata.normalize("NFC", text.removeprefix(BYTE_ORDER_MARK))
    rows = [row.strip() for row in body.replace("\r\n", "\n").split("\n")]
    lines = tuple(Line(text=row) for row in rows if row)
    warnings = () if lines else (f"{source}: empty transcription: a blank page?",)
    return Transcript(
        source=source,
        format="text",
        lines=lines,
        provenance=Provenance(kind="human"),
        warnings=warnings,
    )
