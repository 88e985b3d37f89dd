"""The one place that knows output paths, work files, S3 keys and public URLs.

The output folder is laid out exactly as it is served: ``OUT/a/b.json`` is published at
``BASE_URL/a/b.json``. Bookkeeping (state store, logs, reports, temporary files) lives under
``OUT/.pipeline/``, which is never published.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from pipeline.errors import ConfigError

# Ids become URL path segments and file names: volume folders, page ids, the collection id.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ID_RULE = "up to 128 letters, digits, '.', '_' and '-', starting with a letter or digit"
WORK_DIR = ".pipeline"
TMP_PREFIX = ".tmp-"

OCR_SUFFIXES = {"hocr": ".hocr", "alto": ".alto.xml", "txt": ".txt"}


def is_local_url(url: str) -> bool:
    """Whether an http(s) URL points at this machine only (``localhost``, ``127.0.0.1``, ``[::1]``).

    Such a URL is fine for a preview (``pipeline serve``) and wrong anywhere it outlives it.
    """
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_id(value: str) -> str:
    """Return ``value`` if it is safe as one URL path segment and one file name.

    Raises:
        ValueError: It is empty, starts with a dot or holds characters outside [A-Za-z0-9._-].
    """
    if not SAFE_ID.match(value):
        raise ValueError(f"unsafe identifier {value!r}")
    return value


def volume_id_problem(value: str) -> str | None:
    """Say why ``value`` cannot be a volume id, or return ``None`` when it can.

    Args:
        value: A volume id (the name of a folder directly under the scans folder).

    Returns:
        ``volume 'x': not a valid volume id (...)``, naming the rule; or ``None``.

    """
    if SAFE_ID.match(value):
        return None
    return f"volume {value!r}: not a valid volume id (a folder name of {ID_RULE})"


def check_volume_id(value: str, where: str = "") -> str:
    """Return ``value`` if it is a valid volume id, before anything joins it to a path or URL.

    Args:
        value: The volume id given (an argument, an option, a key).
        where: What gave it (``--volume-id``), put in front of the message.

    Returns:
        ``value``.

    Raises:
        ConfigError: It is not a valid volume id (see :data:`ID_RULE`).

    """
    problem = volume_id_problem(value)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}" if where else problem)
    return value


@dataclass(frozen=True)
class Layout:
    """Paths and URLs of one output folder served at one base URL (picklable)."""

    out: Path
    base_url: str

    # -- generic -------------------------------------------------------------------------------
    def url(self, path: Path) -> str:
        """Public URL of a file under the output folder."""
        return self.base_url + self.rel(path)

    def rel(self, path: Path) -> str:
        """Path relative to the output folder, with forward slashes (also the S3 key suffix)."""
        return PurePosixPath(path.relative_to(self.out)).as_posix()

    def path(self, rel: str) -> Path:
        """Inverse of :meth:`rel`."""
        return self.out / PurePosixPath(rel)

    # -- collection and volumes ----------------------------------------------------------------
    def collection_path(self, collection_id: str) -> Path:
        """The top-level IIIF Collection of this output folder."""
        return self.out / f"{check_id(collection_id)}.json"

    def volume_dir(self, volume: str) -> Path:
        """Everything published for one volume."""
        return self.out / check_id(volume)

    def manifest_path(self, volume: str) -> Path:
        """The volume's IIIF Presentation 3 manifest."""
        return self.volume_dir(volume) / "manifest.json"

    def text_path(self, volume: str) -> Path:
        """The volume's plain-text rendering."""
        return self.volume_dir(volume) / f"{volume}.txt"

    def pdf_path(self, volume: str) -> Path:
        """The volume's searchable PDF (page images with their text)."""
        return self.volume_dir(volume) / f"{volume}.pdf"

    def manifest_id(self, volume: str) -> str:
        """The manifest's URL."""
        return self.url(self.manifest_path(volume))

    def canvas_id(self, volume: str, page: str) -> str:
        """A canvas URI (an identifier inside the manifest, not a file)."""
        return f"{self.base_url}{check_id(volume)}/canvas/{check_id(page)}"

    def range_id(self, volume: str, number: str) -> str:
        """A range URI; ``number`` is its dotted position (``1``, ``1.2``)."""
        return f"{self.base_url}{check_id(volume)}/range/{number}"

    def painting_page_id(self, volume: str, page: str) -> str:
        """Return the id of the AnnotationPage inside a canvas that paints its image."""
        return f"{self.canvas_id(volume, page)}/page"

    def painting_id(self, volume: str, page: str) -> str:
        """Return the id of the annotation that paints a page's image on its canvas."""
        return f"{self.canvas_id(volume, page)}/painting"

    @property
    def search_page_path(self) -> Path:
        """The collection's search page (a static HTML page asking the search services)."""
        return self.out / "search.html"

    def collection_id(self, collection_id: str) -> str:
        """Return the URL of the top-level IIIF Collection."""
        return self.url(self.collection_path(collection_id))

    def url_of(self, rel: str) -> str:
        """Return the public URL of a layout-relative path (as stored in records).

        Raises:
            ValueError: ``rel`` is absolute or climbs out of the output folder.

        """
        if not rel or rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
            raise ValueError(f"{rel!r} is not a path inside the output folder")
        return self.base_url + rel

    def image_url(self, volume: str, page: str, rel: str) -> str:
        """Return the URL of a file of a page's image service (``full/max/0/default.jpg``).

        Raises:
            ValueError: ``rel`` is absolute or climbs out of the image service.

        """
        if not rel or rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
            raise ValueError(f"{rel!r} is not a path inside an image service")
        return f"{self.image_service_id(volume, page)}/{rel}"

    # -- images --------------------------------------------------------------------------------
    def images_dir(self, volume: str) -> Path:
        """Parent folder of the volume's image services."""
        return self.volume_dir(volume) / "images"

    def image_dir(self, volume: str, page: str) -> Path:
        """One page's static IIIF image service (info.json and tiles)."""
        return self.images_dir(volume) / check_id(page)

    def image_service_id(self, volume: str, page: str) -> str:
        """The image service ``id``: the URL of the folder holding info.json."""
        # Same as self.url(self.image_dir(volume, page)) (a unit test holds them together),
        # without pathlib: manifests ask for it once per canvas.
        return f"{self.base_url}{check_id(volume)}/images/{check_id(page)}"

    def image_service_parent(self, volume: str) -> str:
        """What dzsave takes as ``id``: it appends ``/<basename>`` itself."""
        return self.url(self.images_dir(volume))

    def pyramid_tiff_path(self, volume: str, page: str) -> Path:
        """A page's optional tiled pyramidal TIFF, for image servers (``tiles.pyramid_tiff``)."""
        return self.volume_dir(volume) / "pyramids" / f"{check_id(page)}.tif"

    # -- OCR -----------------------------------------------------------------------------------
    def ocr_dir(self, volume: str) -> Path:
        """OCR files of a volume."""
        return self.volume_dir(volume) / "ocr"

    def ocr_path(self, volume: str, page: str, kind: str) -> Path:
        """One OCR output of a page; ``kind`` is one of ``hocr``, ``alto``, ``txt``."""
        return self.ocr_dir(volume) / f"{check_id(page)}{OCR_SUFFIXES[kind]}"

    def transcription_path(self, volume: str, page: str, kind: str) -> Path:
        """One file of a page's chosen transcription; ``kind`` is ``hocr``, ``alto`` or ``txt``."""
        return self.volume_dir(volume) / "transcription" / f"{check_id(page)}{OCR_SUFFIXES[kind]}"

    def annotations_path(self, volume: str, page: str, layer: str = "") -> Path:
        """The AnnotationPage holding a page's lines (of a second ``layer``: ``ocr``)."""
        folder = self.volume_dir(volume) / "annotations"
        return (folder / check_id(layer) if layer else folder) / f"{check_id(page)}.json"

    def annotations_id(self, volume: str, page: str, layer: str = "") -> str:
        """The URL (and ``id``) of a page's AnnotationPage (of a second ``layer``)."""
        sub = f"{check_id(layer)}/" if layer else ""
        return f"{self.base_url}{check_id(volume)}/annotations/{sub}{check_id(page)}.json"

    def annotation_id(self, volume: str, page: str, line: int, layer: str = "") -> str:
        """The ``id`` of the annotation holding line ``line`` (1-based) of a page's layer."""
        return f"{self.annotations_id(volume, page, layer)}#line-{line}"

    def search_index_path(self, volume: str) -> Path:
        """The volume's full-text search index (SQLite FTS5), published with the site."""
        return self.volume_dir(volume) / "search.sqlite"

    # -- bookkeeping (never published) ---------------------------------------------------------
    @property
    def work_dir(self) -> Path:
        """State store, logs, reports and temporary files."""
        return self.out / WORK_DIR

    @property
    def state_db(self) -> Path:
        """The SQLite state store."""
        return self.work_dir / "state.sqlite"

    @property
    def lock_path(self) -> Path:
        """Held by a running job so that a second one refuses to start."""
        return self.work_dir / "lock"

    @property
    def site_record_path(self) -> Path:
        """What the output folder was last built for (its base URL)."""
        return self.work_dir / "site.json"

    @property
    def log_path(self) -> Path:
        """Full log of the latest job, tracebacks included (earlier jobs: ``job.log.1`` ...)."""
        return self.work_dir / "job.log"

    def report_path(self, volume: str) -> Path:
        """Machine-readable report of the volume's latest run."""
        return self.work_dir / "reports" / f"{check_id(volume)}.json"

    @property
    def scratch_dir(self) -> Path:
        """Temporary working files of running stages (removed at the start of every job)."""
        return self.work_dir / "tmp"

    @property
    def cache_dir(self) -> Path:
        """Working copies one stage leaves for another; anything here may be deleted any time."""
        return self.work_dir / "cache"

    def volume_cache_dir(self, volume: str) -> Path:
        """The volume's part of :attr:`cache_dir`."""
        return self.cache_dir / check_id(volume)

    def working_image_path(self, volume: str, page: str, key: str) -> Path:
        """The grey, resampled copy of a master that ingest leaves for OCR (a cache).

        ``key`` names the master's content and the reduction settings, so a stale copy is
        never taken for a current one.
        """
        return self.volume_cache_dir(volume) / check_id(page) / f"{key}.png"

    def review_list_path(self, volume: str) -> Path:
        """CSV of the volume's pages whose OCR needs review, for staff to work through."""
        return self.work_dir / "reports" / f"{check_id(volume)}-review.csv"

    def withheld_ocr_path(self, volume: str, page: str, kind: str) -> Path:
        """Where OCR output that is not published (low confidence) is kept for review."""
        return self.work_dir / "review" / check_id(volume) / f"{check_id(page)}{OCR_SUFFIXES[kind]}"

    def is_published(self, path: Path) -> bool:
        """Whether a file under the output folder belongs to the public site."""
        parts = PurePosixPath(self.rel(path)).parts
        return not any(p.startswith(".") for p in parts)

    # -- publishing ----------------------------------------------------------------------------
    def object_key(self, prefix: str, path: Path) -> str:
        """Return the S3 key (or target-relative path) of a file: ``prefix`` + :meth:`rel`."""
        return prefix + self.rel(path)

    def volume_prefix(self, prefix: str, volume: str) -> str:
        """Return the key prefix of everything published for one volume (ends with ``/``)."""
        return f"{prefix}{check_id(volume)}/"

    def rel_of_url(self, url: str) -> str | None:
        """Return the layout-relative path a public URL points at, or ``None`` if not ours."""
        if not url.startswith(self.base_url):
            return None
        rel = url[len(self.base_url) :].split("#", 1)[0].split("?", 1)[0]
        return rel or None

    def published_rels(self, volume: str, pages: set[str] | None = None) -> list[str]:
        """List every file of a volume that belongs to the public site, in a stable order.

        Plain string paths from one ``os.walk``: a volume has tens of thousands of tiles, and
        publishing lists them on every run.

        Args:
            volume: The volume id.
            pages: When given, per-page files (image service, OCR, annotations) of other
                pages are left out: they belong to pages removed from the volume.

        Returns:
            Layout-relative paths (``vol/images/p1/info.json``), sorted.

        """
        root = self.volume_dir(volume)
        found: list[str] = []
        skip = len(str(self.out)) + 1
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = dirpath[skip:].replace(os.sep, "/")
            for name in filenames:
                if name.startswith("."):
                    continue
                rel = f"{rel_dir}/{name}"
                if pages is None or page_of(rel) in pages or page_of(rel) is None:
                    found.append(rel)
        return sorted(found)


