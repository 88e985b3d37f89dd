"""IIIF Content Search service declarations: Search 1.0 (what Mirador 4 finds) and 2.0."""

from __future__ import annotations

from typing import Any

from iiif_prezi3 import ServiceV2, ServiceV3

SEARCH1_PROFILE = "http://iiif.io/api/search/1/search"
AUTOCOMPLETE1_PROFILE = "http://iiif.io/api/search/1/autocomplete"
SEARCH2_TYPE = "SearchService2"
AUTOCOMPLETE2_TYPE = "AutoCompleteService2"


def search2_service(search: str, autocomplete: str) -> Any:
    """Return a Search 2.0 service (``SearchService2``) with its nested autocomplete.

    Args:
        search: The search service URL.
        autocomplete: The autocomplete service URL.

    """
    return ServiceV3(
        id=search,
        type=SEARCH2_TYPE,
        service=[ServiceV3(id=autocomplete, type=AUTOCOMPLETE2_TYPE)],
    )


def search_services(
    *, search1: str, autocomplete1: str, search2: str, autocomplete2: str
) -> list[Any]:
    """Return the search services of a manifest: Search 1.0 and Search 2.0.

    Mirador 4 finds a search service by its ``profile`` only (Search 1.0); the Presentation 3
    form of an older service has ``@id`` and ``@type`` (``SearchService1``). Viewers that
    adopt Search 2.0 find ``SearchService2`` by its type.

    Args:
        search1: The Search 1.0 service URL.
        autocomplete1: Its autocomplete service URL.
        search2: The Search 2.0 service URL.
        autocomplete2: Its autocomplete service URL.

    Returns:
        The two service entries, for the manifest's ``service``.

    """
    autocomplete = ServiceV2(
        id=autocomplete1, type="AutoCompleteService1", profile=AUTOCOMPLETE1_PROFILE
    )
    search = ServiceV2(
        id=search1, type="SearchService1", profile=SEARCH1_PROFILE, service=[autocomplete]
    )
    return [search, search2_service(search2, autocomplete2)]
