"""Command-line interface: parses arguments, calls the runner, reports, maps to exit codes.

:mod:`pipeline.cli.app` holds the group and its error boundary; each command family lives in
its own module and is added to the group here, so no command module imports this one.
"""

from __future__ import annotations

from pipeline.cli import archive, publish, run, transcripts
from pipeline.cli.app import cli

for _command in (
    run.run,
    run.status,
    run.samples,
    run.check,
    publish.publish,
    publish.cors,
    publish.serve,
    archive.verify,
    archive.export_bag,
    archive.doctor,
    transcripts.review_export,
    transcripts.export_gt,
):
    cli.add_command(_command)

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pipeline")


if __name__ == "__main__":
    main()
