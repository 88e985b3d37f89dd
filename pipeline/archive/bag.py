"""BagIt export: a volume's masters, derivatives and run report as a bag an archive can verify."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import bagit

from pipeline import __version__
from pipeline.archive.page_lines import built_volume
from pipeline.archive.report import report_json, volume_report
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import CHUNK, temp_sibling
from pipeline.input.descriptor import DESCRIPTOR
from pipeline.input.volumes import Volume
from pipeline.layout import Layout, check_volume_id, is_local_url
from pipeline.records import StageRecord
from pipeline.results import IngestResult
from pipeline.stages import STAGES

log = logging.getLogger(__name__)

CHECKSUMS = ("sha256", "sha512")
MASTERS = "masters"
DERIVATIVES = "derivatives"
METADATA = "metadata"
REPORT = "report.json"


@dataclass(frozen=True)
class BagResult:
    """What was written."""

    path: Path
    files: int
    bytes: int
    tiles: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Item:
    """One payload file: where it goes in ``data/``, where it comes from, its recorded SHA-256."""

    target: str
    source: Path
    sha256: str | None


def _first_label(labels: dict[str, list[str]] | None) -> str | None:
    """Pick the English label, else one without language, else any."""
    if not labels:
        return None
    for lang in ("en", "none", *labels):
        if labels.get(lang):
            return labels[lang][0]
    return None


def bag_info(cfg: Config, volume: Volume, layout: Layout) -> tuple[dict[str, str], list[str]]:
    """Build the bag-info.txt fields from the configuration and the volume.

    Source-Organization comes from ``bag.source_organization`` (``--source-organization``),
    else from the collection provider's label; BagIt makes it optional, so without either the
    bag is written without it, with a warning.

    Returns:
        The fields, and warnings for the user: no source organisation, or a manifest URL that
        only works on this machine.

    """
    warnings = []
    org = cfg.bag.source_organization
    if org is None and cfg.collection.provider is not None:
        org = _first_label(cfg.collection.provider.label)
    if not org:
        warnings.append(
            "bag-info.txt has no Source-Organization: neither bag.source_organization "
            "(--source-organization) nor collection.provider is set"
        )
    manifest = layout.manifest_id(volume.id)
    if is_local_url(manifest):
        warnings.append(
            f"bag-info.txt records IIIF-Manifest {manifest}, a preview address on this "
            "machine, and the bagged manifest holds such URLs throughout: for an archive, "
            "rebuild with the public URL first ('pipeline run --base-url URL') and export again"
        )
    info = {
        "Source-Organization": org or "",
        "External-Identifier": volume.id,
        "External-Description": _first_label(volume.descriptor.label) or volume.id,
        "Bag-Group-Identifier": cfg.collection.id,
        "Bag-Software-Agent": f"pipeline {__version__} with bagit.py {bagit.VERSION}",
        "IIIF-Manifest": layout.manifest_id(volume.id),
    }
    optional = {
        "Organization-Address": cfg.bag.organization_address,
        "Contact-Name": cfg.bag.contact_name,
        "Contact-Email": cfg.bag.contact_email,
    }
    info.update({k: v for k, v in optional.items() if v})
    return {k: v for k, v in info.items() if v}, warnings


def _incomplete(volume: Volume, records: dict[tuple[str, str], StageRecord]) -> list[str]:
    """Pages and stages of the volume that are not done."""
    missing = []
    for stage in STAGES:
        keys = (
            [(p.page, Path(p.source).name) for p in volume.pages]
            if stage.scope == "page"
            else [("", volume.id)]
            if stage.scope == "volume"
            else []
        )
        for page, what in keys:
            rec = records.get((page, stage.name))
            if rec is None or rec.status != "ok":
                missing.append(f"{what} [{stage.name}]: {rec.status if rec else 'not run'}")
    return missing


def _payload(
    layout: Layout, volume: Volume, records: dict[tuple[str, str], StageRecord], tiles: bool
) -> list[_Item]:
    """Every file of the payload: masters, the descriptor, and the recorded derivatives."""
    items: list[_Item] = []
    for item in volume.pages:
        master = records[(item.page, "ingest")].result_as(IngestResult)
        items.append(_Item(f"{MASTERS}/{master.file}", Path(item.source), master.sha256))
    descriptor = volume.folder / DESCRIPTOR
    if descriptor.is_file():
        items.append(_Item(f"{METADATA}/{DESCRIPTOR}", descriptor, None))
    images = PurePosixPath(layout.rel(layout.images_dir(volume.id)))
    root = PurePosixPath(layout.rel(layout.volume_dir(volume.id)))
    pages = {p.page for p in volume.pages} | {""}
    for rec in records.values():
        if rec.status != "ok" or rec.page not in pages:
            continue
        for rel, digest in rec.outputs.items():
            path = PurePosixPath(rel)
            if not path.is_relative_to(root):
                continue
            if not tiles and path.is_relative_to(images):
                continue
            target = f"{DERIVATIVES}/{path.relative_to(root).as_posix()}"
            items.append(_Item(target, layout.path(rel), digest))
    return sorted(items, key=lambda i: i.target)


def _copy_checked(item: _Item, dest: Path) -> int:
    """Copy one file, checking its bytes against the recorded SHA-256 on the way.

    Raises:
        JobInputError: The file is missing or differs from what was recorded.

    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    try:
        with item.source.open("rb") as src, dest.open("wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        stat = item.source.stat()
    except FileNotFoundError:
        raise JobInputError(f"{item.source}: missing; run 'pipeline verify'") from None
    os.utime(dest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if item.sha256 is not None and digest.hexdigest() != item.sha256:
        raise JobInputError(
            f"{item.source}: differs from the checksum recorded when it was made; run "
            "'pipeline verify' and fix that first (nothing was exported)"
        )
    return size


@contextlib.contextmanager
def _quiet_bagit() -> Iterator[None]:
    """Keep bagit's own log lines (a traceback on error) off the terminal; we report errors."""
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass(frozen=True)
class _Contents:
    """What goes into a bag: the payload files, the run report and the bag-info.txt fields."""

    items: list[_Item]
    report: str
    info: dict[str, str]
    warnings: list[str]


def export_bag(cfg: Config, volume_id: str, dest: Path, *, tiles: bool | None = None) -> BagResult:
    """Write a BagIt bag of one finished volume to ``dest`` (a new folder).

    The payload holds ``masters/`` (the scans, byte for byte), ``derivatives/`` (manifest, OCR,
    texts, annotations and, if asked, the tile pyramids), ``metadata/volume.toml`` and the
    run report ``report.json``. Every file is checked against the checksum recorded when it
    was ingested or written; bagit then writes SHA-256 and SHA-512 manifests. The bag is built
    beside ``dest`` under a temporary name and renamed into place when complete.

    Args:
        cfg: The configuration (``bag`` section for bag-info.txt).
        volume_id: The volume.
        dest: The bag folder to create; it must not exist (or be empty).
        tiles: Include tile pyramids; ``None`` uses ``bag.tiles``.

    Returns:
        What was written.

    Raises:
        ConfigError: Bad volume id, or ``dest`` not new.
        JobInputError: The volume is not finished, a file drifted, or a job is running.

    """
    check_volume_id(volume_id)
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{dest}: already exists; export to a new folder")
    with_tiles = cfg.bag.tiles if tiles is None else tiles
    contents = _contents(cfg, volume_id, with_tiles)
    total = _write_bag(contents, dest)
    files = len(contents.items) + 1
    log.info("bagged %s: %d files into %s", volume_id, files, dest)
    for warning in contents.warnings:
        log.info("bag %s: %s", volume_id, warning)
    return BagResult(
        path=dest, files=files, bytes=total, tiles=with_tiles, warnings=tuple(contents.warnings)
    )


def _contents(cfg: Config, volume_id: str, tiles: bool) -> _Contents:
    """Read what the bag of a finished volume holds, under the job lock.

    Raises:
        JobInputError: No volume folder or state store, the volume is not finished, or a job
            is running.

    """
    with built_volume(cfg, volume_id) as (layout, state, volume):
        info, warnings = bag_info(cfg, volume, layout)
        records = {(r.page, r.stage): r for r in state.records(volume_id)}
        missing = _incomplete(volume, records)
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise JobInputError(
                f"volume {volume_id!r} is not finished ({missing[0]}{more}); run "
                f"'pipeline run {volume_id}' first"
            )
        items = _payload(layout, volume, records, tiles)
        report = report_json(volume_report(state, volume, volume_id))
    return _Contents(items, report, info, warnings)


def _write_bag(contents: _Contents, dest: Path) -> int:
    """Copy the payload (checked), write the report and let bagit make the bag at ``dest``.

    The bag is built in a temporary sibling of ``dest``, renamed into place when complete.

    Returns:
        The payload's size in bytes.

    Raises:
        JobInputError: A file is missing or drifted, or bagit could not write the bag.

    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = temp_sibling(dest)
    work.mkdir()
    try:
        total = sum(_copy_checked(item, work / item.target) for item in contents.items)
        (work / REPORT).write_text(contents.report, encoding="utf-8")
        total += len(contents.report.encode("utf-8"))
        with _quiet_bagit():
            try:
                bagit.make_bag(
                    str(work), bag_info=contents.info, checksums=list(CHECKSUMS), processes=1
                )
            except (bagit.BagError, OSError, RuntimeError) as exc:
                raise JobInputError(f"{dest}: could not write the bag ({exc})") from None
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return total
