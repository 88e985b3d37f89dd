"""Collection: the volumes' manifests -> one IIIF Presentation 3 Collection."""

from __future__ import annotations

import json
import logging

from iiif_prezi3 import Collection, ManifestRef
from pydantic import BaseModel, ConfigDict

from pipeline.config import CollectionConfig, Config
from pipeline.errors import ManifestError
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.records import CollectionInput, StageRecord
from pipeline.stages.manifest import dump_json

log = logging.getLogger(__name__)

NAME = "collection"
SCOPE = "collection"
VERSION = 1
REQUIRES: tuple[str, ...] = ("manifest",)
USES: tuple[str, ...] = ()


class CollectionSettings(BaseModel):
    """What the collection document depends on."""

    model_config = ConfigDict(frozen=True)

    collection: CollectionConfig
    base_url: str


def settings(cfg: Config) -> CollectionSettings:
    """The collection section and the base URL."""
    return CollectionSettings(collection=cfg.collection, base_url=cfg.site.base_url)


def preflight(settings: CollectionSettings) -> dict[str, str]:
    """Nothing external is needed."""
    return {}


def run(inp: CollectionInput, settings: CollectionSettings, paths: Layout) -> StageRecord:
    """Write the collection listing every volume whose manifest is ok, in volume order.

    Raises:
        ManifestError: No volume has a manifest.
    """
    coll = settings.collection
    if not inp.volumes:
        raise ManifestError("no volume has a manifest yet")
    path = paths.collection_path(coll.id)
    collection = Collection(id=paths.url(path), label=coll.label)
    if coll.summary:
        collection.summary = coll.summary
    if coll.rights:
        collection.rights = coll.rights
    collection.items = [
        ManifestRef(id=data["id"], type="Manifest", label=data["label"]) for _, data in inp.volumes
    ]
    data = json.loads(collection.jsonld())
    digest = write_text_atomic(path, dump_json(data))
    return StageRecord(
        stage=NAME,
        volume="",
        page="",
        status="ok",
        outputs={paths.rel(path): digest},
        data={"id": data["id"], "volumes": [v for v, _ in inp.volumes]},
    )
