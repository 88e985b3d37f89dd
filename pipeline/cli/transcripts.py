"""Commands that take text out for people and models: review-export, export-gt."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.app import cli_config
from pipeline.cli.options import VOLUME, site_options
from pipeline.cli.summary import MAX_LISTED_FAILURES
from pipeline.errors import ExitCode


def _problems(problems: tuple[str, ...]) -> None:
    for problem in problems[:MAX_LISTED_FAILURES]:
        click.echo(f"error: {problem}", err=True)
    if len(problems) > MAX_LISTED_FAILURES:
        click.echo(f"... and {len(problems) - MAX_LISTED_FAILURES} more", err=True)


@click.command("review-export")
@click.argument("volume", type=VOLUME)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--all", "all_pages", is_flag=True, help="Every page, not only those held.")
@site_options(built=True)
@click.pass_context
def review_export(ctx: click.Context, volume: str, dest: Path, all_pages: bool) -> None:
    """Write VOLUME's pages held for review to DEST for eScriptorium or Transkribus.

    Each page becomes DEST/PAGE.jpg and DEST/page/PAGE.xml (PAGE XML 2019 with the OCR
    lines, their boxes and confidence): a folder Transkribus opens as a document; in
    eScriptorium, upload the images, then import page/ (zipped) as Transcriptions (XML).
    Their corrected PAGE export goes into transcriptions/VOLUME/ as it is.
    """
    from pipeline.archive.review_export import PAGE_FOLDER, export_review

    result = export_review(cli_config(ctx), volume, dest, all_pages=all_pages)
    _problems(result.problems)
    if not result.pages and not result.problems and not all_pages:
        click.echo(f"no page of {volume} is held for review (--all exports every page)", err=True)
    else:
        click.echo(
            f"exported {len(result.pages)} page(s) to {result.folder}: images and "
            f"{PAGE_FOLDER}/*.xml",
            err=True,
        )
    ctx.exit(int(ExitCode.PAGES_FAILED if result.problems else ExitCode.OK))


@click.command("export-gt")
@click.argument("volume", type=VOLUME)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@site_options(built=True)
@click.pass_context
def export_gt(ctx: click.Context, volume: str, dest: Path) -> None:
    """Write line images and texts of VOLUME's human-transcribed pages to DEST, for training.

    One grey PNG per line (the master cut along the line's polygon, white outside it) and its
    text in a .gt.txt of the same stem, as tesstrain and kraken's ketos train read them, plus
    DEST/index.csv (image, text, page, line, source). Run 'pipeline run' after changing
    transcriptions: the export reads what the last run read.
    """
    from pipeline.archive.gt_export import INDEX
    from pipeline.archive.gt_export import export_gt as write_gt

    result = write_gt(cli_config(ctx), volume, dest)
    for note in result.notes[:MAX_LISTED_FAILURES]:
        click.echo(f"note: {note}", err=True)
    _problems(result.problems)
    if not result.pages and not result.problems:
        click.echo(f"no page of {volume} has a human transcription to export", err=True)
    else:
        click.echo(
            f"exported {result.lines} line(s) of {len(result.pages)} page(s) to {result.folder} "
            f"(*.png, *.gt.txt, {INDEX})",
            err=True,
        )
    ctx.exit(int(ExitCode.PAGES_FAILED if result.problems else ExitCode.OK))
