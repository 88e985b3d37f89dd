"""The job's catalogue: read once, its problems said once, its entries handed to the volumes."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.input.catalogue import Catalogue
from pipeline.input.catalogue.collection import collection_settings

log = logging.getLogger(__name__)


def catalogue_problems(
    catalogue: Catalogue | None, volume_ids: Sequence[str], selected: Sequence[str]
) -> tuple[list[str], list[str]]:
    """What is wrong with the catalogue, as errors and warnings (one line each).

    Errors: entries that cannot be used. Warnings: what reading it said, each volume it does
    not describe and (for a whole batch) each entry naming no volume folder.
    """
    if catalogue is None:
        return [], []
    warnings = list(catalogue.warnings)
    path = catalogue.path
    for vid in volume_ids:
        if catalogue.entry_for(vid) is None:
            warnings.append(f"{path}: no row or record describes volume {vid!r}")
    if not selected:
        for entry in catalogue.unmatched(list(volume_ids)):
            warnings.append(f"{entry.where}: {entry.key!r} is not a volume folder")
    return list(catalogue.errors), warnings


def with_catalogue(cfg: Config, catalogue: Catalogue | None) -> tuple[Config, list[str]]:
    """The configuration with the collection's settings filled from the catalogue's ``*`` row.

    Returns:
        The configuration, and the row's problems (then it is not used), one line each.
    """
    if catalogue is None or catalogue.collection is None:
        return cfg, []
    try:
        coll = collection_settings(cfg.collection, catalogue.collection)
    except ConfigError as exc:
        return cfg, str(exc).splitlines()
    return cfg.model_copy(update={"collection": coll}), []


def log_problems(errors: list[str], warnings: list[str]) -> None:
    """Say the catalogue's problems once, at the start of the job."""
    for line in errors:
        log.error("%s", line)
    for line in warnings:
        log.warning("%s", line)
