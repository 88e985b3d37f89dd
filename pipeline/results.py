"""What each stage hands the next: one typed, frozen result model per stage.

A result is stored as the ``data`` of its :class:`~pipeline.records.StageRecord`, in exactly
the form earlier versions wrote (fingerprints and result digests depend on it): a key is
written only if the stage set it (``exclude_unset``), so a key that a stage leaves out in some
cases (ingest's ``value_range``, everything of an OCR record with OCR switched off) stays out,
and a key found in a stored record that this version does not know is kept as it was.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, JsonValue

LangMap = dict[str, list[str]]
#: A line of text and its box on the canvas: ``[text, [x0, y0, x1, y1]]``.
LineBox = tuple[str, tuple[int, int, int, int]]


class StageResult(BaseModel):
    """The base of every result: frozen, and round-trips its stored form unchanged."""

    model_config = ConfigDict(frozen=True, extra="allow")

    #: The stage whose records hold this kind of result ("" for the base and :class:`Failure`).
    STAGE: ClassVar[str] = ""

    def to_data(self) -> dict[str, JsonValue]:
        """The stored form: the keys the stage set (or the stored record held), JSON-ready."""
        return self.model_dump(mode="json", exclude_unset=True)


class Failure(StageResult):
    """What a failed (or skipped) record holds: the page's master and, for a bug, the traceback."""

    file: str | None = None
    traceback: str | None = None


class IngestResult(StageResult):
    """A master's fixity, encoding and oriented size."""

    STAGE: ClassVar[str] = "ingest"

    file: str = ""
    sha256: str = ""
    size: int = 0
    mtime_ns: int = 0
    file_format: str = ""
    loader: str = ""
    bands: int = 0
    format: str = ""
    interpretation: str = ""
    bits: int = 0
    palette: bool = False
    has_alpha: bool = False
    orientation: int = 1
    has_icc: bool = False
    width: int = 0
    height: int = 0
    #: Lowest and highest sample of a floating-point master (measured only for those).
    value_range: tuple[float, float] | None = None
    warnings: list[str] = []

    @property
    def unit_floats(self) -> bool:
        """Whether the master's floating-point samples are all within 0-1 (not 0-255)."""
        return self.value_range is not None and self.value_range[1] <= 1.0


class Thumbnail(BaseModel):
    """A size the image service lists, used as the page's thumbnail."""

    model_config = ConfigDict(frozen=True, extra="allow")

    path: str
    width: int
    height: int


class TilesResult(StageResult):
    """A page's image service: its id, size, levels and the sizes it lists."""

    STAGE: ClassVar[str] = "tiles"

    service_id: str = ""
    width: int = 0
    height: int = 0
    full: str = "full/max/0/default.jpg"
    full_width: int | None = None
    full_height: int | None = None
    sizes: list[tuple[int, int]] = []
    scale_factors: list[int] = []
    tile_size: int = 0
    thumbnail: Thumbnail | None = None
    colour: list[str] = []
    tiles: int = 0
    replay_missing: int = 0


class OcrResult(StageResult):
    """A page's recognised text: file paths, confidence and the canvas boxes of its lines.

    With OCR switched off the record holds none of these (every field at its default).
    """

    STAGE: ClassVar[str] = "ocr"

    language: str = ""
    bcp47: str | list[str] = ""
    words: int = 0
    lines: int = 0
    characters: int = 0
    confidence: float | None = None
    needs_review: bool = False
    blank: bool = False
    lines_reread: int = 0
    lines_replaced: int = 0
    #: Whether the text is in the public tree (withheld text stays in the work folder).
    published: bool = True
    #: Orientation detected on the OCR image, for pages held for review only: degrees
    #: (0, 90, 180, 270; 180 is upside down), tesseract's confidence, or why it could not tell.
    orientation: int | None = None
    orientation_confidence: float | None = None
    orientation_error: str | None = None
    preprocessing: list[str] = []
    alto_profile: str | None = None
    engine: str = ""
    line_boxes: list[LineBox] = []
    #: Layout-relative paths of the files written, by kind.
    hocr: str | None = None
    alto: str | None = None
    txt: str | None = None


#: Who made a text: a person (``human``), a handwriting recogniser (``htr``) or OCR (``ocr``).
TextKind = Literal["human", "htr", "ocr"]
#: A point on the canvas, in pixels.
CanvasPoint = tuple[int, int]


class TextProvenance(BaseModel):
    """Who or what made a page's text: kind, person or organisation, software and model, date."""

    model_config = ConfigDict(frozen=True)

    kind: TextKind
    creator: str = ""
    software: str = ""
    model: str = ""
    date: str = ""


