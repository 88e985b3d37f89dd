"""Command-line interface: parses arguments, calls the runner, reports, maps to exit codes."""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from pathlib import Path
from typing import Any

import click

from pipeline import __version__, siteurl
from pipeline.cli.options import BUILT_SITE, site_options
from pipeline.cli.summary import MAX_LISTED_FAILURES as MAX_LISTED_FAILURES
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, ExitCode, PipelineError, prefixed_lines
from pipeline.layout import SAFE_ID
from pipeline.records import JobReport

log = logging.getLogger(__name__)

# The option behind each setting a command line can override, named by errors in its value.
OPTION_NAMES = {
    "site.scans": "--scans",
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
    from pipeline.siteurl import layout_for

    log_path = layout_for(cfg).log_path
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
        for key in ("scans", "out", "base_url"):
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


def check_volume_ids(volumes: tuple[str, ...], option: str = "") -> tuple[str, ...]:
    """Refuse volume ids that are not plain folder names before anything joins them to a path.

    Raises:
        ConfigError: Naming the option (if any) and the id.
    """
    for vid in volumes:
        if not SAFE_ID.match(vid) or vid in {".", ".."}:
            where = f"{option}: " if option else ""
            raise ConfigError(
                f"{where}volume {vid!r}: not a volume id (a folder name of letters, digits, "
                "'.', '_' and '-'; no paths)"
            )
    return volumes


def exit_code_for(report: JobReport) -> ExitCode:
    """The exit code of a finished (or interrupted) job."""
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.internal_errors:
        return ExitCode.INTERNAL
    if report.failures:
        return ExitCode.PAGES_FAILED
    return ExitCode.OK


@click.group(cls=PipelineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: config/default.toml in the current folder).",
)
@click.option("--scans", type=click.Path(file_okay=False, path_type=Path), help="Scans folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
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
    out: Path | None,
    base_url: str | None,
    verbose: int,
) -> None:
    """Turn volumes of scans into IIIF collections: tiles, OCR and manifests.

    --config, --scans, --out, --base-url and -v work before or after the command name.
    """
    ctx.ensure_object(dict).update(
        config_path=config_path, scans=scans, out=out, base_url=base_url, verbose=verbose
    )


def run_overrides(
    jobs: int | None,
    fail_fast: bool,
    allow_partial: bool,
    executor: str | None,
    scheduler: str | None,
) -> dict[str, Any]:
    """The settings the options of ``pipeline run`` override, nested by section.

    Raises:
        ConfigError: ``--executor local`` together with ``--scheduler``.
    """
    if executor == "local" and scheduler is not None:
        raise ConfigError(
            "--scheduler: a Dask scheduler needs --executor dask (or no --executor); "
            "--executor local runs on this machine only"
        )
    extra: dict[str, Any] = {}
    if jobs is not None or fail_fast:
        pairs = (("workers", jobs), ("fail_fast", fail_fast or None))
        extra["run"] = {k: v for k, v in pairs if v is not None}
    if executor is not None or scheduler is not None:
        cluster = {"executor": executor or "dask", "scheduler": scheduler}
        extra.setdefault("run", {}).update({k: v for k, v in cluster.items() if v is not None})
    if allow_partial:
        extra["manifest"] = {"allow_partial": True}
    return extra


