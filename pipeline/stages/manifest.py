"""Manifest: the page records of a volume -> a IIIF Presentation 3 manifest via iiif-prezi3."""

from __future__ import annotations

import logging
from typing import Any

from iiif_prezi3 import CanvasRef, LinkedResource, Manifest
from pydantic import BaseModel, ConfigDict

from pipeline.config import CollectionConfig, Config, ManifestConfig
from pipeline.errors import ManifestError
from pipeline.fsio import write_text_atomic
from pipeline.iiif import parts as parts
from pipeline.iiif.canvases import CanvasParts, build_canvas, build_thumbnail, canvas_parts
from pipeline.iiif.jsonio import dump_json
from pipeline.iiif.models import (
    Assembler,
    Make,
    gc_paused,
    manifest_errors,
    to_data,
    validated,
)
from pipeline.iiif.ranges import build_range, range_parts
from pipeline.iiif.services import search_services
from pipeline.iiif.text import LangMap, first_text, markup_warnings
from pipeline.input.descriptor import CATALOGUE_FIELDS, DESCRIPTOR, Descriptor, RangeEntry
from pipeline.layout import Layout
from pipeline.layout.search import SearchUrls
from pipeline.records import StageRecord
from pipeline.results import ManifestResult, PdfResult, TextResult
from pipeline.siteurl import search_urls
from pipeline.stages.spec import StageSpec, VolumeInput

log = logging.getLogger(__name__)

NAME = "manifest"


class ManifestSettings(BaseModel):
    """What a manifest depends on."""

    model_config = ConfigDict(frozen=True)

    manifest: ManifestConfig
    collection: CollectionConfig
    base_url: str
    search_url: str


def settings(cfg: Config) -> ManifestSettings:
    """Return what a manifest depends on (hashed into the stage's fingerprint).

    Args:
        cfg: The job's configuration.

    Returns:
        Manifest options, collection-wide statements, the base URL and the search URL.

    """
    return ManifestSettings(
        manifest=cfg.manifest,
        collection=cfg.collection,
        base_url=cfg.site.base_url,
        search_url=search_urls(cfg).base,
    )


# -- the manifest ------------------------------------------------------------------------------
def _metadata(desc: Descriptor) -> list[Any]:
    """Return the catalogue fields, then the free-form entries, of a descriptor.

    Raises:
        ManifestError: A free-form entry is blank, or sanitising leaves nothing of a string.

    """
    catalogue = desc.model_dump(include=set(CATALOGUE_FIELDS))
    fields = (
        parts.catalogue_entry(name, catalogue[name], f"{DESCRIPTOR}: {name}")
        for name in CATALOGUE_FIELDS
        if catalogue[name]
    )
    entries = [e for e in fields if e is not None]
    for n, m in enumerate(desc.metadata, start=1):
        entries.append(parts.label_value(m.label, m.value, f"{DESCRIPTOR}: metadata[{n}]"))
    return entries


def _range_warnings(ranges: list[RangeEntry], where: str = "") -> list[str]:
    out: list[str] = []
    for n, entry in enumerate(ranges, start=1):
        here = f"{where}{n}"
        out += markup_warnings(entry.label, f"{DESCRIPTOR}: ranges[{here}].label")
        out += _range_warnings(entry.ranges, f"{here}.")
    return out


def _label_key(desc: Descriptor) -> tuple[str, LangMap]:
    """The descriptor key the manifest's label comes from (``label``, else ``title``)."""
    return ("label", desc.label) if desc.label else ("title", desc.title or {})


def label_warnings(inp: VolumeInput) -> list[str]:
    """Say which plain-text label of the volume lost what when its markup was removed.

    Args:
        inp: The volume: its descriptor and pages.

    Returns:
        One line per string that lost markup, naming the descriptor key and language.

    """
    desc = inp.descriptor
    key, label = _label_key(desc)
    out = markup_warnings(label, f"{DESCRIPTOR}: {key}")
    if desc.homepage is not None and desc.homepage.label:
        out += markup_warnings(desc.homepage.label, f"{DESCRIPTOR}: homepage.label")
    for n, link in enumerate(desc.see_also, start=1):
        out += markup_warnings(link.label or {}, f"{DESCRIPTOR}: see_also[{n}].label")
    for n, entry in enumerate(desc.metadata, start=1):
        out += markup_warnings(entry.label, f"{DESCRIPTOR}: metadata[{n}].label")
    out += _range_warnings(desc.ranges)
    for page in inp.pages:
        where = f"{DESCRIPTOR}: pages: {page.item.page}: label"
        out += markup_warnings(page.item.label, where)
    return out


