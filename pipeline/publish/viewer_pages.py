"""Viewer pages: Mirador 4 and Universal Viewer 4 opening our manifests, as HTML documents."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KOREAN = "ko"
# What Mirador 4 calls Korean in its language menu and translations.
MIRADOR_KOREAN = "kr"

# Mirador's default annotation motivations plus the one OCR lines use.
MOTIVATIONS = (
    "oa:commenting",
    "oa:tagging",
    "sc:painting",
    "commenting",
    "tagging",
    "supplementing",
)


def mirador_page(
    *,
    resources: Sequence[str],
    mirador_js: str,
    title: str = "Preview",
    options: Mapping[str, Any] | None = None,
    korean: Mapping[str, Any] | None = None,
) -> str:
    """Write a page that opens manifests (or collections) in Mirador 4, one window each.

    Args:
        resources: Manifest or collection URLs.
        mirador_js: URL of ``mirador.min.js`` (from the npm package or a configured copy).
        title: The page title.
        options: Extra Mirador configuration, merged over ours (e.g. ``{"window":
            {"defaultView": "single"}}``).
        korean: Mirador's Korean UI strings (:func:`mirador_korean`). Mirador names its
            Korean ``kr``, so with it chosen, labels tagged ``ko`` (BCP 47, as in our
            manifests) show in English; given these strings, the page offers Korean as ``ko``
            instead.

    Returns:
        The HTML document.

    """
    config: dict[str, Any] = {
        "id": "viewer",
        "windows": [{"manifestId": url} for url in resources],
        "annotations": {"filteredMotivations": list(MOTIVATIONS)},
        "window": {"sideBarOpenByDefault": True, "defaultSideBarPanel": "info"},
    }
    if korean is not None:
        config["translations"] = {KOREAN: dict(korean)}
    for key, value in (options or {}).items():
        if isinstance(value, Mapping) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    config_js = _script_json(json.dumps(config, ensure_ascii=False, indent=2))
    rename = _RENAME_KOREAN if korean is not None else ""
    return _html_page(
        title,
        head="<style>html, body { margin: 0; height: 100%; } "
        "#viewer { position: absolute; inset: 0; }</style>",
        body=f"""<div id="viewer"></div>
<script src="{html.escape(mirador_js, quote=True)}"></script>
<script>
window.miradorInstance = Mirador.viewer({config_js});{rename}
</script>""",
    )


def _script_json(text: str) -> str:
    """JSON to put inside a script element: "</" would end it early, and JSON may escape "/"."""
    return text.replace("</", "<\\/")


def _html_page(title: str, *, head: str, body: str) -> str:
    """The HTML document of a viewer page: ``head`` and ``body`` are inserted as they are."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""


# Mirador's configuration is merged into its defaults, which list Korean as "kr"; a merge cannot
# drop a key, so the page swaps "kr" for "ko" in place (same menu position) once it has started.
_RENAME_KOREAN = f"""
(function () {{
  if (typeof Mirador.setConfig !== "function") return;  // another Mirador (serve.mirador_url)
  var store = window.miradorInstance.store;
  var config = store.getState().config;
  var languages = {{}};
  Object.keys(config.availableLanguages).forEach(function (key) {{
    languages[key === "{MIRADOR_KOREAN}" ? "{KOREAN}" : key] = config.availableLanguages[key];
  }});
  store.dispatch(Mirador.setConfig(Object.assign({{}}, config, {{
    availableLanguages: languages,
    language: config.language === "{MIRADOR_KOREAN}" ? "{KOREAN}" : config.language
  }})));
}})();"""


def uv_page(*, manifest: str, uv_dist: str, title: str = "Preview") -> str:
    """Write a page that opens one manifest in Universal Viewer 4 (its ``umd`` build).

    Args:
        manifest: The manifest URL.
        uv_dist: URL of the ``universalviewer`` package's ``dist`` folder, with a trailing slash.
        title: The page title.

    Returns:
        The HTML document.

    """
    data = _script_json(json.dumps({"manifest": manifest, "embedded": True}))
    dist = html.escape(uv_dist, quote=True)
    return _html_page(
        title,
        head=f"""<link rel="stylesheet" href="{dist}uv.css">
<style>html, body {{ margin: 0; height: 100%; }} #uv {{ width: 100vw; height: 100vh; }}</style>""",
        body=f"""<div id="uv" class="uv"></div>
<script src="{dist}umd/UV.js"></script>
<script>
window.uvInstance = UV.init("uv", {data});
</script>""",
    )


# Mirador's Korean UI strings, in the npm package beside its dist folder.
MIRADOR_KOREAN_STRINGS = Path("src", "locales", MIRADOR_KOREAN, "translation.json")


def mirador_korean(dist: Path) -> dict[str, Any] | None:
    """Return Mirador's Korean UI strings from the installed npm package, if it is there.

    Args:
        dist: The npm package's ``dist`` folder.

    Returns:
        The strings, or ``None`` when the package (or that file of it) is not installed, as
        when ``serve.mirador_url`` loads Mirador from elsewhere: Korean then stays ``kr``.

    """
    path = dist.parent / MIRADOR_KOREAN_STRINGS
    try:
        strings = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("%s: cannot read Mirador's Korean strings (%s); Korean stays 'kr'", path, exc)
        return None
    table = strings.get("translation") if isinstance(strings, dict) else None
    return table if isinstance(table, dict) else None
