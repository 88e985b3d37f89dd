"""What must be on the target before a manifest may go up: every URL a viewer will request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import PublishObjectError
from pipeline.iiif.image import INFO, expected_urls
from pipeline.layout import Layout


def _strings(node: Any) -> Iterator[str]:
    """Yield every ``id`` value of a JSON-LD document, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("id", "@id") and isinstance(value, str):
                yield value
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _image_services(node: Any) -> Iterator[str]:
    """Yield the ids of the IIIF image services a document points at."""
    if isinstance(node, dict):
        kind = node.get("type") or node.get("@type")
        if kind in ("ImageService3", "ImageService2") and isinstance(node.get("id"), str):
            yield node["id"]
        for value in node.values():
            yield from _image_services(value)
    elif isinstance(node, list):
        for value in node:
            yield from _image_services(value)


def load_json(path: Path) -> Any:
    """Read a JSON document of the output folder.

    Raises:
        PublishObjectError: It is missing or not JSON.

    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishObjectError(f"{path.name}: cannot read ({exc})") from None


def referenced_rels(layout: Layout, document: Any) -> set[str]:
    """Layout-relative paths of the files of ours a document points at.

    The document's own id and identifiers that are not files (canvas, range and annotation
    ids; image service ids, which name a folder) are left out; the image services are
    covered by :func:`viewer_rels`.

    Args:
        layout: The output layout.
        document: A parsed manifest or collection.

    Returns:
        Paths such as ``vol/images/p1/full/max/0/default.jpg``.

    """
    own = document.get("id") if isinstance(document, dict) else None
    found: set[str] = set()
    for url in _strings(document):
        rel = layout.rel_of_url(url)
        if url != own and rel is not None and layout.path(rel).is_file():
            found.add(rel)
    return found


def viewer_rels(layout: Layout, manifest: Any) -> tuple[set[str], list[str]]:
    """Replay what a deep-zoom viewer requests from each image service of a manifest.

    The replay itself (which levels, tiles and sizes OpenSeadragon and Mirador ask for) is
    :func:`pipeline.iiif.image.expected_urls`, the same one the tiles stage runs on its output.

    Args:
        layout: The output layout.
        manifest: The parsed manifest.

    Returns:
        The layout-relative paths a viewer requests (info.json and every tile), and problems
        found locally (a service outside the base URL, a missing or malformed info.json, an
        info.json whose ``id`` is not the service the manifest names).

    """
    rels: set[str] = set()
    problems: list[str] = []
    for service in sorted(set(_image_services(manifest))):
        rel = layout.rel_of_url(service)
        if rel is None:
            problems.append(f"image service {service} is not under {layout.base_url}")
            continue
        info_rel = f"{rel.rstrip('/')}/{INFO}"
        info_path = layout.path(info_rel)
        if not info_path.is_file():
            problems.append(f"{info_rel} is missing in the output folder")
            continue
        info = load_json(info_path)
        if not isinstance(info, dict) or str(info.get("id", "")).rstrip("/") != service.rstrip("/"):
            problems.append(f"{info_rel}: its id is not {service}")
            continue
        try:
            urls = expected_urls(info)
        except ValueError as exc:
            problems.append(f"{info_rel}: {exc}")
            continue
        for url in urls:
            url_rel = layout.rel_of_url(url)
            if url_rel is None:
                problems.append(f"{info_rel}: {url} is not under {layout.base_url}")
                break
            rels.add(url_rel)
    return rels, problems
