"""Commands that look after what was built and what builds it: verify, export-bag, doctor."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli.app import cli_config
from pipeline.cli.options import VOLUME, site_options
from pipeline.cli.summary import MAX_LISTED_FAILURES
from pipeline.errors import ExitCode


@click.command()
@click.argument("volumes", nargs=-1, type=VOLUME)
@click.option(
    "--repair",
    is_flag=True,
    help="Forget damaged or missing derivatives so that the next 'pipeline run' rebuilds "
    "them (masters are never touched).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
@site_options()
@click.pass_context
def verify(ctx: click.Context, volumes: tuple[str, ...], repair: bool, as_json: bool) -> None:
    """Re-hash masters and derivatives of VOLUMES (default: all) against recorded checksums.

    A fixity check: every master recorded at ingest and every derivative recorded when it
    was written is read again. Exit code 1 if any file changed or is missing.
    """
    from pipeline.archive.fixity import verify_workspace
    from pipeline.run.progress import format_duration

    result = verify_workspace(cli_config(ctx), volumes, repair=repair)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2, sort_keys=True))
    for problem in result.problems[:MAX_LISTED_FAILURES]:
        click.echo(f"error: {problem.line()}", err=True)
    if len(result.problems) > MAX_LISTED_FAILURES:
        click.echo(f"... and {len(result.problems) - MAX_LISTED_FAILURES} more", err=True)
    for note in result.notes[:MAX_LISTED_FAILURES]:
        click.echo(f"note: {note}", err=True)
    for forgotten in result.forgotten:
        click.echo(f"forgotten: {forgotten} (the next 'pipeline run' rebuilds it)", err=True)
    click.echo(
        f"verified: {result.masters} masters and {result.derivatives} derivative files in "
        f"{result.volume_count} volume(s): {len(result.problems)} problem(s) in "
        f"{format_duration(result.duration_s)}",
        err=True,
    )
    ctx.exit(int(ExitCode.PAGES_FAILED if result.problems else ExitCode.OK))


@click.command("export-bag")
@click.argument("volume", type=VOLUME)
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--tiles/--no-tiles", default=None, help="Include tile pyramids (bag.tiles).")
@click.option(
    "--source-organization",
    metavar="NAME",
    help="bag-info Source-Organization (bag.source_organization; default: the collection "
    "provider's label).",
)
@site_options(built=True)
@click.pass_context
def export_bag(
    ctx: click.Context, volume: str, dest: Path, tiles: bool | None, source_organization: str | None
) -> None:
    """Write a BagIt bag of finished VOLUME to DEST: masters, derivatives, report.

    Files are checked against their recorded checksums on the way in; the bag carries SHA-256
    and SHA-512 manifests. DEST must be a new folder. Warns when bag-info.txt would lack a
    Source-Organization or record a manifest URL of this machine (http://127.0.0.1:...).
    """
    from pipeline.archive.bag import export_bag as make_bag

    if source_organization is not None:
        ctx.obj["extra"] = {"bag": {"source_organization": source_organization}}
    result = make_bag(cli_config(ctx), volume, dest, tiles=tiles)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    what = "with tiles" if result.tiles else "without tiles"
    click.echo(
        f"bag written: {result.path} ({result.files} files, {result.bytes / 1e6:.1f} MB, "
        f"{what}; sha256 and sha512 manifests)",
        err=True,
    )


@click.command()
@click.option(
    "--scheduler",
    metavar="ADDR",
    help="Also check every worker of this Dask scheduler (default: run.scheduler).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@site_options()
@click.pass_context
def doctor(ctx: click.Context, scheduler: str | None, as_json: bool) -> None:
    """Check this machine (and every worker of a Dask cluster): libvips, tesseract, languages.

    Prints the versions each machine runs; exits with 3 if a tool, a configured language or a
    folder is missing anywhere.
    """
    from pipeline.run.doctor import check, describe

    cfg = cli_config(ctx)
    result = check(cfg, scheduler=scheduler or cfg.run.scheduler)
    facts, problems = describe(result)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for line in facts:
            click.echo(line)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    machines = len(result["machines"])
    click.echo(f"checked {machines} machine(s): {len(problems)} problem(s)", err=True)
    ctx.exit(int(ExitCode.MISSING_DEPENDENCY if problems else ExitCode.OK))
