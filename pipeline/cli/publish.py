"""Commands that take a built output folder to readers: publish, cors, serve."""

from __future__ import annotations

import click

from pipeline.cli.app import cli_config
from pipeline.cli.options import VOLUME, site_options
from pipeline.cli.summary import MAX_LISTED_FAILURES
from pipeline.errors import ExitCode


@click.command()
@click.argument("volumes", nargs=-1, type=VOLUME)
@click.option("--to", "target", help="s3://BUCKET[/PREFIX] or a folder (publish.target).")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded and deleted only.")
@click.option(
    "--delete",
    is_flag=True,
    help="Remove objects of the published volumes that no longer belong (try --dry-run first).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Ask the target for every URL a viewer requests (a HEAD each), for every volume.",
)
@click.option("--cors", is_flag=True, help="Also set the bucket CORS rule viewers need.")
@click.option("-t", "--threads", type=click.IntRange(1, 256), help="Requests in flight.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@site_options(built=True)
@click.pass_context
def publish(
    ctx: click.Context,
    volumes: tuple[str, ...],
    target: str | None,
    dry_run: bool,
    delete: bool,
    verify: bool,
    cors: bool,
    threads: int | None,
    quiet: bool,
) -> None:
    """Publish built VOLUMES (default: all) to S3 or a folder: files, viewer check, manifests."""
    from pipeline.publish.job import publish as publish_job
    from pipeline.publish.summary import plan_lines, summary_lines
    from pipeline.run.progress import make_reporter, setup_logging
    from pipeline.siteurl import layout_for

    extra = {k: v for k, v in (("threads", threads), ("cors", cors or None)) if v is not None}
    ctx.obj["extra"] = {"publish": extra} if extra else {}
    cfg = cli_config(ctx)
    setup_logging(verbose=ctx.obj["verbose"], log_path=layout_for(cfg).log_path)
    report = publish_job(
        cfg,
        to=target,
        volumes=volumes,
        dry_run=dry_run,
        delete=delete,
        verify=verify,
        reporter=make_reporter(quiet=quiet, log_lines=False),
    )
    for line in plan_lines(report):
        click.echo(line)
    for line in summary_lines(report, max_failures=MAX_LISTED_FAILURES):
        click.echo(line, err=True)
    if report.interrupted:
        ctx.exit(int(ExitCode.INTERRUPTED))
    ctx.exit(int(ExitCode.PAGES_FAILED if report.failures else ExitCode.OK))


@click.command()
@click.option("--to", "target", help="s3://BUCKET (default: publish.target).")
@site_options()
@click.pass_context
def cors(ctx: click.Context, target: str | None) -> None:
    """Set the bucket CORS rule viewers need: GET and HEAD from any origin."""
    from pipeline.publish.job import configure_cors

    where = configure_cors(cli_config(ctx), to=target)
    click.echo(f"CORS rule set on {where}: GET, HEAD from any origin", err=True)


@click.command()
@click.option("--host", help="Address to listen on (serve.host, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (serve.port, default 8000).")
@click.option("--editor", metavar="NAME", help="Who the correction page saves as (serve.editor).")
@click.option(
    "--allow-edits",
    is_flag=True,
    default=None,
    help="Let the correction page save on an address other than 127.0.0.1 (serve.allow_edits).",
)
@site_options(built=True)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    editor: str | None,
    allow_edits: bool | None,
) -> None:
    """Preview the output folder in Mirador before publishing (CORS, IIIF content types).

    /_correct/VOLUME lists the pages (those held for review first), each with a correction
    page: its lines over the image, editable; Save writes transcriptions/VOLUME/PAGE.xml.
    """
    from pipeline.publish.correct import CORRECT_PREFIX, correction_server, is_loopback
    from pipeline.publish.serve import UV_PREFIX, VIEW_PREFIX
    from pipeline.siteurl import layout_for

    given = (("host", host), ("port", port), ("editor", editor), ("allow_edits", allow_edits))
    extra = {k: v for k, v in given if v is not None}
    ctx.obj["extra"] = {"serve": extra} if extra else {}
    cfg = cli_config(ctx)
    layout = layout_for(cfg)
    server = correction_server(cfg, layout)
    if not is_loopback(cfg.serve.host):
        click.echo(f"warning: on {cfg.serve.host}, others can read {layout.out}", err=True)
    lines = [
        f"serving {layout.out} at {server.url}",
        f"Mirador: {server.url} (the collection), {server.url}{VIEW_PREFIX}/VOLUME (one volume)",
        f"Corrections: {server.url}{CORRECT_PREFIX}/VOLUME"
        + ("" if server.edits else " (read-only: --allow-edits to save)"),
    ]
    if server.has_uv:
        lines.append(f"Universal Viewer: {server.url}{UV_PREFIX}/VOLUME")
    page = server.url + layout.rel(layout.search_page_path)
    lines.append(f"Search: {page} (services under {server.url}{server.search_local})")
    click.echo("\n".join([*lines, "Ctrl-C to stop"]), err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()
