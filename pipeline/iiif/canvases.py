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
from pipeline.records import PageInput


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
    alto: str | None = None
    alto_profile: str = ALTO3
    hocr: str | None = None
    text: str | None = None


def canvas_parts(page: PageInput, paths: Layout, *, ocr_links: bool) -> CanvasParts:
    """Collect a page's canvas from its tiles (and OCR) records.

    The tiles record gives ``width``, ``height`` (the canvas), ``service_id``, ``full`` with
    ``full_width``/``full_height`` (the painted image, which may be capped) and
    ``thumbnail``; the OCR record gives layout-relative ``annotations``, ``alto``, ``hocr``
    and ``txt`` paths, ``alto_profile`` and ``published`` (withheld text is not linked).

    Args:
        page: The page and its upstream records.
        paths: The output layout.
        ocr_links: Whether to link the OCR outputs (``manifest.ocr_links``).

    Returns:
        The canvas's parts.

    Raises:
        ManifestError: The tile record belongs to another base URL or lacks its size.

    """
    item = page.item
    tiles = page.upstream["tiles"]
    service_id = paths.image_service_id(item.volume, item.page)
    if tiles.get("service_id", service_id) != service_id:
        raise ManifestError(
            f"{item.page}: the tiles were made for {tiles['service_id']}, not {service_id}; "
            "run the tiles stage again"
        )
    try:
        width, height = int(tiles["width"]), int(tiles["height"])
    except (KeyError, TypeError, ValueError):
        raise ManifestError(f"{item.page}: the tiles record has no image size") from None
    thumb = tiles.get("thumbnail")
    ocr = page.upstream.get("ocr", {}) if ocr_links else {}
    if ocr.get("published") is False:
        ocr = {}

    def ocr_url(key: str) -> str | None:
        rel = ocr.get(key)
        return paths.url_of(rel) if rel else None

    return CanvasParts(
        page=item.page,
        canvas_id=paths.canvas_id(item.volume, item.page),
        label=parts.text_map(item.label, f"page {item.page}: label")
        or {"none": [str(item.index + 1)]},
        width=width,
        height=height,
        service_id=service_id,
        painting_page_id=paths.painting_page_id(item.volume, item.page),
        painting_id=paths.painting_id(item.volume, item.page),
        image_url=paths.image_url(
            item.volume, item.page, tiles.get("full", "full/max/0/default.jpg")
        ),
        image_width=int(tiles.get("full_width", width)),
        image_height=int(tiles.get("full_height", height)),
        thumbnail=(
            (
                paths.image_url(item.volume, item.page, thumb["path"]),
                int(thumb["width"]),
                int(thumb["height"]),
            )
            if thumb
            else None
        ),
        annotations=(
            paths.url_of(page.upstream["annotations"]["annotations"])
            if ocr and page.upstream.get("annotations", {}).get("annotations")
            else None
        ),
        alto=ocr_url("alto"),
        alto_profile=ocr.get("alto_profile") or ALTO3,
        hocr=ocr_url("hocr"),
        text=ocr_url("txt"),
    )


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
    see_also = [
        parts.link(make, url, kind, "Dataset", fmt, profile)
        for url, kind, fmt, profile in (
            (c.alto, "alto", "application/xml", c.alto_profile),
            (c.hocr, "hocr", "text/html", parts.HOCR_PROFILE),
        )
        if url
    ]
    # A reference, not an embedded page: viewers fetch referenced pages, never empty ones.
    annotations = (
        [make(AnnotationPageRefExtended, id=c.annotations, type="AnnotationPage")]
        if c.annotations
        else None
    )
    rendering = [parts.link(make, c.text, "page_text", "Text", "text/plain")] if c.text else None
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
        annotations=annotations,
    )
