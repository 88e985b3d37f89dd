"""What the correction page shows and saves: a page's lines, and its transcription file.

A page's lines are its transcription's when ``transcriptions/VOLUME/`` has a file for it (mapped
to the canvas), else its OCR lines with their confidence. Saving writes
``transcriptions/VOLUME/PAGE.xml`` (PAGE XML 2019, kind ``human``, the editor as creator) through
a temporary file, with the lines' geometry as it was and the new texts; nothing under the output
folder and no master is ever written. A page whose transcription is another file (an export
named otherwise) is not saved over: a second file for the page would leave it with its OCR.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline.archive.page_lines import PageFacts, ocr_lines, open_state, page_facts
from pipeline.config import Config
from pipeline.errors import JobInputError, PipelineError, TranscriptError
from pipeline.fsio import write_bytes_atomic
from pipeline.input.configured import read_volume
from pipeline.input.transcripts.geometry import to_canvas
from pipeline.input.transcripts.model import Line, Provenance, Transcript
from pipeline.input.transcripts.page_writer import page_xml
from pipeline.input.transcripts.read import read_transcript
from pipeline.input.volumes import Volume, find_volumes
from pipeline.layout import Layout, check_volume_id


class CorrectionError(PipelineError):
    """A correction that cannot be shown or saved; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        """Keep the message and the status."""
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PageView:
    """One page as the correction page shows it."""

    volume: str
    facts: PageFacts
    lines: tuple[Line, ...]
    source: str  # "OCR", or the transcription file's name
    held: bool

    @property
    def page(self) -> str:
        """The page id."""
        return self.facts.item.page


@dataclass(frozen=True)
class Corrections:
    """The configuration (scans, transcriptions, catalogue), the output folder, the editor."""

    cfg: Config
    layout: Layout
    editor: str = ""

    @property
    def scans(self) -> Path:
        """The scans folder."""
        return self.cfg.site.scans

    @property
    def transcriptions(self) -> Path:
        """The transcriptions folder."""
        return self.cfg.site.transcriptions_dir

    def volumes(self) -> list[str]:
        """The volume ids of the scans folder, in natural order; none when it has none."""
        try:
            return [folder.name for folder in find_volumes(self.scans)]
        except JobInputError:  # no scans folder, or nothing in it: an empty list says so
            return []

    def _read(self, volume: str) -> tuple[Volume, list[PageFacts]]:
        """A volume as a run reads it, and its built pages in order.

        Raises:
            CorrectionError: No such volume (404).
        """
        try:
            check_volume_id(volume)
        except (PipelineError, ValueError):
            raise CorrectionError(f"{volume!r} is not a volume id", 404) from None
        if not (self.scans / volume).is_dir():
            raise CorrectionError(f"volume {volume}: no such volume folder", 404)
        read = read_volume(self.cfg, volume)
        with open_state(self.layout) as state:
            return read, list(page_facts(state, read))

    def pages(self, volume: str) -> list[PageFacts]:
        """The built pages of a volume, in order.

        Raises:
            CorrectionError: No such volume (404).
        """
        return self._read(volume)[1]

    def view(self, volume: str, page: str) -> PageView:
        """A page's lines as the correction page shows them.

        Raises:
            CorrectionError: No such volume or built page (404), or its transcription file
                cannot be read, or it has two (409).
        """
        read, pages = self._read(volume)
        found = [f for f in pages if f.item.page == page]
        if not found or found[0].tiles is None:
            raise CorrectionError(f"{volume}/{page}: no such page built ('pipeline run')", 404)
        facts = found[0]
        held = facts.ocr is not None and facts.ocr.needs_review
        names = read.transcript_conflicts.get(page)
        if names:
            raise CorrectionError(
                f"{self.transcriptions / volume}: page {page}: {len(names)} transcription files "
                f"({', '.join(names)}); keep one",
                409,
            )
        file = facts.item.transcript
        if file is None:
            lines = ocr_lines(self.layout, facts.ocr) if facts.ocr is not None else ()
            return PageView(volume, facts, lines, "OCR", held)
        path = Path(file.path)
        try:
            transcript = to_canvas(read_transcript(path), facts.canvas, facts.ingest.orientation)
        except TranscriptError as exc:
            raise CorrectionError(str(exc), 409) from None
        numbered = tuple(
            replace(line, id=line.id or f"l{n}") for n, line in enumerate(transcript.lines, 1)
        )
        return PageView(volume, facts, numbered, file.name, held)

    def save(self, volume: str, page: str, editor: str, texts: Mapping[str, str]) -> Path:
        """Write a page's corrected lines to ``transcriptions/VOLUME/PAGE.xml``.

        Args:
            volume: The volume.
            page: The page id.
            editor: Who corrected the text (the file's ``Creator``).
            texts: The new text of each line, by line id (every line of the page).

        Returns:
            The file written.

        Raises:
            CorrectionError: No such page (404); no editor, or ids that are not the page's
                lines (400); a transcription file of another name, or lines without
                positions (409).
        """
        editor = " ".join(editor.split())
        if not editor:
            raise CorrectionError("no editor name: give one (serve.editor or --editor)", 400)
        view = self.view(volume, page)
        target = self.transcriptions / volume / f"{page}.xml"
        if view.source not in ("OCR", target.name):
            raise CorrectionError(
                f"{volume}/{page}: its transcription is {view.source}; correct that file (or "
                "remove it) instead of writing a second one",
                409,
            )
        ids = [line.id for line in view.lines]
        if sorted(texts) != sorted(ids):
            raise CorrectionError(f"{volume}/{page}: the lines sent are not the page's lines", 400)
        if any(line.box is None for line in view.lines):
            raise CorrectionError(f"{view.source}: its lines have no positions to save", 409)
        now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = tuple(
            replace(line, text=_one_line(texts[line.id]), confidence=None, language="")
            for line in view.lines
        )
        transcript = Transcript(
            source=target.name,
            format="page-2019",
            lines=lines,
            provenance=Provenance(kind="human", creator=editor, date=now),
            image_file=view.facts.master.name,
            image_size=view.facts.canvas,
        )
        write_bytes_atomic(target, page_xml(transcript, created=now))
        return target


def _one_line(text: str) -> str:
    """A line's text as saved: NFC, with no line breaks or runs of spaces."""
    return unicodedata.normalize("NFC", " ".join(text.split()))
