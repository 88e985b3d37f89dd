"""The correction page of ``pipeline serve``: a page's lines over its deep-zoom image, editable.

``/_correct/`` lists the volumes, ``/_correct/VOLUME`` its pages (those held for review first),
``/_correct/VOLUME/PAGE`` shows the page from our own tiles in OpenSeadragon (installed with
Mirador) with each line's box, and each line's text in a field beside it, lines below the
review confidence marked. Save POSTs the texts to the same URL, and the page's transcription is
written (:meth:`~pipeline.publish.corrections.Corrections.save`).

Writes are refused unless the server listens on loopback (or ``--allow-edits`` was given) and
the request carries the CSRF token issued with the page (``X-CSRF-Token``). Every request for a
correction page (and so for the token) and every Save must name this server in its ``Host``: a
loopback name, or the address it listens on (``serve.host``). A page on another site that
rebinds its name to this machine's address sends its own name, so it gets neither the token nor
a Save. A Save whose ``Origin`` is not this server's is refused too. Every refusal is one line
of JSON: ``{"error": "..."}``.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import secrets
import urllib.parse
from functools import cache
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import jinja2

from pipeline.config import Config
from pipeline.errors import PipelineError
from pipeline.iiif.image import INFO
from pipeline.layout import Layout
from pipeline.publish.corrections import CorrectionError, Corrections, PageView
from pipeline.publish.serve import NODE_MODULES, SiteServer
from pipeline.siteurl import search_urls

log = logging.getLogger(__name__)

CORRECT_PREFIX = "_correct"
ASSETS_PREFIX = "_correct_assets"
OSD_PREFIX = "_osd"
OSD_DIST = NODE_MODULES / "openseadragon" / "build" / "openseadragon"
ASSETS = Path(__file__).resolve().parent / "static"
MAX_BODY = 4 * 1024 * 1024
TOKEN_HEADER = "X-CSRF-Token"


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.publish", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def is_loopback(host: str) -> bool:
    """Whether an address (or the name ``localhost``) is this machine only."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _unspecified(host: str) -> bool:
    """Whether an address means "every interface" (``0.0.0.0``, ``::``): never a Host."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _request_host(handler: SimpleHTTPRequestHandler) -> str:
    """The host name a request's ``Host`` header gives (lower case, no port); empty if none."""
    try:
        return urllib.parse.urlsplit(f"//{handler.headers.get('Host', '')}").hostname or ""
    except ValueError:  # a malformed bracketed address
        return ""


