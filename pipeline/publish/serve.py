"""A small static HTTP server for previews and browser tests: CORS, IIIF content types, 127.0.0.1.

It serves the output folder exactly as it would be published (hidden bookkeeping such as
``.pipeline/`` answers 404), plus extra folders mounted under URL prefixes (the viewer's
assets), and, for ``pipeline serve``, Mirador 4 and Universal Viewer 4 pages made in memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import mimetypes
import posixpath
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, MissingDependencyError
from pipeline.layout import Layout
from pipeline.layout.search import SEARCH_DIR, SearchUrls
from pipeline.publish.media import content_type
from pipeline.publish.viewer_pages import mirador_korean, mirador_page, uv_page
from pipeline.search.indexes import open_service
from pipeline.search.page import search_page

log = logging.getLogger(__name__)


class _Handler(SimpleHTTPRequestHandler):
    """GET/HEAD of files only (no listings), with CORS and the headers viewers expect."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def _resolve(self) -> tuple[Path, str] | None:
        """Return the (folder, relative path) a request is for, or ``None`` if not servable."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = [p for p in posixpath.normpath(path).split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None
        rel = "/".join(parts)
        for prefix, folder in self.server.mounts.items():
            if rel == prefix or rel.startswith(prefix + "/"):
                return folder, rel[len(prefix) + 1 :]
        return self.server.root, rel

    def send_head(self) -> Any:
        """Send the headers of a file (or a 404); return it opened for the body."""
        found = self._resolve()
        target = found[0].joinpath(*found[1].split("/")) if found and found[1] else None
        if found is None or target is None or not target.is_file():
            self.send_error(404, "not found")
            return None
        folder, rel = found
        ctype = (
            content_type(rel)
            if folder == self.server.root
            else mimetypes.guess_type(rel)[0] or "application/octet-stream"
        )
        fh = target.open("rb")
        size = target.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return fh

    def end_headers(self) -> None:
        """Add the CORS headers every IIIF client needs to every answer."""
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")
        super().end_headers()

    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
        """Answer CORS preflight requests."""
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Log requests at debug level instead of printing them."""
        log.debug("%s %s", self.address_string(), format % args)