def _renderings(
    make: Make, text: TextResult | None, pdf: PdfResult | None, layout: Layout
) -> list[Any]:
    """Return the volume's own renderings: its plain text and its PDF, when they were built."""
    out = []
    if text is not None and text.text:
        kind = "transcribed_text" if text.transcribed else "text"
        out.append(parts.link(make, layout.url_of(text.text), kind, "Text", "text/plain"))
    if pdf is not None and pdf.pdf:
        out.append(parts.link(make, layout.url_of(pdf.pdf), "pdf", "Text", "application/pdf"))
    return out


def _services(inp: VolumeInput, settings: ManifestSettings) -> list[Any]:
    """Return the volume's search services (Search 1.0 and 2.0) when it has text, else none."""
    index = inp.upstream.index
    if index is None or not index.index:
        return []
    urls = SearchUrls(settings.search_url)
    return search_services(
        search1=urls.url("search", 1, inp.volume),
        autocomplete1=urls.url("autocomplete", 1, inp.volume),
        search2=urls.url("search", 2, inp.volume),
        autocomplete2=urls.url("autocomplete", 2, inp.volume),
    )


def _shell(
    inp: VolumeInput,
    settings: ManifestSettings,
    layout: Layout,
    start: CanvasParts | None,
    thumb: CanvasParts | None,
) -> Manifest:
    """Build everything but the canvases and ranges, validated by iiif-prezi3."""
    desc = inp.descriptor
    coll = settings.collection
    key, text = _label_key(desc)
    label = parts.text_map(text, f"{DESCRIPTOR}: {key}") or {"none": [inp.volume]}
    summary = desc.summary
    if summary:
        summary = parts.statement_map(summary, f"{DESCRIPTOR}: summary", html_allowed=True)
    if desc.required_statement:
        statement = parts.required_statement(
            desc.required_statement, f"{DESCRIPTOR}: required_statement"
        )
    else:
        statement = parts.required_statement(
            coll.required_statement, "collection.required_statement"
        )
    links = [
        LinkedResource(
            id=s.id,
            type="Dataset",
            format=s.format,
            profile=s.profile,
            label=parts.text_map(s.label, f"{DESCRIPTOR}: see_also[{n}].label")
            if s.label
            else None,
        )
        for n, s in enumerate(desc.see_also, start=1)
    ]
    text_result = inp.upstream.text if settings.manifest.ocr_links else None
    return Manifest(
        id=layout.manifest_id(inp.volume),
        label=label,
        summary=summary or None,
        metadata=_metadata(desc) or None,
        requiredStatement=statement,
        rights=desc.rights or coll.rights,
        provider=[parts.provider(coll.provider)] if coll.provider else None,
        homepage=[parts.homepage(desc.homepage, label)] if desc.homepage else None,
        navDate=parts.nav_date(desc.nav_date),
        partOf=[parts.collection_link(coll.label, layout.collection_id(coll.id))],
        behavior=desc.behavior or settings.manifest.behavior,
        viewingDirection=desc.viewing_direction,
        start=to_data(CanvasRef(id=start.canvas_id, type="Canvas")) if start else None,
        thumbnail=build_thumbnail(validated, thumb) if thumb else None,
        seeAlso=links or None,
        rendering=_renderings(validated, text_result, inp.upstream.pdf, layout) or None,
        service=_services(inp, settings) or None,
        items=[],
    )


def build_manifest(
    inp: VolumeInput, settings: ManifestSettings, layout: Layout
) -> tuple[dict[str, Any], Assembler]:
    """Build the manifest of a volume as JSON-ready data.

    Args:
        inp: The volume: descriptor, page records, page order and other volume stages' records.
        settings: The stage's settings.
        layout: The output layout (every id and URL).

    Returns:
        The manifest and the assembler (which counts the shapes it validated).

    Raises:
        ManifestError: No page has tiles, a record is inconsistent, a statement has text that
            sanitising would remove, or iiif-prezi3 refuses a value.

    """
    assembler = Assembler()
    with manifest_errors(), gc_paused():
        return _build(inp, settings, layout, assembler), assembler


