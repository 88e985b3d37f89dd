"""Ingest: check that a master opens and decodes, record its fixity and dimensions."""

from __future__ import annotations

import logging
from pathlib import Path

import pyvips

from pipeline.config import Config, IngestConfig
from pipeline.errors import ScanError
from pipeline.fsio import sha256_file
from pipeline.imaging import header_get, open_master, oriented_size, vips_message, vips_version
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord

log = logging.getLogger(__name__)

NAME = "ingest"
SCOPE = "page"
VERSION = 1
REQUIRES: tuple[str, ...] = ()
USES: tuple[str, ...] = ()


def settings(cfg: Config) -> IngestConfig:
    """Ingest depends on the ingest section only."""
    return cfg.ingest


def preflight(settings: IngestConfig) -> dict[str, str]:
    """Ingest needs only libvips, which the wheel provides."""
    return {"libvips": vips_version()}


def run(inp: PageInput, settings: IngestConfig, paths: Layout) -> StageRecord:
    """Validate one master without modifying it.

    Args:
        inp: The page.
        settings: Pixel limits.
        paths: Unused; ingest writes nothing.

    Returns:
        A record whose data holds sha256, size, mtime, format and oriented dimensions.

    Raises:
        ScanError: Empty, unreadable, truncated, multi-page, too small or too large.
    """
    source = Path(inp.item.source)
    try:
        stat = source.stat()
    except OSError as exc:
        raise ScanError(f"cannot read file ({exc.strerror})") from None
    if stat.st_size == 0:
        raise ScanError("empty file (0 bytes)")
    image = open_master(source, max_pixels=settings.max_pixels)
    pages = int(header_get(image, "n-pages", 1) or 1)
    if pages > 1:
        raise ScanError(
            f"multi-page file ({pages} pages): split it into one file per page "
            "(e.g. 'vips copy in.tif[page=N] out_N.tif')"
        )
    width, height = oriented_size(image)
    if min(width, height) < settings.min_side:
        raise ScanError(
            f"image is {width} x {height} px, smaller than ingest.min_side = {settings.min_side}"
        )
    try:
        # Decode every pixel once, streaming, so truncated or corrupt data fails here.
        image.min()
    except pyvips.Error as exc:
        raise ScanError(f"image data is damaged: {vips_message(exc)}") from None
    sha = sha256_file(source)
    log.debug("ingested %s (%d x %d)", source.name, width, height)
    return StageRecord(
        stage=NAME,
        volume=inp.item.volume,
        page=inp.item.page,
        status="ok",
        data={
            "file": source.name,
            "sha256": sha,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "loader": str(header_get(image, "vips-loader", "")),
            "bands": image.bands,
            "format": str(image.format),
            "interpretation": str(image.interpretation),
            "orientation": int(header_get(image, "orientation", 1) or 1),
            "has_icc": image.get_typeof("icc-profile-data") != 0,
            "width": width,
            "height": height,
        },
        tool_versions={"libvips": vips_version()},
    )
