"""Manifest: the page records of a volume -> a IIIF Presentation 3 manifest via iiif-prezi3."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iiif_prezi3 import (
    Annotation,
    AnnotationPage,
    AnnotationPageRefExtended,
    Canvas,
    CanvasRef,
    LinkedResource,
    Manifest,
    Range,
)
from pydantic import BaseModel, ConfigDict

from pipeline import iiif_parts as parts
from pipeline.alto import ALTO3
from pipeline.config import CollectionConfig, Config, ManifestConfig
from pipeline.errors import ManifestError
from pipeline.fsio import write_text_atomic
from pipeline.iiif_models import (
    Assembler,
    Make,
    gc_paused,
    manifest_errors,
    to_data,
    validated,
)
from pipeline.iiif_text import LangMap, first_text
from pipeline.iiifjson import dump_json
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord, VolumeInput
from pipeline.volumes import CATALOGUE_FIELDS, DESCRIPTOR

log = logging.getLogger(__name__)

NAME = "manifest"
SCOPE = "volume"
VERSION = 2
REQUIRES: tuple[str, ...] = ("ingest", "tiles")
# "text" is a volume stage: its record arrives in VolumeInput.upstream.
USES: tuple[str, ...] = ("ocr", "text")


class ManifestSettings(BaseModel):
    """What a manifest depends on."""

    model_config = ConfigDict(frozen=True)

    manifest: ManifestConfig
    collection: CollectionConfig
    base_url: str


def settings(cfg: Config) -> ManifestSettings:
    """Manifest options, collection-wide statements and the base URL."""
    return ManifestSettings(
        manifest=cfg.manifest, collection=cfg.collection, base_url=cfg.site.base_url
    )


def preflight(settings: ManifestSettings) -> dict[str, str]:
    """Nothing external is needed."""
    return {}


# -- canvases ----------------------------------------------------------------------------------
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
        annotations=ocr_url("annotations"),
        alto=ocr_url("alto"),
        alto_profile=ocr.get("alto_profile") or ALTO3,
        hocr=ocr_url("hocr"),
        text=ocr_url("txt"),
    )


def build_thumbnail(make: Make, c: CanvasParts) -> list[Any] | None:
    """Build a canvas's ``thumbnail``: a size the tile set lists, with its image service."""
    if c.thumbnail is None:
        return None
    url, width, height = c.thumbnail
    return [parts.image_resource(make, url, width, height, c.service_id)]


def build_canvas(make: Make, c: CanvasParts) -> Any:
    """Build one page: its image painted on the canvas, thumbnail and links to its OCR."""
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


# -- ranges ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RangeParts:
    """A range: its id, label and items (canvas ids and nested ranges) in page order."""

    id: str
    label: LangMap
    items: tuple[str | RangeParts, ...]


def range_parts(
    entries: Sequence[dict[str, Any]],
    order: Sequence[str],
    present: dict[str, int],
    volume: str,
    paths: Layout,
    prefix: str = "",
) -> list[RangeParts]:
    """Turn descriptor ranges into ranges over the canvases present, in page order.

    Canvases covered by a nested range sit inside it; the rest of a range's span is listed
    directly, each item at its page position. Ranges left empty (all their pages failed, in a
    partial manifest) are dropped.

    Args:
        entries: The descriptor's ``ranges`` (first/last page ids, label, nested ``ranges``).
        order: Every page id of the volume, in order (descriptor ranges are checked against it).
        present: Page id -> canvas position, for the pages that have a canvas.
        volume: The volume id.
        paths: The output layout.
        prefix: Dotted position of the parent range.

    Returns:
        The ranges.

    """
    return [r for r, _, _ in _ranges(entries, order, present, volume, paths, prefix)]


