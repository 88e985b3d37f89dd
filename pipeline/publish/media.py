"""The Content-Type and Cache-Control of every kind of published file (also used by serve)."""

from __future__ import annotations

import mimetypes

from pipeline.config import CacheControlConfig
from pipeline.layout import object_kind

PRESENTATION_JSON = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
IMAGE_JSON = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'

_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".jp2": "image/jp2",
    ".webp": "image/webp",
    ".xml": "application/xml",
    ".hocr": "text/html;charset=utf-8",
    ".html": "text/html;charset=utf-8",
    ".txt": "text/plain;charset=utf-8",
    ".pdf": "application/pdf",
    ".js": "text/javascript;charset=utf-8",
    ".css": "text/css;charset=utf-8",
}


def content_type(rel: str) -> str:
    """Return the Content-Type viewers and CDNs expect for a file of the output folder.

    IIIF JSON carries its API's context as a media-type profile: Presentation 3 for
    manifests, collections and annotation pages, Image 3 for ``info.json``.

    Args:
        rel: The layout-relative path (``vol/images/p1/info.json``).

    Returns:
        A Content-Type header value.

    """
    name = rel.rsplit("/", 1)[-1].lower()
    if name.endswith(".json"):
        kind = object_kind(rel)
        if kind == "info":
            return IMAGE_JSON
        if kind in ("manifests", "annotations"):
            return PRESENTATION_JSON
        return "application/json"
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def cache_control(rel: str, policy: CacheControlConfig) -> str:
    """Return the Cache-Control header of a file: long for tiles, short for manifests.

    Args:
        rel: The layout-relative path.
        policy: The configured header per kind.

    Returns:
        A Cache-Control header value.

    """
    value: str = getattr(policy, object_kind(rel))
    return value
