"""Options every command shares (--config/--scans/--out/--base-url/-v) and the VOLUME type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.errors import ConfigError, PipelineError
from pipeline.layout import check_volume_id

F = TypeVar("F", bound=Callable[..., Any])
# Marks a command that reads a built site: a base URL other than the one it was built for is
# refused rather than reported as a broken site.
BUILT_SITE = "pipeline.built_site"


def _site_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Store a site option given after the command; it wins over the same one given before."""
    obj = ctx.ensure_object(dict)
    if param.name == "verbose":
        obj["verbose"] = obj.get("verbose", 0) + value
    elif value is not None:
        obj[str(param.name)] = value


def _mark_built_site(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    ctx.meta[BUILT_SITE] = True
    _site_option(ctx, param, value)


def site_options(*, built: bool = False) -> Callable[[F], F]:
    """Accept the group's site options (--config, --scans, ...) after the command name too.

    Args:
        built: The command reads a built site (check, publish, serve, export-bag): a base URL
            other than the one the site was built for is refused.

    Returns:
        A decorator adding the six options (listed in the command's --help).
    """
    store = _mark_built_site if built else _site_option
    options = (
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            callback=store,
            help="Configuration file (default: config/default.toml in the current folder).",
        ),
        click.option(
            "--scans",
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            callback=store,
            help="Scans folder (site.scans).",
        ),
        click.option(
            "--transcriptions",
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            callback=store,
            help="Transcriptions folder (site.transcriptions; default: beside the scans folder).",
        ),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            callback=store,
            help="Output folder (site.out).",
        ),
        click.option(
            "--base-url",
            expose_value=False,
            callback=store,
            help="Public URL the output folder is served at (default: the one it was built for).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=store,
            help="More log output (-vv for debug).",
        ),
    )

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


class VolumeId(click.ParamType[str]):
    """A volume id on the command line, checked before anything joins it to a path.

    A bad one is a usage error (exit 2) reported by the CLI's error boundary in one line that
    names the option (if it is one) and the value.
    """

    name = "volume"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the id unchanged, or raise :class:`ConfigError` saying what is wrong."""
        try:
            return check_volume_id(str(value))
        except (PipelineError, ValueError) as exc:
            where = f"{param.opts[0]}: " if isinstance(param, click.Option) else ""
            raise ConfigError(f"{where}{exc}") from None


VOLUME = VolumeId()
