"""The collection-level objects: the collection document and the search page, outside any volume."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.archive.fixity import RecordedFile, recorded_derivatives
from pipeline.config import Config
from pipeline.layout import Layout
from pipeline.publish.plan import LocalObject, local_object
from pipeline.state import StateStore

# The ledger's volume of the collection-level objects; never a volume prefix (that would be
# the whole target).
COLLECTION_SCOPE = ""


@dataclass(frozen=True)
class TopLevel:
    """What a publish does with the objects beside the volumes.

    Attributes:
        objects: The files to publish: the collection document, then the search page when
            the ok collection record lists it.
        recorded: Their recorded checksums, by layout-relative path.
        current: The keys that belong on the target: the configured collection's key always
            (a failed build does not withdraw it), the search page's only while the output
            folder has one (no volume with text: it is pruned).
    """

    objects: list[LocalObject]
    recorded: dict[str, RecordedFile]
    current: frozenset[str]


def top_level(cfg: Config, layout: Layout, state: StateStore, prefix: str) -> TopLevel:
    """List the collection-level objects of the output folder as one publish sees them.

    Args:
        cfg: The job's configuration (collection id, Cache-Control policy).
        layout: The output layout.
        state: The state store (the collection record).
        prefix: The target's key prefix.

    Returns:
        The objects to publish, their recorded checksums and the keys that belong.

    """
    collection = layout.collection_path(cfg.collection.id)
    page = layout.search_page_path
    current = {layout.object_key(prefix, collection)}
    if page.is_file():
        current.add(layout.object_key(prefix, page))
    rec = state.get(COLLECTION_SCOPE, "", "collection")
    if rec is None or rec.status != "ok" or not collection.is_file():
        return TopLevel([], {}, frozenset(current))
    wanted = [layout.rel(collection)] + [
        rel for rel in [layout.rel(page)] if rel in rec.outputs and page.is_file()
    ]
    policy = cfg.publish.cache_control
    objects = [local_object(layout, prefix, rel, COLLECTION_SCOPE, policy) for rel in wanted]
    recorded = {r: c for r, c in recorded_derivatives([rec], layout).items() if r in wanted}
    return TopLevel(objects, recorded, frozenset(current))
