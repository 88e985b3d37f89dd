"""Commands that build and inspect a site: run, status, check, samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.cli.app import cli_config
from pipeline.cli.options import VOLUME, site_options
from pipeline.errors import ConfigError, ExitCode
from pipeline.records import JobReport


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


def exit_code_for(report: JobReport) -> ExitCode:
    """The exit code of a finished (or interrupted) job."""
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.internal_errors:
        return ExitCode.INTERNAL
    if report.failures or report.input_errors:
        return ExitCode.PAGES_FAILED
    return ExitCode.OK


@click.command()
@click.argument("volumes", nargs=-1, type=VOLUME)
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


@click.command()
@click.argument("volumes", nargs=-1, type=VOLUME)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@site_options()
@click.pass_context
def status(ctx: click.Context, volumes: tuple[str, ...], as_json: bool) -> None:
    """Show, per volume and stage, what is done, failed or pending, and every problem.

    Safe to run while a job is running (it says so); it changes nothing. --json prints the
    same data as the volumes' reports (OUT/.pipeline/reports/<volume>.json). Exits with 1 when
    a page, volume or the collection failed.
    """
    from pipeline.cli.summary import status_failed, status_text
    from pipeline.run.job import status as job_status
    from pipeline.siteurl import layout_for

    cfg = cli_config(ctx)
    data = job_status(cfg, volumes)
    code = ExitCode.PAGES_FAILED if status_failed(data) else ExitCode.OK
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for line in status_text(data, layout_for(cfg)):
            click.echo(line)
    ctx.exit(int(code))


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--volume-id", type=VOLUME, default="sample-001", show_default=True, help="Folder name."
)
@click.option("--pages", type=click.IntRange(1, 10000), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--width", type=click.IntRange(64, 20000), default=1240, show_default=True)
@click.option("--height", type=click.IntRange(64, 30000), default=1754, show_default=True)
@click.option(
    "--ruling",
    # The generator's RULINGS, spelled out so that --help needs no imaging library.
    type=click.Choice(("none", "light", "dark")),
    default="none",
    show_default=True,
    help="Notebook ruling printed under the text, 8 mm apart (drifting through the lines).",
)
def samples(
    dest: Path, volume_id: str, pages: int, seed: int, width: int, height: int, ruling: str
) -> None:
    """Generate a volume of synthetic scanned pages (with ground truth) under DEST."""
    from pipeline.samples.generate import generate_volume

    made = generate_volume(
        dest,
        volume_id=volume_id,
        pages=pages,
        seed=seed,
        width=width,
        height=height,
        ruling=ruling,
    )
    click.echo(f"wrote {len(made)} page(s) to {dest / volume_id}", err=True)


@click.command()
@click.argument("volumes", nargs=-1, type=VOLUME)
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
    report = replay_output(layout, volumes)
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
