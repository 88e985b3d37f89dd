"""The search services as a small read-only ASGI application (run it with uvicorn).

::

    PIPELINE_SEARCH_INDEX=/srv/site uvicorn pipeline.search.app:app --port 8010

answers ``GET /<volume>/search1?q=...`` (and ``autocomplete1``, ``search2``, ``autocomplete2``,
and the collection's ``/search2`` and ``/autocomplete2``) from the index files under the folder
the variable names: the published output folder, or a copy holding just its index files. The
files are opened read-only; the application has no write path and answers GET, HEAD and
OPTIONS only, with CORS for any origin. Behind a web server that serves it under a path
(``https://example.org/iiif/search/``), give that path to uvicorn as ``--root-path``;
``search.url`` in the pipeline's configuration is then that public URL.
``uvicorn --factory pipeline.search.app:create_app`` is the same without the variable, for
code that passes the folder itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from pipeline.search.indexes import folder_from, open_service
from pipeline.search.service import SearchService, error

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class SearchApp:
    """An ASGI application answering the search services over one folder of index files.

    Args:
        folder: The folder; ``None`` reads it from ``PIPELINE_SEARCH_INDEX`` at start-up.
    """

    def __init__(self, folder: Path | None = None) -> None:
        """Remember the folder; the indexes are looked at when the server starts."""
        self.folder = folder
        self.service: SearchService | None = None

    def _service(self) -> SearchService:
        if self.service is None:
            self.service = open_service(self.folder or folder_from(os.environ))
        return self.service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI connection (HTTP requests and the lifespan protocol)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._service()
                except (ValueError, OSError) as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, send: Send) -> None:
        try:
            service = self._service()
        except (ValueError, OSError) as exc:
            response = error(503, str(exc))
        else:
            # Queries read SQLite files: in a worker thread, so that requests overlap.
            response = await asyncio.to_thread(
                service.answer,
                scope["method"],
                str(scope["path"]),
                scope.get("query_string", b""),
                root=str(scope.get("root_path", "")),
                host=_host(scope),
                scheme=str(scope.get("scheme", "http")),
            )
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers()
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})


def _host(scope: Scope) -> str:
    """The host the client asked for: its ``Host`` header, else the server's address."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return host


def create_app(folder: Path | None = None) -> SearchApp:
    """Return the application over ``folder`` (default: ``PIPELINE_SEARCH_INDEX``)."""
    return SearchApp(folder)


#: ``uvicorn pipeline.search.app:app``: the folder comes from ``PIPELINE_SEARCH_INDEX``.
app = SearchApp()
