"""The volumes a job works on: each selected folder read, or failed with one line."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.input.catalogue import Catalogue, entry_of
from pipeline.input.volumes import Volume, find_volumes, load_volume
from pipeline.records import StageRecord
from pipeline.siteurl import volume_collision
from pipeline.stages import STAGES, AnyStage


def master_reader() -> AnyStage:
    """The stage that reads the masters: a volume that cannot be read at all is its failure."""
    return next(s for s in STAGES if s.reads_master)


def load_volumes(
    cfg: Config, selected: Sequence[str], catalogue: Catalogue | None = None
) -> tuple[list[Volume], list[StageRecord]]:
    """Read every selected volume; a broken descriptor (or catalogue row) fails its volume.

    So does a volume id that another part of the site holds (:func:`volume_collision`).

    Returns:
        The volumes, and a failed record (of the stage reading the masters) for each volume
        that cannot be read.

    Raises:
        JobInputError: The scans folder is missing or empty.
    """
    volumes: list[Volume] = []
    failures: list[StageRecord] = []
    for folder in find_volumes(cfg.site.scans, tuple(selected)):
        try:
            collision = volume_collision(cfg, folder.name)
            if collision is not None:
                raise JobInputError(f"{folder}: {collision}")
            entry = entry_of(catalogue, folder.name)
            volumes.append(
                load_volume(
                    folder, cfg.ocr.languages, entry, transcriptions=cfg.site.transcriptions_dir
                )
            )
        except (ConfigError, JobInputError) as exc:
            failures.append(
                StageRecord(
                    stage=master_reader().name,
                    volume=folder.name,
                    page="",
                    status="failed",
                    error_type=type(exc).__name__,
                    error=str(exc),
                )
            )
    return volumes, failures