def _ranges(
    entries: Sequence[dict[str, Any]],
    order: Sequence[str],
    present: dict[str, int],
    volume: str,
    paths: Layout,
    prefix: str,
) -> list[tuple[RangeParts, int, set[str]]]:
    """Build ranges with the canvas position they start at and the pages they cover."""
    out: list[tuple[RangeParts, int, set[str]]] = []
    for n, entry in enumerate(entries, start=1):
        number = f"{prefix}{n}"
        positioned: list[tuple[int, str | RangeParts]] = []
        covered: set[str] = set()
        nested = _ranges(entry.get("ranges", []), order, present, volume, paths, f"{number}.")
        for child, start, pages in nested:
            positioned.append((start, child))
            covered |= pages
        if entry.get("first") is not None:
            span = order[order.index(entry["first"]) : order.index(entry["last"]) + 1]
            for page in span:
                if page in present and page not in covered:
                    positioned.append((present[page], paths.canvas_id(volume, page)))
                    covered.add(page)
        if not positioned:
            continue
        positioned.sort(key=lambda p: p[0])
        label = parts.text_map(entry["label"], f"ranges[{number}].label") or {"none": [number]}
        items = tuple(i for _, i in positioned)
        out.append(
            (RangeParts(paths.range_id(volume, number), label, items), positioned[0][0], covered)
        )
    return out


def build_range(make: Make, r: RangeParts) -> Any:
    """Build a range of the manifest's ``structures``."""
    items = [
        build_range(make, i) if isinstance(i, RangeParts) else make(CanvasRef, id=i, type="Canvas")
        for i in r.items
    ]
    return make(Range, id=r.id, label=r.label, items=items)


# -- the manifest ------------------------------------------------------------------------------
def _metadata(desc: dict[str, Any]) -> list[Any]:
    """Return the catalogue fields, then the free-form entries, of a descriptor.

    Raises:
        ManifestError: A free-form entry is blank, or sanitising leaves nothing of a string.

    """
    fields = (
        parts.catalogue_entry(name, desc[name], f"{DESCRIPTOR}: {name}")
        for name in CATALOGUE_FIELDS
        if desc.get(name)
    )
    entries = [e for e in fields if e is not None]
    for n, m in enumerate(desc.get("metadata", []), start=1):
        entries.append(parts.label_value(m["label"], m["value"], f"{DESCRIPTOR}: metadata[{n}]"))
    return entries


def _renderings(make: Make, upstream: dict[str, dict[str, Any]], paths: Layout) -> list[Any]:
    """Return the volume's own renderings: the plain text of the text stage, when it ran."""
    text = upstream.get("text", {}).get("text")
    return [parts.link(make, paths.url_of(text), "text", "Text", "text/plain")] if text else []


def _shell(
    inp: VolumeInput,
    settings: ManifestSettings,
    paths: Layout,
    start: CanvasParts | None,
    thumb: CanvasParts | None,
) -> Manifest:
    """Build everything but the canvases and ranges, validated by iiif-prezi3."""
    desc = inp.descriptor
    coll = settings.collection
    label = parts.text_map(desc.get("label") or desc.get("title") or {}, "label")
    label = label or {"none": [inp.volume]}
    summary = desc.get("summary")
    if summary:
        summary = parts.statement_map(summary, f"{DESCRIPTOR}: summary", html_allowed=True)
    if desc.get("required_statement"):
        statement = parts.required_statement(
            desc["required_statement"], f"{DESCRIPTOR}: required_statement"
        )
    else:
        statement = parts.required_statement(
            coll.required_statement, "collection.required_statement"
        )
    links = [
        LinkedResource(
            id=s["id"],
            type="Dataset",
            format=s.get("format"),
            profile=s.get("profile"),
            label=parts.text_map(s["label"], "see_also.label") if s.get("label") else None,
        )
        for s in desc.get("see_also", [])
    ]
    ocr_up = inp.upstream if settings.manifest.ocr_links else {}
    return Manifest(
        id=paths.manifest_id(inp.volume),
        label=label,
        summary=summary or None,
        metadata=_metadata(desc) or None,
        requiredStatement=statement,
        rights=desc.get("rights") or coll.rights,
        provider=[parts.provider(coll.provider)] if coll.provider else None,
        homepage=[parts.homepage(desc["homepage"], label)] if desc.get("homepage") else None,
        navDate=parts.nav_date(desc.get("nav_date")),
        partOf=[parts.collection_link(coll.label, paths.collection_id(coll.id))],
        behavior=desc.get("behavior") or settings.manifest.behavior,
        viewingDirection=desc.get("viewing_direction", "left-to-right"),
        start=to_data(CanvasRef(id=start.canvas_id, type="Canvas")) if start else None,
        thumbnail=build_thumbnail(validated, thumb) if thumb else None,
        seeAlso=links or None,
        rendering=_renderings(validated, ocr_up, paths) or None,
        items=[],
    )