class CorrectionServer(SiteServer):
    """The preview server plus the correction pages and their Save."""

    def __init__(
        self,
        layout: Layout,
        *,
        corrections: Corrections,
        review_confidence: float,
        allow_edits: bool = False,
        osd_dist: Path = OSD_DIST,
        **options: Any,
    ) -> None:
        """Bind the socket like :class:`SiteServer`.

        Args:
            layout: The output folder and its public base URL.
            corrections: Where pages and transcriptions are, and the default editor.
            review_confidence: Lines below this mean word confidence (0-100) are marked.
            allow_edits: Accept saves on an address other than loopback.
            osd_dist: OpenSeadragon's ``build/openseadragon`` folder.
            **options: The :class:`SiteServer` options (``collection_id``, ``host`` ...).
        """
        super().__init__(layout, **options)
        self.corrections = corrections
        self.threshold = review_confidence
        self.token = secrets.token_urlsafe(32)
        self.edits = allow_edits or is_loopback(str(self.server_address[0]))
        named = (str(self.server_address[0]), str(options.get("host", "127.0.0.1")))
        self.hosts = frozenset(h.strip("[]").lower() for h in named if not _unspecified(h))
        self.mounts[ASSETS_PREFIX] = ASSETS
        self.has_osd = (osd_dist / "openseadragon.min.js").is_file()
        if self.has_osd:
            self.mounts[OSD_PREFIX] = osd_dist

    def page(self, rel: str) -> str | None:
        """The correction pages, else the preview's pages."""
        parts = rel.split("/")
        if parts[0] != CORRECT_PREFIX:
            return super().page(rel)
        try:
            if len(parts) == 1 or parts[1:] == [""]:
                return self._volumes_page()
            if len(parts) == 2:
                return self._pages_page(parts[1])
            if len(parts) == 3:
                return self._correction_page(self.corrections.view(parts[1], parts[2]))
        except CorrectionError as exc:
            log.info("correction page %s: %s", rel, exc)
        except PipelineError as exc:  # a volume that cannot be read (its volume.toml, say)
            log.warning("correction page %s: %s", rel, exc)
        return None

    def _volumes_page(self) -> str:
        volumes = self.corrections.volumes()
        entries = [{"volume": v, "href": f"/{CORRECT_PREFIX}/{v}"} for v in volumes]
        return _templates().get_template("correct_index.html").render(volume="", entries=entries)

    def _pages_page(self, volume: str) -> str:
        entries = []
        for facts in self.corrections.pages(volume):
            ocr = facts.ocr
            entries.append(
                {
                    "page": facts.item.page,
                    "file": facts.master.name,
                    "held": ocr is not None and ocr.needs_review,
                    "confidence": ocr.confidence if ocr is not None else None,
                    "href": f"/{CORRECT_PREFIX}/{volume}/{facts.item.page}",
                }
            )
        entries.sort(key=lambda entry: not entry["held"])
        held = [entry for entry in entries if entry["held"]]
        return (
            _templates()
            .get_template("correct_index.html")
            .render(volume=volume, entries=entries, held=held)
        )

    def _correction_page(self, view: PageView) -> str:
        limit = self.threshold / 100
        lines = [
            {
                "id": line.id,
                "text": line.text,
                "box": list(line.box) if line.box else None,
                "confidence": line.confidence,
                "low": line.confidence is not None and line.confidence < limit,
            }
            for line in view.lines
        ]
        info = self.layout.image_dir(view.volume, view.page) / INFO
        osd = f"/{OSD_PREFIX}/" if self.has_osd else ""
        data = {
            "info": self.url + self.layout.rel(info),
            "lines": [line for line in lines if line["box"] is not None],
            "save": f"/{CORRECT_PREFIX}/{view.volume}/{view.page}",
            "csrf": self.token if self.edits else "",
            "osd": osd,
        }
        languages = view.facts.item.ocr_languages
        return (
            _templates()
            .get_template("correct.html")
            .render(
                volume=view.volume,
                page=view.page,
                source=view.source,
                held=view.held,
                threshold=f"{self.threshold:g}",
                editable=self.edits,
                lines=lines,
                lang="ko" if not languages or languages[0].startswith("kor") else "",
                editor=self.corrections.editor,
                data=data,
                osd=osd,
                script=f"/{ASSETS_PREFIX}/correct.js",
            )
        )

    def own_host(self, host: str) -> bool:
        """Whether a request's host name names this server: loopback, or its address."""
        return is_loopback(host) or host.lower() in self.hosts

    def refuse(self, handler: SimpleHTTPRequestHandler, rel: str) -> io.BytesIO | None:
        """Refuse the correction pages (which carry the token) to a ``Host`` not this server's."""
        host = _request_host(handler)
        if rel.split("/")[0] != CORRECT_PREFIX or self.own_host(host):
            return None
        log.warning("correction page %s refused to Host %r", rel, host)
        return _json_head(handler, 403, {"error": _foreign(host)})

    def post(self, handler: SimpleHTTPRequestHandler) -> None:
        """Save a page's corrected lines, or refuse in one line of JSON."""
        try:
            body = _read_body(handler)
            volume, page = self._check_post(handler)
            request = _parse(body)
            saved = self.corrections.save(volume, page, request[0], request[1])
        except CorrectionError as exc:
            _answer(handler, exc.status, {"error": str(exc)})
            return
        except PipelineError as exc:
            _answer(handler, 409, {"error": str(exc)})
            return
        except OSError as exc:
            _answer(handler, 500, {"error": f"{exc.filename}: cannot write ({exc.strerror})"})
            return
        rel = saved.relative_to(self.corrections.transcriptions.parent).as_posix()
        log.info("correction saved: %s", rel)
        _answer(handler, 200, {"saved": rel, "file": saved.name, "lines": len(request[1])})

    def _check_post(self, handler: SimpleHTTPRequestHandler) -> tuple[str, str]:
        """The volume and page a POST saves, once it may write at all.

        Raises:
            CorrectionError: Not a correction URL (404), edits not allowed here, a ``Host`` or
                ``Origin`` not this server's, or no valid token (403).
        """
        path = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path)
        parts = [part for part in path.split("/") if part]
        if len(parts) != 3 or parts[0] != CORRECT_PREFIX:
            raise CorrectionError(f"{path}: nothing to save here", 404)
        if not self.edits:
            raise CorrectionError(
                f"edits are refused on {self.server_address[0]!s}: serve on 127.0.0.1, or "
                "give --allow-edits",
                403,
            )
        host = _request_host(handler)
        if not self.own_host(host):
            raise CorrectionError(_foreign(host), 403)
        origin = handler.headers.get("Origin")
        own = f"http://{handler.headers.get('Host', '')}".lower()
        if origin is not None and origin.lower() != own:
            raise CorrectionError(f"Origin {origin!r} is not this server: edits refused", 403)
        token = handler.headers.get(TOKEN_HEADER, "")
        if not token or not secrets.compare_digest(token, self.token):
            raise CorrectionError(
                f"{'wrong' if token else 'missing'} CSRF token: reload the correction page", 403
            )
        return parts[1], parts[2]


