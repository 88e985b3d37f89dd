"""The collection's search page: a query box, hits grouped by volume, Mirador at the hit.

One HTML document with its script inline. It asks the collection's Search 2.0 service
(``search.url``), lists the hits of every volume under the volume's label with the matched
text marked, and each hit links to the same page with the manifest and canvas added, where
Mirador opens that canvas with the query already run in its search panel (the window's
``canvasId`` and ``defaultSearchQuery``), so the hit's box is highlighted.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files

#: Mirador for a published page when no copy is configured: the npm release the viewer
#: pages are tested with (viewer/package.json), from a public CDN.
MIRADOR_CDN = "https://cdn.jsdelivr.net/npm/mirador@4.0.0/dist/mirador.min.js"
#: Search answers followed (100 hits each) before the page says it shows only part.
MAX_PAGES = 10
TITLE = "검색 / Search"


def search_page(*, search_url: str, mirador_js: str, title: str = TITLE) -> str:
    """Return the search page.

    Args:
        search_url: The collection's Search 2.0 service.
        mirador_js: The URL of ``mirador.min.js``.
        title: The page's title and heading.

    Returns:
        The HTML document (UTF-8 text).

    """
    template = files("pipeline.search").joinpath("page.html").read_text(encoding="utf-8")
    config = json.dumps({"search": search_url, "maxPages": MAX_PAGES}, ensure_ascii=False)
    return (
        template.replace("__TITLE__", html.escape(title))
        .replace("__MIRADOR_JS__", html.escape(mirador_js, quote=True))
        .replace("__CONFIG__", config.replace("</", "<\\/"))
    )
