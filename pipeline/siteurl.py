"""The base URL an output folder was built for: recorded by each job, used when none is given.

Tiles (``info.json``), annotations, manifests and the collection all hold absolute URLs, so an
output folder is built for one base URL. Each job records it in ``OUT/.pipeline/site.json``. A
later command for which nobody chose a base URL (no ``--base-url``, no
``PIPELINE_SITE__BASE_URL``, none in the configuration file but the built-in default) uses the
recorded one instead of the default, so a plain ``pipeline run``, ``check`` or ``publish``
neither rebuilds the site for the preview address nor checks it against that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pipeline.config import ENV_PREFIX, Config, SiteConfig
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import write_text_atomic
from pipeline.layout import Layout
from pipeline.layout.search import KINDS, SearchUrls

OPTION = "--base-url"
VARIABLE = f"{ENV_PREFIX}SITE__BASE_URL"
CONFIG_FILE = "the configuration file"
DEFAULT: str = SiteConfig.model_fields["base_url"].default


def layout_for(cfg: Config) -> Layout:
    """The output layout of a configuration."""
    return Layout(out=cfg.site.out.absolute(), base_url=cfg.site.base_url)


def chosen_by(cfg: Config, *, option: str | None, environ: Mapping[str, str]) -> str | None:
    """Name what chose the configured base URL, for messages; ``None`` when nothing did.

    The command line beats the variable and the variable beats the configuration file. A file
    that gives the built-in default does not count: ``config/default.toml`` spells out every
    default, and it would otherwise override every recorded base URL.

    Args:
        cfg: The loaded configuration.
        option: The value of ``--base-url``, if given.
        environ: The environment the configuration was read from.

    Returns:
        ``--base-url``, the variable's name, ``the configuration file`` or ``None``.
    """
    if option is not None:
        return OPTION
    if any(n.startswith(ENV_PREFIX) and n.upper() == VARIABLE for n in environ):
        return VARIABLE
    if "base_url" in cfg.site.model_fields_set and cfg.site.base_url != DEFAULT:
        return CONFIG_FILE
    return None


def recorded(out: Path) -> str | None:
    """Return the base URL the output folder ``out`` was last built for, if one is recorded.

    Raises:
        JobInputError: The record is unreadable or damaged.
    """
    path = Layout(out=out, base_url=DEFAULT).site_record_path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        raise JobInputError(
            f"{path}: cannot read the recorded base URL ({exc}); delete the file and give {OPTION}"
        ) from None
    url = data.get("base_url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        raise JobInputError(f"{path}: no base_url recorded; delete the file and give {OPTION}")
    return url


def record(layout: Layout) -> str | None:
    """Record ``layout.base_url`` as the one the output folder is built for.

    Args:
        layout: The output layout (its folder must exist).

    Returns:
        The base URL recorded before, when it was another one.
    """
    previous = recorded(layout.out)
    if previous != layout.base_url:
        text = json.dumps({"base_url": layout.base_url}, indent=2, sort_keys=True) + "\n"
        write_text_atomic(layout.site_record_path, text)
    return previous if previous not in (None, layout.base_url) else None


def settle(cfg: Config, chooser: str | None) -> Config:
    """Return ``cfg`` with the recorded base URL when nothing chose one (see :func:`chosen_by`).

    Args:
        cfg: The loaded configuration.
        chooser: What chose its base URL, or ``None``.

    Returns:
        The configuration to run with.
    """
    if chooser is not None:
        return cfg
    url = recorded(cfg.site.out.absolute())
    if url is None or url == cfg.site.base_url:
        return cfg
    return cfg.model_copy(update={"site": cfg.site.model_copy(update={"base_url": url})})


def require_built_for(cfg: Config, chooser: str | None) -> None:
    """Refuse a chosen base URL other than the one the output folder was built for.

    Commands that read a built site (check, publish, serve, export-bag) would otherwise find
    every URL in it wrong.

    Raises:
        ConfigError: Naming what chose the URL, the recorded one and how to rebuild.
    """
    url = cfg.site.base_url
    out = cfg.site.out.absolute()
    built = recorded(out)
    if chooser is None or built is None or built == url:
        return
    raise ConfigError(
        f"{chooser}: {out} was built for {built}, not {url}; rebuild it for the new URL "
        f"first ('pipeline run --base-url {url}'), or leave the base URL unset to use the "
        "recorded one"
    )


def change_note(previous: str, current: str, stages: list[str]) -> str:
    """Return the warning a job gives when it rebuilds a site for a new base URL."""
    which = ", ".join(stages) if stages else "none selected"
    return (
        f"base URL changes from {previous} to {current}: every output that holds URLs is "
        f"rebuilt (stages: {which}); the other stages' results are kept"
    )


def search_urls(cfg: Config) -> SearchUrls:
    """The search services' URLs of a configuration (``search.url``, else under the site)."""
    return SearchUrls.under(cfg.site.base_url, cfg.search.url)


def reserved_volume_ids(cfg: Config) -> dict[str, str]:
    """The names a volume folder cannot take, because another part of the site sits there.

    A volume is published at ``<site.base_url><volume>/``; beside the volumes sit the
    collection document, the search page and, when ``search.url`` lies under the base URL, the
    search services (a volume's at ``<search.url><volume>/search1``, the collection's at
    ``<search.url>search2``). A volume folder of one of those names would be answered by two
    things at one URL.

    Args:
        cfg: The configuration.

    Returns:
        Each reserved name, with what holds it (naming the setting that decides it).

    """
    layout = layout_for(cfg)
    reserved = {
        layout.rel(layout.collection_path(cfg.collection.id)): (
            f"the collection document (collection.id = {cfg.collection.id!r})"
        ),
        layout.rel(layout.search_page_path): "the search page",
    }
    urls = search_urls(cfg)
    where = f"search.url = {urls.base}" + ("" if cfg.search.url else ", the default")
    rel = layout.rel_of_url(urls.base) if urls.base != cfg.site.base_url else ""
    if rel:
        reserved[rel.split("/", 1)[0]] = f"the search services ({where})"
    elif rel is not None:
        for kind in KINDS:
            reserved[f"{kind}2"] = f"the collection's search service ({where})"
    return reserved


def volume_collision(cfg: Config, volume: str) -> str | None:
    """Say why a volume id collides with the site's other URLs, or return ``None``.

    Args:
        cfg: The configuration.
        volume: The volume id (a folder name under the scans folder).

    Returns:
        ``volume 'search': its URL ... is taken by ...: rename the folder``, naming the
        setting that decides it; or ``None``.

    """
    holder = reserved_volume_ids(cfg).get(volume)
    if holder is None:
        return None
    return (
        f"volume {volume!r}: its URL {cfg.site.base_url}{volume}/ is taken by {holder}: "
        "rename the folder" + (", or set search.url elsewhere" if "search.url" in holder else "")
    )