class PreviewServer(ThreadingHTTPServer):
    """Serves an output folder (and mounted folders) until shut down; one thread per request."""

    daemon_threads = True
    handler_class: type[SimpleHTTPRequestHandler] = _Handler

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mounts: Mapping[str, Path] | None = None,
    ) -> None:
        """Bind the socket (port 0 picks a free one) without serving yet.

        Args:
            root: The output folder, served at ``/``.
            host: The address to listen on; the default keeps it to this machine.
            port: The port; 0 for any free one (see :attr:`url`).
            mounts: URL prefix (``"_viewer"``) -> folder served under it.

        """
        self.root = root
        self.mounts = {k.strip("/"): v for k, v in (mounts or {}).items()}
        super().__init__((host, port), self.handler_class)

    @property
    def url(self) -> str:
        """Return the base URL the server answers at (with a trailing slash)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


@contextlib.contextmanager
def serving(server: PreviewServer) -> Iterator[PreviewServer]:
    """Serve in a background thread for the duration of the block, then close the socket."""
    # A short poll interval makes shutdown quick (it waits for the next poll).
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="preview-server",
        daemon=True,
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- `pipeline serve`: the output folder plus viewer pages made in memory --------------------------
MIRADOR_PREFIX = "_mirador"
VIEW_PREFIX = "_view"
UV_PREFIX = "_uv"
UV_DIST_PREFIX = "_universalviewer"
NODE_MODULES = Path(__file__).resolve().parents[2] / "viewer" / "node_modules"
MIRADOR_DIST = NODE_MODULES / "mirador" / "dist"
UV_DIST = NODE_MODULES / "universalviewer" / "dist"


def mirador_source(
    mirador_url: str | None, dist: Path = MIRADOR_DIST
) -> tuple[str, dict[str, Path]]:
    """Decide where the preview page loads Mirador from.

    Args:
        mirador_url: ``serve.mirador_url``; when set it wins.
        dist: The npm package's ``dist`` folder (installed by ``make viewer``).

    Returns:
        The script URL for the page, and the folders to mount for it.

    Raises:
        MissingDependencyError: Neither is available.

    """
    if mirador_url:
        return mirador_url, {}
    if (dist / "mirador.min.js").is_file():
        return f"/{MIRADOR_PREFIX}/mirador.min.js", {MIRADOR_PREFIX: dist}
    raise MissingDependencyError(
        "Mirador is not installed: run `make viewer` (npm ci in viewer/) or set serve.mirador_url"
    )


class _SiteHandler(_Handler):
    """The preview handler plus pages made in memory and JSON pointed at this server."""

    server: SiteServer

    def send_head(self) -> Any:
        """Send a search answer, a generated page, a rewritten JSON document, or a file."""
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith(f"/{self.server.search_local}"):
            return self._search(split)
        found = self._resolve()
        if found is None or found[0] != self.server.root:
            return super().send_head()
        rel = found[1]
        refused = self.server.refuse(self, rel)
        if refused is not None:
            return refused
        page = self.server.page(rel)
        if page is not None:
            return self._send_bytes(page.encode("utf-8"), "text/html;charset=utf-8")
        path = self.server.root.joinpath(*rel.split("/")) if rel else None
        if path is not None and rel.endswith(".json") and path.is_file():
            data = self.server.rewrite(rel, path.read_bytes())
            return self._send_bytes(data, content_type(rel))
        return super().send_head()

    def _search(self, split: urllib.parse.SplitResult) -> io.BytesIO:
        """Answer a search service request, its URLs pointed at this server."""
        local = self.server.search_local
        response = self.server.search.handle(
            self.command,
            split.path[len(local) + 1 :],
            split.query.encode("latin-1"),
            self.server.url + local,
        )
        body = self.server.rewrite(".json", response.body)
        self.send_response(response.status)
        for name, value in response.headers():
            if name in ("Content-Type", "Cache-Control", "Allow"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        """Hand a POST to the server (:meth:`SiteServer.post`)."""
        self.server.post(self)

    def _send_bytes(self, data: bytes, ctype: str) -> io.BytesIO:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return io.BytesIO(data)


class SiteServer(PreviewServer):
    """A preview of an output folder as it will be published, with Mirador pages in memory.

    ``/`` opens the collection (or every manifest when there is none), ``/search.html`` searches
    it (the search services answer under ``search.url``'s path), and ``/_view/VOLUME``
    opens one manifest; ``/_uv/VOLUME`` opens it in Universal Viewer when the npm package is
    installed (``make viewer``). The pages are generated per request and never written to the
    output folder. JSON documents are served with the build's base URL replaced by this server's,
    so a batch built for its public address can be looked at before it is published.
    """

    handler_class = _SiteHandler

    def __init__(
        self,
        layout: Layout,
        *,
        collection_id: str,
        mirador_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        uv_dist: Path = UV_DIST,
        search_url: str | None = None,
    ) -> None:
        """Bind the socket (port 0 picks a free one) without serving yet.

        Args:
            layout: The output folder and its public base URL.
            collection_id: The collection ``/`` opens when it exists.
            mirador_url: ``serve.mirador_url``; else Mirador comes from viewer/node_modules.
            host: The address to listen on.
            port: The port; 0 for any free one.
            uv_dist: Universal Viewer's ``dist`` folder; without it ``/_uv/`` pages answer 404.
            search_url: ``search.url``: the search services the manifests declare are
                answered here (at its path when it is under the base URL, else at
                ``/search/``, and JSON documents point there).

        Raises:
            MissingDependencyError: Mirador is neither installed nor configured.
            ConfigError: The address cannot be bound.

        """
        self.mirador_js, mounts = mirador_source(mirador_url)
        self.korean = mirador_korean(MIRADOR_DIST)
        self.has_uv = (uv_dist / "umd" / "UV.js").is_file()
        if self.has_uv:
            mounts = {**mounts, UV_DIST_PREFIX: uv_dist}
        self.layout = layout
        self.collection_id = collection_id
        self.search_url = SearchUrls.under(layout.base_url, search_url).base
        self.search_local = layout.rel_of_url(self.search_url) or f"{SEARCH_DIR}/"
        self.search = open_service(layout.out)
        try:
            super().__init__(layout.out, host=host, port=port, mounts=mounts)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port"
            ) from None

    def page(self, rel: str) -> str | None:
        """Return the viewer page for a request path, or ``None`` if it is not a page."""
        if rel in ("", "index.html"):
            collection = self.layout.collection_path(self.collection_id)
            if collection.is_file():
                resources = [self.url + self.layout.rel(collection)]
            else:
                resources = [self.url + self.layout.rel(p) for p in self._manifests()]
            return self._mirador_page(resources, "Preview")
        if rel == self.layout.rel(self.layout.search_page_path):
            search = SearchUrls(self.url + self.search_local).url("search", 2)
            return search_page(search_url=search, mirador_js=self.mirador_js)
        for prefix in (VIEW_PREFIX, UV_PREFIX):
            if rel.startswith(f"{prefix}/"):
                volume = rel[len(prefix) + 1 :]
                url = self._manifest_url(volume)
                if url is None:
                    return None
                if prefix == VIEW_PREFIX:
                    return self._mirador_page([url], volume)
                if self.has_uv:
                    return uv_page(manifest=url, uv_dist=f"/{UV_DIST_PREFIX}/", title=volume)
        return None

    def refuse(self, handler: SimpleHTTPRequestHandler, rel: str) -> io.BytesIO | None:
        """Refuse a GET or HEAD of ``rel`` (headers sent, body returned); ``None``: answer it.

        The preview answers every request; the correction server refuses its pages to a
        ``Host`` that is not its own.
        """
        return None

    def post(self, handler: SimpleHTTPRequestHandler) -> None:
        """Answer a POST: the preview is read-only (the correction server writes)."""
        handler.send_error(405, "read-only")

    def _manifest_url(self, volume: str) -> str | None:
        try:
            manifest = self.layout.manifest_path(volume)
        except ValueError:
            return None
        return self.url + self.layout.rel(manifest) if manifest.is_file() else None

    def _mirador_page(self, resources: list[str], title: str) -> str:
        return mirador_page(
            resources=resources, mirador_js=self.mirador_js, title=title, korean=self.korean
        )

    def _manifests(self) -> list[Path]:
        out = self.layout.out
        return sorted(out.glob("*/manifest.json")) if out.is_dir() else []

    def rewrite(self, rel: str, data: bytes) -> bytes:
        """Point a JSON document's URLs at this server instead of the public base URL."""
        base = self.layout.base_url
        if not rel.endswith(".json"):
            return data
        if not self.search_url.startswith(base):
            local = self.url + self.search_local
            data = data.replace(self.search_url.encode("utf-8"), local.encode("utf-8"))
        if base == self.url:
            return data
        return data.replace(base.encode("utf-8"), self.url.encode("utf-8"))
