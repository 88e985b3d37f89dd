"""Canvases of a manifest: one page's tile and OCR records -> its IIIF canvas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iiif_prezi3 import Annotation, AnnotationPage, AnnotationPageRefExtended, Canvas

from pipeline.errors import ManifestError
from pipeline.iiif import parts as parts
from pipeline.iiif.models import Make
from pipeline.iiif.text import LangMap
from pipeline.layout import Layout
from pipeline.ocr.alto import ALTO3
from pipeline.ocr.chosen import shown_text
from pipeline.records import PageItem
from pipeline.results import AnnotationsResult, OcrResult, TilesResult, TranscriptionResult


@dataclass(frozen=True)
class CanvasParts:
    """Everything one canvas is made of: URLs from the layout, sizes from the tile record."""

    page: str
    canvas_id: str
    label: LangMap
    width: int
    height: int
    service_id: str
    painting_page_id: str
    painting_id: str
    image_url: str
    image_width: int
    image_height: int
    thumbnail: tuple[str, int, int] | None = None
    annotations: str | None = None
    #: The label of the annotation page reference: given for transcribed pages only.
    annotations_label: LangMap | None = None
    #: The OCR under a transcription, as a second annotation page, and its label.
    machine_annotations: tuple[str, LangMap] | None = None
    alto: str | None = None
    alto_profile: str = ALTO3
    hocr: str | None = None
    text: str | None = None


def canvas_parts(
    item: PageItem,
    tiles: TilesResult,
    ocr: OcrResult | None,
    annotations: AnnotationsResult | None,
    layout: Layout,
    transcription: TranscriptionResult | None = None,
) -> CanvasParts:
    """Collect a page's canvas from its tiles (and OCR) results.

    The tiles result gives the canvas size, the image service, the painted image (which may
    be capped) and the thumbnail; the OCR result gives the layout-relative paths of the
    ALTO, hOCR and text files and whether they are published (withheld text is not linked),
    the annotations result the page's AnnotationPage.

    Args:
        item: The page.
        tiles: Its tiles result.
        ocr: Its OCR result, or ``None`` to link no OCR output (``manifest.ocr_links`` off).
        annotations: Its annotations result, if any.
        layout: The output layout.
        transcription: Its transcription result, if any: when precedence chose it, its
            files are linked instead of the OCR's, and the annotation page reference is
            labelled with the layer's name.

    Returns:
        The canvas's parts.

    Raises:
        ManifestError: The tile result belongs to another base URL or lacks its size.

    """
    service_id = layout.image_service_id(item.volume, item.page)
    if tiles.service_id and tiles.service_id != service_id:
        raise ManifestError(
            f"{item.page}: the tiles were made for {tiles.service_id}, not {service_id}; "
            "run the tiles stage again"
        )
    if not tiles.width or not tiles.height:
        raise ManifestError(f"{item.page}: the tiles record has no image size")
    text = shown_text(ocr, transcription) if ocr is not None else None
    thumb = tiles.thumbnail
    linked = annotations.annotations if text is not None and annotations is not None else None
    transcribed = text is not None and text.transcribed
    machine = annotations.machine if annotations is not None and transcribed else None
    return CanvasParts(
        page=item.page,
        canvas_id=layout.canvas_id(item.volume, item.page),
        label=parts.text_map(item.label, f"page {item.page}: label")
        or {"none": [str(item.index + 1)]},
        width=tiles.width,
        height=tiles.height,
        service_id=service_id,
        painting_page_id=layout.painting_page_id(item.volume, item.page),
        painting_id=layout.painting_id(item.volume, item.page),
        image_url=layout.image_url(item.volume, item.page, tiles.full),
        image_width=tiles.full_width if tiles.full_width is not None else tiles.width,
        image_height=tiles.full_height if tiles.full_height is not None else tiles.height,
        thumbnail=(
            (layout.image_url(item.volume, item.page, thumb.path), thumb.width, thumb.height)
            if thumb
            else None
        ),
        annotations=layout.url_of(linked) if linked else None,
        annotations_label={"en": [text.label]} if text is not None and transcribed else None,
        machine_annotations=(
            (layout.url_of(machine), {"en": [text.machine.label]})
            if machine and text is not None and text.machine is not None
            else None
        ),
        alto=_url(layout, text.alto if text else None),
        alto_profile=(text.alto_profile if text else None) or ALTO3,
        hocr=_url(layout, text.hocr if text else None),
        text=_url(layout, text.txt if text else None),
    )


def _url(layout: Layout, rel: str | None) -> str | None:
    return layout.url_of(rel) if rel else None


def build_thumbnail(make: Make, c: CanvasParts) -> list[Any] | None:
    """Build a canvas's ``thumbnail``: a size the tile set lists, with its image service.

    Args:
        make: The factory (:func:`pipeline.iiif.models.plain` or ``validated``).
        c: The canvas's parts.

    Returns:
        The ``thumbnail`` list, or ``None`` when the tile set lists no thumbnail size.

    Raises:
        pydantic.ValidationError: With :func:`pipeline.iiif.models.validated` as ``make``,
            iiif-prezi3 refuses a value.

    """
    if c.thumbnail is None:
        return None
    url, width, height = c.thumbnail
    return [parts.image_resource(make, url, width, height, c.service_id)]


def build_canvas(make: Make, c: CanvasParts) -> Any:
    """Build one page: its image painted on the canvas, thumbnail and links to its OCR.

    Args:
        make: The factory (:func:`pipeline.iiif.models.plain` or ``validated``).
        c: The canvas's parts.

    Returns:
        The canvas.

    Raises:
        pydantic.ValidationError: With :func:`pipeline.iiif.models.validated` as ``make``,
            iiif-prezi3 refuses a value.

    """
    image = parts.image_resource(make, c.image_url, c.image_width, c.image_height, c.service_id)
    painting = make(
        Annotation, id=c.painting_id, motivation="painting", body=image, target=c.canvas_id
    )
    # A transcribed page's files are labelled as a transcription, not as OCR.
    own = "transcription_" if c.annotations_label else ""
    see_also = [
        parts.link(make, url, own + kind, "Dataset", fmt, profile)
        for url, kind, fmt, profile in (
            (c.alto, "alto", "application/xml", c.alto_profile),
            (c.hocr, "hocr", "text/html", parts.HOCR_PROFILE),
        )
        if url
    ]
    # A reference, not an embedded page: viewers fetch referenced pages, never empty ones.
    # Only a transcribed page labels it (the layer's name), so other canvases stay as they were.
    labelled = {"label": c.annotations_label} if c.annotations_label else {}
    annotations = (
        [make(AnnotationPageRefExtended, id=c.annotations, type="AnnotationPage", **labelled)]
        if c.annotations
        else []
    )
    if c.annotations and c.machine_annotations:
        url, label = c.machine_annotations
        annotations.append(
            make(AnnotationPageRefExtended, id=url, type="AnnotationPage", label=label)
        )
    rendering = (
        [parts.link(make, c.text, own + "page_text", "Text", "text/plain")] if c.text else None
    )
    return make(
        Canvas,
        id=c.canvas_id,
        label=c.label,
        width=c.width,
        height=c.height,
        thumbnail=build_thumbnail(make, c),
        seeAlso=see_also or None,
        rendering=rendering,
        items=[make(AnnotationPage, id=c.painting_page_id, items=[painting])],
        annotations=annotations or None,
    )