class TextLine(BaseModel):
    """One line of a transcription on the canvas; no box: the line targets the whole canvas.

    ``polygon`` is stored as PAGE XML writes points, ``"x,y x,y ..."`` (one string: records
    of a thousand pages with polygons stay quick to store); :attr:`points` reads it.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    box: tuple[int, int, int, int] | None = None
    polygon: str | None = None
    language: str = ""
    confidence: float | None = None

    @property
    def points(self) -> tuple[CanvasPoint, ...] | None:
        """The polygon's points (``None``: the file gives only a box, or no geometry)."""
        if not self.polygon:
            return None
        pairs = (pair.split(",") for pair in self.polygon.split())
        return tuple((int(x), int(y)) for x, y in pairs)


class TranscriptionResult(StageResult):
    """A page's transcription file read onto the canvas, and whether it wins over the OCR.

    A page without a file has an empty result (``file`` is ``None``). ``chosen`` says that the
    precedence setting puts the file's kind above the page's OCR; the ALTO, hOCR and text
    written from it are then the page's published text (layout-relative paths).
    """

    STAGE: ClassVar[str] = "transcription"

    file: str | None = None
    sha256: str = ""
    format: str = ""
    provenance: TextProvenance | None = None
    lines: list[TextLine] = []
    chosen: bool = False
    #: Publish the OCR as a second, labelled layer under the transcription.
    machine_layer: bool = False
    #: How the lines were placed when the file has no boxes (whole canvas, or OCR's boxes).
    note: str = ""
    warnings: list[str] = []
    #: A human transcription measures the page's OCR: edits from it to the OCR's text and its
    #: length (white space removed); set only where the page has both.
    ocr_edits: int | None = None
    reference_chars: int | None = None
    hocr: str | None = None
    alto: str | None = None
    txt: str | None = None


class AnnotationsResult(StageResult):
    """A page's AnnotationPage (layout-relative path), or ``None`` when it has none."""

    STAGE: ClassVar[str] = "annotations"

    annotations: str | None = None
    lines: int = 0
    #: The OCR's AnnotationPage under a transcription (``transcriptions.machine_layer``).
    machine: str | None = None


class TextResult(StageResult):
    """A volume's plain-text file (layout-relative path), or ``None`` when it has none."""

    STAGE: ClassVar[str] = "text"

    text: str | None = None
    pages: int = 0
    withheld: list[str] = []
    missing: list[str] = []
    #: Pages whose text is their transcription (written only when there are some).
    transcribed: list[str] = []


class IndexResult(StageResult):
    """A volume's search index (layout-relative path), or ``None`` when it has no text."""

    STAGE: ClassVar[str] = "index"

    index: str | None = None
    pages: int = 0
    lines: int = 0
    #: Failed pages: left out (``--allow-partial``), or the reason there is no index.
    missing: list[str] = []


class PdfResult(StageResult):
    """A volume's searchable PDF (layout-relative path), or ``None`` when it has none."""

    STAGE: ClassVar[str] = "pdf"

    pdf: str | None = None
    pages: int = 0
    #: Pages with a text layer (the others are images only).
    text_pages: int = 0
    size: int = 0
    #: Failed pages: left out (``--allow-partial``), or the reason there is no PDF.
    missing: list[str] = []


class ManifestResult(StageResult):
    """What the collection needs of a manifest, and what building it left out or changed."""

    STAGE: ClassVar[str] = "manifest"

    id: str = ""
    label: LangMap = {}
    canvases: int = 0
    #: The manifest's ``thumbnail`` as written (IIIF JSON).
    thumbnail: list[dict[str, JsonValue]] | None = None
    missing: list[str] = []
    warnings: list[str] = []
    #: The manifest declares search services (its volume has text).
    searchable: bool = False


class CollectionResult(StageResult):
    """The collection document's id and the volumes it lists."""

    STAGE: ClassVar[str] = "collection"

    id: str = ""
    volumes: list[str] = []


RESULT_TYPES: dict[str, type[StageResult]] = {
    cls.STAGE: cls
    for cls in (
        IngestResult,
        TilesResult,
        OcrResult,
        TranscriptionResult,
        AnnotationsResult,
        TextResult,
        IndexResult,
        PdfResult,
        ManifestResult,
        CollectionResult,
    )
}


def decode_result(stage: str, ok: bool, data: dict[str, JsonValue]) -> StageResult:
    """The typed result of a record's stored ``data``.

    Args:
        stage: The record's stage.
        ok: Whether the record is ``ok`` (anything else holds a :class:`Failure`).
        data: The stored data.

    Returns:
        The stage's result model (:class:`StageResult` itself for a stage it does not know).
    """
    kind = RESULT_TYPES.get(stage, StageResult) if ok else Failure
    return kind.model_validate(data)