def _canvases(inp: VolumeInput, layout: Layout, *, ocr_links: bool) -> list[CanvasParts]:
    """The parts of a canvas for every page that has tiles."""
    return [
        canvas_parts(
            p.item,
            p.upstream.tiles,
            p.upstream.ocr if ocr_links else None,
            p.upstream.annotations,
            layout,
            p.upstream.transcription if ocr_links else None,
        )
        for p in inp.pages
        if p.upstream.tiles is not None
    ]


def _build(
    inp: VolumeInput, settings: ManifestSettings, layout: Layout, assembler: Assembler
) -> dict[str, Any]:
    canvases = _canvases(inp, layout, ocr_links=settings.manifest.ocr_links)
    if not canvases:
        raise ManifestError("no page of this volume has tiles")
    by_page = {c.page: c for c in canvases}
    desc = inp.descriptor
    start = by_page.get(desc.start or "")
    thumb = by_page.get(desc.thumbnail or "") or start or canvases[0]
    if thumb.thumbnail is None:
        thumb = next((c for c in canvases if c.thumbnail), thumb)
    data = to_data(_shell(inp, settings, layout, start, thumb), context=True)
    data["items"] = [assembler.build(build_canvas, c, f"canvas {c.page}") for c in canvases]
    if desc.ranges:
        order = list(inp.order) or [p.item.page for p in inp.pages]
        present = {c.page: i for i, c in enumerate(canvases)}
        entries = [r.model_dump(mode="json", exclude_none=True) for r in desc.ranges]
        ranges = range_parts(entries, order, present, inp.volume, layout)
        structures = [assembler.build(build_range, r, f"range {r.id}") for r in ranges]
        if structures:
            data["structures"] = structures
    return data


def run(inp: VolumeInput, settings: ManifestSettings, layout: Layout) -> StageRecord:
    """Build and write the volume's manifest.

    Args:
        inp: The volume: descriptor, page records, page order and other volume stages' records.
        settings: The stage's settings.
        layout: The output layout.

    Returns:
        The record: the manifest file and, for the collection stage, its id, label, number of
        canvases, thumbnail and any pages left out; and what removing markup took from labels
        (``warnings``, also logged, and shown in the volume's report).

    Raises:
        ManifestError: The volume has failed pages (and partial manifests are off), no page
            has tiles, a statement has text that sanitising would remove, or a value is
            refused.

    """
    if inp.missing and not settings.manifest.allow_partial:
        shown = ", ".join(inp.missing[:10]) + (", ..." if len(inp.missing) > 10 else "")
        raise ManifestError(
            f"{len(inp.missing)} page(s) failed ({shown}); fix them, or pass --allow-partial "
            "to build a manifest without them"
        )
    data, assembler = build_manifest(inp, settings, layout)
    path = layout.manifest_path(inp.volume)
    digest = write_text_atomic(path, dump_json(data))
    warnings = label_warnings(inp)
    for line in warnings:
        log.warning("%s: %s", inp.volume, line)
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
    result = ManifestResult(
        id=data["id"],
        label=data["label"],
        canvases=len(data["items"]),
        thumbnail=data.get("thumbnail"),
        searchable="service" in data,
    )
    # Written only when there is something to say (as earlier versions did).
    if inp.missing:
        result = result.model_copy(update={"missing": list(inp.missing)})
    if warnings:
        result = result.model_copy(update={"warnings": warnings})
    return StageRecord.done(NAME, inp.volume, "", result, outputs={layout.rel(path): digest})


SPEC = StageSpec(
    name=NAME,
    scope="volume",
    # 3: labels keep bracketed text (<draft>) and record what markup removal took;
    # 4: a volume with text declares its search services
    version=4,
    inputs=VolumeInput,
    settings_type=ManifestSettings,
    settings_for=settings,
    work=run,
    requires=("ingest", "tiles"),
    # "text", "index" and "pdf" are volume stages: their results arrive in VolumeInput.upstream.
    uses=("ocr", "transcription", "annotations", "text", "index", "pdf"),
    writes_urls=True,
)