def build_manifest(
    inp: VolumeInput, settings: ManifestSettings, paths: Layout
) -> tuple[dict[str, Any], Assembler]:
    """Build the manifest of a volume as JSON-ready data.

    Returns:
        The manifest and the assembler (which counts the shapes it validated).

    Raises:
        ManifestError: No page has tiles, a record is inconsistent, or iiif-prezi3 refuses a
            value.

    """
    assembler = Assembler()
    with manifest_errors(), gc_paused():
        return _build(inp, settings, paths, assembler), assembler


def _build(
    inp: VolumeInput, settings: ManifestSettings, paths: Layout, assembler: Assembler
) -> dict[str, Any]:
    pages = [p for p in inp.pages if "tiles" in p.upstream]
    if not pages:
        raise ManifestError("no page of this volume has tiles")
    canvases = [canvas_parts(p, paths, ocr_links=settings.manifest.ocr_links) for p in pages]
    by_page = {c.page: c for c in canvases}
    desc = inp.descriptor
    start = by_page.get(desc.get("start", ""))
    thumb = by_page.get(desc.get("thumbnail", "")) or start or canvases[0]
    if thumb.thumbnail is None:
        thumb = next((c for c in canvases if c.thumbnail), thumb)
    data = to_data(_shell(inp, settings, paths, start, thumb), context=True)
    data["items"] = [assembler.build(build_canvas, c, f"canvas {c.page}") for c in canvases]
    if desc.get("ranges"):
        order = list(inp.order) or [p.item.page for p in inp.pages]
        present = {c.page: i for i, c in enumerate(canvases)}
        ranges = range_parts(desc["ranges"], order, present, inp.volume, paths)
        structures = [assembler.build(build_range, r, f"range {r.id}") for r in ranges]
        if structures:
            data["structures"] = structures
    return data


def run(inp: VolumeInput, settings: ManifestSettings, paths: Layout) -> StageRecord:
    """Build and write the volume's manifest.

    Raises:
        ManifestError: The volume has failed pages (and partial manifests are off), no page
            has tiles, or a value is refused.

    """
    if inp.missing and not settings.manifest.allow_partial:
        shown = ", ".join(inp.missing[:10]) + (", ..." if len(inp.missing) > 10 else "")
        raise ManifestError(
            f"{len(inp.missing)} page(s) failed ({shown}); fix them, or pass --allow-partial "
            "to build a manifest without them"
        )
    data, assembler = build_manifest(inp, settings, paths)
    path = paths.manifest_path(inp.volume)
    digest = write_text_atomic(path, dump_json(data))
    if inp.missing:
        log.warning(
            "%s: manifest built without %d failed page(s): %s",
            inp.volume,
            len(inp.missing),
            ", ".join(inp.missing),
        )
    log.debug(
        "%s: %d canvases, %d shapes validated by iiif-prezi3, label %r",
        inp.volume,
        len(data["items"]),
        assembler.validated,
        first_text(data["label"]),
    )
    record: dict[str, Any] = {
        "id": data["id"],
        "label": data["label"],
        "canvases": len(data["items"]),
        "thumbnail": data.get("thumbnail"),
    }
    if inp.missing:
        record["missing"] = list(inp.missing)
    return StageRecord(
        stage=NAME,
        volume=inp.volume,
        page="",
        status="ok",
        outputs={paths.rel(path): digest},
        data=record,
    )
