"""The click group, the one error boundary and the configuration every command loads."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any

import click

from pipeline import __version__, siteurl
from pipeline.cli.options import BUILT_SITE
from pipeline.config import Config, load_config
from pipeline.errors import ExitCode, PipelineError, prefixed_lines

# The option behind each setting a command line can override, named by errors in its value.
OPTION_NAMES = {
    "site.scans": "--scans",
    "site.catalogue": "--catalogue",
    "site.transcriptions": "--transcriptions",
    "site.out": "--out",
    "site.base_url": "--base-url",
    "run.workers": "--jobs",
    "run.fail_fast": "--fail-fast",
    "run.executor": "--executor",
    "run.scheduler": "--scheduler",
    "manifest.allow_partial": "--allow-partial",
    "publish.threads": "--threads",
    "publish.cors": "--cors",
    "serve.host": "--host",
    "serve.port": "--port",
    "serve.editor": "--editor",
    "serve.allow_edits": "--allow-edits",
    "bag.source_organization": "--source-organization",
}


class PipelineGroup(click.Group):
    """Turns every PipelineError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; translate the library's exceptions at this one boundary."""
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            for line in prefixed_lines("error: ", str(exc)):
                click.echo(line, err=True)
            ctx.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # the one boundary where an unexpected error is caught
            report_bug(ctx, exc)
            ctx.exit(int(ExitCode.INTERNAL))


def _bug_log(ctx: click.Context) -> Path | None:
    """The job log of this invocation's output folder, when it already exists."""
    cfg = ctx.find_root().ensure_object(dict).get("config")
    if cfg is None:
        return None
    log_path = siteurl.layout_for(cfg).log_path
    return log_path if log_path.parent.is_dir() else None


def report_bug(ctx: click.Context, exc: Exception) -> None:
    """Record an unexpected exception's traceback and tell the user, in two lines, it is a bug.

    The traceback goes to the job log when the output folder has one, and to stderr with -v.
    """
    trace = "".join(traceback.format_exception(exc))
    log_path = _bug_log(ctx)
    if log_path is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        try:
            with log_path.open("a", encoding="utf-8") as fh:
                fh.write(f"{stamp} CRITICAL pipeline.cli: internal error\n{trace}")
        except OSError:
            log_path = None
    if ctx.find_root().ensure_object(dict).get("verbose"):
        click.echo(trace, err=True, nl=False)
    click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
    if log_path is not None:
        click.echo(f"this is a bug, please report it with {log_path}", err=True)
    else:
        click.echo("this is a bug, please report it (run with -v to see the traceback)", err=True)


def cli_config(ctx: click.Context) -> Config:
    """Load the configuration once per invocation, with command-line overrides applied.

    When nothing chose a base URL, the one the output folder was built for is used (see
    :mod:`pipeline.siteurl`); commands that read a built site refuse a different one.
    """
    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        site: dict[str, Any] = {}
        for key in ("scans", "transcriptions", "out", "base_url", "catalogue"):
            if obj.get(key) is not None:
                site[key] = obj[key]
        overrides: dict[str, Any] = {"site": site} if site else {}
        overrides.update(obj.get("extra", {}))
        cfg = load_config(obj.get("config_path"), overrides=overrides, option_names=OPTION_NAMES)
        chooser = siteurl.chosen_by(cfg, option=obj.get("base_url"), environ=os.environ)
        if ctx.meta.get(BUILT_SITE):
            siteurl.require_built_for(cfg, chooser)
        obj["config"] = siteurl.settle(cfg, chooser)
    config: Config = obj["config"]
    return config


@click.group(cls=PipelineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: config/default.toml in the current folder).",
)
@click.option("--scans", type=click.Path(file_okay=False, path_type=Path), help="Scans folder.")
@click.option(
    "--transcriptions",
    type=click.Path(file_okay=False, path_type=Path),
    help="Transcriptions folder (default: beside the scans folder).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--catalogue",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Batch sheet (CSV, XLSX) or MARC records describing the volumes (site.catalogue).",
)
@click.option(
    "--base-url",
    help="Public URL the output folder is served at (default: the one it was built for).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    scans: Path | None,
    transcriptions: Path | None,
    out: Path | None,
    catalogue: Path | None,
    base_url: str | None,
    verbose: int,
) -> None:
    """Turn volumes of scans into IIIF collections: tiles, OCR and manifests.

    --config, --scans, --transcriptions, --out, --catalogue, --base-url and -v work before or
    after the command name.
    """
    ctx.ensure_object(dict).update(
        config_path=config_path,
        scans=scans,
        transcriptions=transcriptions,
        out=out,
        catalogue=catalogue,
        base_url=base_url,
        verbose=verbose,
    )