ObjectKind = Literal["tiles", "info", "manifests", "annotations", "ocr", "other"]


def object_kind(rel: str) -> ObjectKind:
    """Classify a published file by its layout-relative path (drives headers and ordering).

    Args:
        rel: A path as returned by :meth:`Layout.rel`.

    Returns:
        ``manifests`` (volume manifests and top-level collections), ``info`` (image service
        descriptions), ``tiles`` (everything else of an image service), ``annotations``,
        ``ocr`` (hOCR, ALTO, page and volume text) or ``other``.

    """
    parts = rel.split("/")
    if len(parts) == 1:
        return "manifests" if rel.endswith(".json") else "other"
    if len(parts) == 2:
        if parts[1] == "manifest.json":
            return "manifests"
        return "ocr" if parts[1] == f"{parts[0]}.txt" else "other"
    if parts[1] == "images":
        return "info" if parts[-1] == "info.json" and len(parts) == 4 else "tiles"
    if parts[1] == "annotations":
        return "annotations"
    if parts[1] in ("ocr", "transcription"):
        return "ocr"
    return "other"


def page_of(rel: str) -> str | None:
    """Return the page a per-page file belongs to, or ``None`` for a volume-level file.

    Args:
        rel: A path as returned by :meth:`Layout.rel` (``vol/images/p1/...``,
            ``vol/ocr/p1.alto.xml``, ``vol/annotations/p1.json``).

    """
    parts = rel.split("/")
    if len(parts) < 3:
        return None
    if parts[1] == "images":
        return parts[2]
    name = parts[2]
    if parts[1] in ("ocr", "transcription"):
        for suffix in sorted(OCR_SUFFIXES.values(), key=len, reverse=True):
            if name.endswith(suffix):
                return name[: -len(suffix)]
    if parts[1] == "annotations" and len(parts) == 4:
        name = parts[3]  # a second layer: vol/annotations/ocr/p1.json
    if parts[1] == "annotations" and name.endswith(".json"):
        return name[: -len(".json")]
    return None
