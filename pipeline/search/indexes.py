"""The index files the search services answer from: a folder laid out as the output folder.

Each volume's index sits where the index stage writes it (``<volume>/search.sqlite``); the
collection is searched over all of them, in volume order. The folder is the output folder
itself (``pipeline serve``), or a copy of just its index files (and, for the volumes' labels in
collection answers, their ``manifest.json``) beside the ASGI application or inside a Lambda
package. Files are opened read-only by the query engine, on every request, so an index rebuilt
in place is answered from at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from pipeline.errors import SearchQueryError
from pipeline.layout import SAFE_ID, Layout
from pipeline.layout.order import sort_key
from pipeline.search.query import Hit, search, suggest
from pipeline.search.responses import Match, Piece
from pipeline.search.service import BadRequest, SearchService
from pipeline.search.store import base_url

log = logging.getLogger(__name__)

#: The variable naming the folder of index files (the ASGI application and Lambda).
ENV_INDEX = "PIPELINE_SEARCH_INDEX"


class IndexFolder:
    """The search engine over one folder of index files (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        """Remember the folder; nothing is opened until a request comes."""
        # Only paths are asked of this layout: the ids are under the index files' base URLs.
        self.layout = Layout(out=folder, base_url="")

    def files(self, volume: str | None) -> list[Path]:
        """The index files of a volume, or (``None``) of every volume in volume order."""
        if volume is not None:
            path = self.layout.search_index_path(volume)
            return [path] if path.is_file() else []
        out = self.layout.out
        found = [p.name for p in out.iterdir() if SAFE_ID.match(p.name)] if out.is_dir() else []
        names = sorted(found, key=sort_key)
        paths = [self.layout.search_index_path(n) for n in names]
        return [p for p in paths if p.is_file()]

    def search(
        self, files: Sequence[Path], q: str, *, limit: int, offset: int, labels: bool
    ) -> tuple[int, list[Match]]:
        """Return the total number of hits and one page of them, as response matches.

        Args:
            files: The index files (:meth:`files`), in the order their hits are listed.
            q: The query.
            limit: Hits per page.
            offset: Hits before the page.
            labels: Give each match its manifest's label (a collection's answer).

        Raises:
            BadRequest: The query is over the length limit.
            SearchIndexError: An index file is unreadable or of another format.
        """
        try:
            found = search(files, q, limit=limit, offset=offset)
        except SearchQueryError as exc:
            raise BadRequest(f"q: {exc}") from None
        layouts: dict[str, Layout] = {}
        return found.total, [self._match(hit, layouts, labels=labels) for hit in found.hits]

    def _layout(self, volume: str, layouts: dict[str, Layout]) -> Layout:
        """The layout of a volume's ids: under the base URL its index file was built for."""
        if volume not in layouts:
            base = base_url(self.layout.search_index_path(volume))
            layouts[volume] = Layout(out=self.layout.out, base_url=base)
        return layouts[volume]

    def suggest(self, files: Sequence[Path], prefix: str, *, limit: int) -> list[tuple[str, int]]:
        """Return up to ``limit`` words starting with ``prefix`` and how often each occurs.

        Raises:
            BadRequest: The prefix is over the length limit.
            SearchIndexError: An index file is unreadable or of another format.
        """
        try:
            return suggest(files, prefix, limit=limit)
        except SearchQueryError as exc:
            raise BadRequest(f"q: {exc}") from None

    def _match(self, hit: Hit, layouts: dict[str, Layout], *, labels: bool) -> Match:
        """A hit as a response match; ``layouts`` keeps each volume's layout for the request."""
        layout = self._layout(hit.volume, layouts)
        pieces = tuple(
            Piece(
                annotation=layout.annotation_id(hit.volume, hit.page, line.line),
                canvas=hit.canvas,
                box=tuple(line.box),  # type: ignore[arg-type]
                text=line.text,
                start=min(s for s, _ in line.spans),
                end=max(e for _, e in line.spans),
            )
            for line in hit.lines
            if line.spans
        )
        label = _label(self.layout.manifest_path(hit.volume)) if labels else None
        return Match(pieces=pieces, manifest=hit.manifest, manifest_label=label)


def _label(path: Path) -> dict[str, list[str]] | None:
    """A manifest's label, when the manifest is in the folder (else ``None``: it may not be)."""
    try:
        return _read_label(path, path.stat().st_mtime_ns)
    except OSError:
        return None


@lru_cache(maxsize=1024)
def _read_label(path: Path, mtime: int) -> dict[str, list[str]] | None:
    """A manifest's label, read once per version of the file (``mtime`` is the cache key)."""
    try:
        label = json.loads(path.read_text(encoding="utf-8")).get("label")
    except (OSError, ValueError, AttributeError):
        log.warning("%s: no label read (not a manifest?); hits there are listed without it", path)
        return None
    return label if isinstance(label, dict) else None


def folder_from(environ: Mapping[str, str], default: Path | None = None) -> Path:
    """The folder of index files the environment names (:data:`ENV_INDEX`), else ``default``.

    Raises:
        ValueError: The variable is unset or empty, and there is no default.
    """
    named = environ.get(ENV_INDEX, "")
    if named:
        return Path(named)
    if default is None:
        raise ValueError(f"set {ENV_INDEX} to the folder of the search index files")
    return default


def open_service(folder: Path) -> SearchService:
    """The search services over a folder of index files.

    Args:
        folder: The output folder, or a copy of its index files laid out the same way.

    Returns:
        The request handler (nothing is opened before the first request).

    """
    return SearchService(IndexFolder(folder))