@cli.command()
@click.argument("volumes", nargs=-1)
@click.option("--stages", help="Comma-separated stages to run (default: all).")
@click.option(
    "-j", "--jobs", type=click.IntRange(0, 512), help="Worker processes (0: one per core)."
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed page.")
@click.option("--allow-partial", is_flag=True, help="Build manifests of volumes with failed pages.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    help="Where pages run: 'local' process pool or a 'dask' cluster (run.executor).",
)
@click.option(
    "--scheduler",
    metavar="ADDR",
    help="Dask scheduler address, e.g. tcp://host:8786 (run.scheduler; implies --executor dask).",
)
@click.option("--json", "as_json", is_flag=True, help="The run summary as JSON on stdout.")
@site_options()
@click.pass_context
def run(
    ctx: click.Context,
    volumes: tuple[str, ...],
    stages: str | None,
    jobs: int | None,
    fail_fast: bool,
    allow_partial: bool,
    quiet: bool,
    executor: str | None,
    scheduler: str | None,
    as_json: bool,
) -> None:
    """Run the pipeline over VOLUMES (default: every volume in the scans folder).

    Without a terminal, -v logs a line per finished page and stage. --json prints the run
    summary (times in ISO 8601, failures, failed volumes' reports, pages held for review).
    """
    from pipeline.cli.summary import run_document, run_lines
    from pipeline.run.job import run_job
    from pipeline.run.progress import format_duration, make_reporter, setup_logging
    from pipeline.siteurl import layout_for

    ctx.obj["extra"] = run_overrides(jobs, fail_fast, allow_partial, executor, scheduler)
    cfg = cli_config(ctx)
    layout = layout_for(cfg)
    setup_logging(verbose=ctx.obj["verbose"], log_path=layout.log_path)
    names = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    report = run_job(cfg, volumes=volumes, stages=names, reporter=make_reporter(quiet=quiet))
    code = exit_code_for(report)
    doc = run_document(report, base_url=layout.base_url, log_path=layout.log_path, exit_code=code)
    for line in run_lines(doc, format_duration(report.duration_s)):
        click.echo(line, err=True)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    ctx.exit(int(code))


@cli.command()
@click.argument("volumes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@site_options()
@click.pass_context
def status(ctx: click.Context, volumes: tuple[str, ...], as_json: bool) -> None:
    """Show, per volume and stage, what is done, failed or pending, and every problem.

    Safe to run while a job is running (it says so); it changes nothing. --json prints the
    same data as the volumes' reports (OUT/.pipeline/reports/<volume>.json). Exits with 1 when
    a page, volume or the collection failed.
    """
    from pipeline.archive.report import html_file, report_file
    from pipeline.cli.summary import collection_lines, status_failed, status_lines
    from pipeline.run.job import status as job_status
    from pipeline.siteurl import layout_for

    cfg = cli_config(ctx)
    data = job_status(cfg, volumes)
    code = ExitCode.PAGES_FAILED if status_failed(data) else ExitCode.OK
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        ctx.exit(int(code))
    layout = layout_for(cfg)
    if data["running"]:
        click.echo(f"a job is running on {layout.out} ({data['running']})")
    for vol in data["volumes"]:
        for line in status_lines(vol):
            click.echo(line)
        html = html_file(report_file(layout, vol["volume"]))
        if html.is_file():
            click.echo(f"  report: {html}")
    for line in collection_lines(data["collection"]):
        click.echo(line)
    ctx.exit(int(code))


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--volume-id", default="sample-001", show_default=True, help="Folder name.")
@click.option("--pages", type=click.IntRange(1, 10000), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--width", type=click.IntRange(64, 20000), default=1240, show_default=True)
@click.option("--height", type=click.IntRange(64, 30000), default=1754, show_default=True)
def samples(dest: Path, volume_id: str, pages: int, seed: int, width: int, height: int) -> None:
    """Generate a volume of synthetic scanned pages (with ground truth) under DEST."""
    from pipeline.samples.generate import generate_volume

    check_volume_ids((volume_id,), "--volume-id")
    made = generate_volume(
        dest, volume_id=volume_id, pages=pages, seed=seed, width=width, height=height
    )
    click.echo(f"wrote {len(made)} page(s) to {dest / volume_id}", err=True)


@cli.command()
@click.argument("volumes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="The result as JSON on stdout.")
@site_options(built=True)
@click.pass_context
def check(ctx: click.Context, volumes: tuple[str, ...], as_json: bool) -> None:
    """Replay the requests IIIF viewers make against the built image services of VOLUMES.

    Prints every URL that Mirador/OpenSeadragon or a validator would request in vain, one per
    line on stdout (with --json: one document listing them); exits with 1 if there is any.
    """
    from pipeline.cli.summary import check_document, check_line
    from pipeline.iiif.image import replay_output
    from pipeline.siteurl import layout_for

    layout = layout_for(cli_config(ctx))
    report = replay_output(layout, check_volume_ids(volumes))
    if as_json:
        doc = check_document(report, base_url=layout.base_url)
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for url in report.missing:
            click.echo(url)
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(check_line(report), err=True)
    bad = report.missing or report.problems
    ctx.exit(int(ExitCode.PAGES_FAILED if bad else ExitCode.OK))


# The other commands register themselves on the group defined above.
from pipeline.cli import archive, publish  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pipeline")


if __name__ == "__main__":
    main()