def _read_body(handler: SimpleHTTPRequestHandler) -> bytes:
    """The request's body (read whole, so the connection stays usable).

    Raises:
        CorrectionError: No length, or too long (413).
    """
    try:
        length = int(handler.headers.get("Content-Length", ""))
    except ValueError:
        handler.close_connection = True
        raise CorrectionError("a POST needs a Content-Length", 411) from None
    if length > MAX_BODY or length < 0:
        handler.close_connection = True
        raise CorrectionError(f"the request is larger than {MAX_BODY} bytes", 413)
    return handler.rfile.read(length)


def _parse(body: bytes) -> tuple[str, dict[str, str]]:
    """The editor and each line's text of a Save request.

    Raises:
        CorrectionError: Not the JSON the page sends (400).
    """
    try:
        request = json.loads(body.decode("utf-8"))
        editor = request["editor"]
        texts = {line["id"]: line["text"] for line in request["lines"]}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise CorrectionError(
            'not a Save request: JSON {"editor": ..., "lines": [{"id", "text"}]}', 400
        ) from None
    if not isinstance(editor, str) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
    ):
        raise CorrectionError("editor, line ids and texts must be strings", 400)
    return editor, texts


def _foreign(host: str) -> str:
    return (
        f"Host {host!r} is not this machine (nor the address served on): refused; "
        "open the page at the address 'pipeline serve' printed"
    )


def _json_head(
    handler: SimpleHTTPRequestHandler, status: int, payload: dict[str, Any]
) -> io.BytesIO:
    """Send the status and headers of a one-line JSON answer; return its body."""
    data = (json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    return io.BytesIO(data)


def _answer(handler: SimpleHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    handler.wfile.write(_json_head(handler, status, payload).getvalue())


def correction_server(cfg: Config, layout: Layout) -> CorrectionServer:
    """The server of ``pipeline serve``: the preview and the correction pages, as configured.

    Raises:
        MissingDependencyError: Mirador is neither installed nor configured.
        ConfigError: The address cannot be bound.
    """
    corrections = Corrections(cfg=cfg, layout=layout, editor=cfg.serve.editor)
    return CorrectionServer(
        layout,
        corrections=corrections,
        review_confidence=cfg.ocr.review_confidence,
        allow_edits=cfg.serve.allow_edits,
        collection_id=cfg.collection.id,
        mirador_url=cfg.serve.mirador_url,
        host=cfg.serve.host,
        port=cfg.serve.port,
        search_url=search_urls(cfg).base,
    )
