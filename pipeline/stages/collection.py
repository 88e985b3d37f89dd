"""Collection: the volumes' manifests -> one IIIF Presentation 3 Collection."""

from __future__ import annotations

import logging
from typing import Any

from iiif_prezi3 import AnnotationBody, Collection, ManifestRef
from pydantic import BaseModel, ConfigDict

from pipeline.config import CollectionConfig, Config
from pipeline.errors import ManifestError
from pipeline.fsio import write_text_atomic
from pipeline.iiif import parts as parts
from pipeline.iiif.jsonio import dump_json
from pipeline.iiif.models import manifest_errors, to_data
from pipeline.iiif.services import search2_service
from pipeline.layout import Layout
from pipeline.layout.search import SearchUrls
from pipeline.records import StageRecord
from pipeline.results import CollectionResult, ManifestResult
from pipeline.search.page import MIRADOR_CDN, search_page
from pipeline.siteurl import search_urls
from pipeline.stages.spec import CollectionInput, StageSpec

log = logging.getLogger(__name__)

NAME = "collection"


class CollectionSettings(BaseModel):
    """What the collection document depends on."""

    model_config = ConfigDict(frozen=True)

    collection: CollectionConfig
    base_url: str
    search_url: str
    mirador_js: str


def settings(cfg: Config) -> CollectionSettings:
    """Return what the collection depends on (hashed into the stage's fingerprint).

    Args:
        cfg: The job's configuration.

    Returns:
        The collection section, the base URL, the search URL and where the search page loads
        Mirador from (``serve.mirador_url``, else the npm release from a public CDN).

    """
    return CollectionSettings(
        collection=cfg.collection,
        base_url=cfg.site.base_url,
        search_url=search_urls(cfg).base,
        mirador_js=cfg.serve.mirador_url or MIRADOR_CDN,
    )


def settings_problems(settings: CollectionSettings) -> list[str]:
    """Return what is probably a mistake in the collection's settings, said once at job start.

    A collection still called by the built-in title ``Collection`` is published under that
    name, and one with no provider names no institution; viewers and catalogues show it as such.

    Args:
        settings: The stage's settings.

    Returns:
        One line per problem.

    """
    problems = []
    label = settings.collection.label
    if label == CollectionConfig.model_fields["label"].get_default(call_default_factory=True):
        problems.append(
            f"collection.label is the default title {label['en'][0]!r}: name the collection in "
            'the configuration file ([collection] label = { en = "...", ko = "..." })'
        )
    if settings.collection.provider is None:
        problems.append(
            "collection.provider is not set: name the institution holding the volumes "
            "([collection] provider, or the provider and provider_url columns of the "
            "catalogue's '*' row)"
        )
    return problems


def _thumbnail(manifest: ManifestResult) -> list[Any] | None:
    """Return a volume's thumbnail (as its manifest gives it), for browsing the collection."""
    thumbs = manifest.thumbnail
    return [AnnotationBody(**t) for t in thumbs] if thumbs else None


def build_collection(
    inp: CollectionInput,
    coll: CollectionConfig,
    layout: Layout,
    search: SearchUrls | None = None,
) -> Collection:
    """Build the Collection of every volume whose manifest is ok, in volume order.

    Args:
        inp: Each volume's id and manifest result, in volume order.
        coll: The collection section of the configuration.
        layout: The output layout.
        search: The search services' URLs: the collection declares its Search 2.0 service
            when some volume has text.

    Returns:
        The iiif-prezi3 Collection.

    Raises:
        ManifestError: A configured value has text that sanitising would remove, or a
            language key the IIIF schema refuses.
        pydantic.ValidationError: iiif-prezi3 refuses a value (:func:`run` reports it as a
            ManifestError).

    """
    label = parts.text_map(coll.label, "collection.label") or {"none": [coll.id]}
    items = [
        ManifestRef(
            id=manifest.id,
            type="Manifest",
            label=parts.text_map(manifest.label, f"{vid}: label") or {"none": [vid]},
            thumbnail=_thumbnail(manifest),
        )
        for vid, manifest in inp.volumes
    ]
    first_thumb = next((i.thumbnail for i in items if i.thumbnail), None)
    services = None
    if search is not None and any(m.searchable for _, m in inp.volumes):
        services = [search2_service(search.url("search", 2), search.url("autocomplete", 2))]
    return Collection(
        id=layout.collection_id(coll.id),
        label=label,
        summary=(
            parts.statement_map(coll.summary, "collection.summary", html_allowed=True)
            if coll.summary
            else None
        ),
        requiredStatement=parts.required_statement(
            coll.required_statement, "collection.required_statement"
        ),
        rights=coll.rights,
        provider=[parts.provider(coll.provider)] if coll.provider else None,
        homepage=[parts.homepage(coll.homepage, label)] if coll.homepage else None,
        behavior=coll.behavior or None,
        partOf=[parts.collection_link(coll.parent.label, coll.parent.id)] if coll.parent else None,
        thumbnail=list(first_thumb) if first_thumb else None,
        service=services,
        items=items,
    )


def run(inp: CollectionInput, settings: CollectionSettings, layout: Layout) -> StageRecord:
    """Write the collection listing every volume whose manifest is ok, in volume order.

    Args:
        inp: Each volume's id and manifest result, in volume order.
        settings: The stage's settings.
        layout: The output layout.

    Returns:
        The record: the collection file, its id and the volumes it lists; when some volume
        has text, the collection's search page (:attr:`Layout.search_page_path`) too.

    Raises:
        ManifestError: No volume has a manifest, or a configured value is refused.

    """
    coll = settings.collection
    if not inp.volumes:
        raise ManifestError("no volume has a manifest yet")
    urls = SearchUrls(settings.search_url)
    with manifest_errors():
        data = to_data(build_collection(inp, coll, layout, urls), context=True)
    path = layout.collection_path(coll.id)
    outputs = {layout.rel(path): write_text_atomic(path, dump_json(data))}
    page = layout.search_page_path
    if "service" in data:
        html = search_page(search_url=urls.url("search", 2), mirador_js=settings.mirador_js)
        outputs[layout.rel(page)] = write_text_atomic(page, html)
    else:
        page.unlink(missing_ok=True)
    result = CollectionResult(id=data["id"], volumes=[v for v, _ in inp.volumes])
    return StageRecord.done(NAME, "", "", result, outputs=outputs)


SPEC = StageSpec(
    name=NAME,
    scope="collection",
    # 3: the collection declares a Search 2.0 service, and has a search page, when some volume
    # has text
    version=3,
    inputs=CollectionInput,
    settings_type=CollectionSettings,
    settings_for=settings,
    work=run,
    requires=("manifest",),
    writes_urls=True,
    settings_check=settings_problems,
)
