"""Manifest: the page records of a volume -> a IIIF Presentation 3 manifest via iiif-prezi3."""

from __future__ import annotations

import json
import logging
from typing import Any

from iiif_prezi3 import (
    Annotation,
    AnnotationBody,
    AnnotationPage,
    Canvas,
    CanvasRef,
    KeyValueString,
    Manifest,
    Range,
    ServiceV3,
)
from pydantic import BaseModel, ConfigDict

from pipeline.config import CollectionConfig, Config, ManifestConfig
from pipeline.errors import ManifestError
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord, VolumeInput

log = logging.getLogger(__name__)

NAME = "manifest"
SCOPE = "volume"
VERSION = 1
REQUIRES: tuple[str, ...] = ("ingest", "tiles")
USES: tuple[str, ...] = ("ocr",)


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


def dump_json(data: dict[str, Any]) -> str:
    """Stable serialisation: sorted keys, indent 2, trailing newline."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _canvas(page: PageInput, paths: Layout) -> Canvas:
    item = page.item
    tiles = page.upstream["tiles"]
    width, height = int(tiles["width"]), int(tiles["height"])
    canvas_id = paths.canvas_id(item.volume, item.page)
    service_id = paths.image_service_id(item.volume, item.page)
    body = AnnotationBody(
        id=f"{service_id}/{tiles['full']}",
        type="Image",
        format="image/jpeg",
        width=width,
        height=height,
        service=[ServiceV3(id=service_id, type="ImageService3", profile="level0")],
    )
    painting = Annotation(
        id=f"{canvas_id}/painting", motivation="painting", body=body, target=canvas_id
    )
    return Canvas(
        id=canvas_id,
        label=item.label,
        width=width,
        height=height,
        items=[AnnotationPage(id=f"{canvas_id}/page", items=[painting])],
    )


def _ranges(
    entries: list[dict[str, Any]], order: list[str], volume: str, paths: Layout, prefix: str = ""
) -> list[Range]:
    ranges = []
    for n, entry in enumerate(entries, start=1):
        number = f"{prefix}{n}"
        items: list[Any] = []
        if entry.get("first") is not None:
            first, last = order.index(entry["first"]), order.index(entry["last"])
            if last < first:
                raise ManifestError(
                    f"range {number}: last page {entry['last']!r} comes before {entry['first']!r}"
                )
            items += [
                CanvasRef(id=paths.canvas_id(volume, p), type="Canvas")
                for p in order[first : last + 1]
            ]
        items += _ranges(entry.get("ranges", []), order, volume, paths, f"{number}.")
        ranges.append(Range(id=paths.range_id(volume, number), label=entry["label"], items=items))
    return ranges


def run(inp: VolumeInput, settings: ManifestSettings, paths: Layout) -> StageRecord:
    """Build and write the volume's manifest.

    Raises:
        ManifestError: The volume has failed pages (and partial manifests are off) or a range
            is inconsistent.
    """
    if inp.missing and not settings.manifest.allow_partial:
        raise ManifestError(
            f"{len(inp.missing)} page(s) failed ({', '.join(inp.missing[:5])}); fix them or "
            "pass --allow-partial"
        )
    desc = inp.descriptor
    coll = settings.collection
    present = [p for p in inp.pages if "tiles" in p.upstream]
    if not present:
        raise ManifestError("no page of this volume has tiles")
    manifest = Manifest(
        id=paths.manifest_id(inp.volume),
        label=desc.get("label") or {"none": [inp.volume]},
        behavior=settings.manifest.behavior,
        viewingDirection=desc.get("viewing_direction", "left-to-right"),
    )
    if desc.get("summary"):
        manifest.summary = desc["summary"]
    if desc.get("metadata"):
        manifest.metadata = [KeyValueString(**m) for m in desc["metadata"]]
    if coll.rights:
        manifest.rights = coll.rights
    if coll.required_statement:
        manifest.requiredStatement = KeyValueString(**coll.required_statement.model_dump())
    # Build the list once and assign it: appending canvas by canvas revalidates the whole list.
    manifest.items = [_canvas(p, paths) for p in present]
    if desc.get("ranges"):
        order = [p.item.page for p in present]
        manifest.structures = _ranges(desc["ranges"], order, inp.volume, paths)
    data = json.loads(manifest.jsonld())
    path = paths.manifest_path(inp.volume)
    digest = write_text_atomic(path, dump_json(data))
    return StageRecord(
        stage=NAME,
        volume=inp.volume,
        page="",
        status="ok",
        outputs={paths.rel(path): digest},
        data={"id": data["id"], "label": data["label"], "canvases": len(present)},
    )
