"""Tiles: a master image -> a static IIIF Image API 3 level-0 pyramid written by dzsave."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyvips
from pydantic import BaseModel, ConfigDict

from pipeline.config import Config, IngestConfig, TilesConfig
from pipeline.errors import TilingError
from pipeline.fsio import atomic_dir, sha256_file
from pipeline.imaging import header_get, open_master, vips_message, vips_version
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord

log = logging.getLogger(__name__)

NAME = "tiles"
SCOPE = "page"
VERSION = 1
REQUIRES: tuple[str, ...] = ("ingest",)
USES: tuple[str, ...] = ()


class TilesSettings(BaseModel):
    """What a pyramid depends on: tile settings, pixel limit and the public base URL."""

    model_config = ConfigDict(frozen=True)

    tiles: TilesConfig
    ingest: IngestConfig
    base_url: str


def settings(cfg: Config) -> TilesSettings:
    """The tiles section plus the base URL written into info.json."""
    return TilesSettings(tiles=cfg.tiles, ingest=cfg.ingest, base_url=cfg.site.base_url)


def preflight(settings: TilesSettings) -> dict[str, str]:
    """Tiling needs libvips with dzsave."""
    from pipeline.imaging import check_dzsave

    check_dzsave()
    return {"libvips": vips_version()}


def normalise(image: pyvips.Image) -> pyvips.Image:
    """Turn any master into 8-bit sRGB (or 8-bit grey) without alpha, upright.

    Args:
        image: The master as opened by libvips.

    Returns:
        The image to tile.
    """
    if int(header_get(image, "orientation", 1) or 1) != 1:
        image = image.autorot()
    if image.get_typeof("icc-profile-data") != 0:
        image = image.icc_transform("srgb", embedded=True, intent="relative")
    if image.hasalpha():
        image = image.flatten(background=255 if image.bands <= 2 else [255, 255, 255])
    grey = image.interpretation in ("b-w", "grey16") or image.bands == 1
    image = image.colourspace("b-w" if grey else "srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def run(inp: PageInput, settings: TilesSettings, paths: Layout) -> StageRecord:
    """Write the page's pyramid, info.json and ``full/max``.

    Raises:
        TilingError: libvips failed while reading or writing.
    """
    item = inp.item
    final = paths.image_dir(item.volume, item.page)
    source = Path(item.source)
    ingest = inp.upstream["ingest"]
    needs_random = int(ingest.get("orientation", 1)) != 1
    access = "random" if needs_random else "sequential"
    try:
        with atomic_dir(final) as work:
            image = normalise(open_master(source, max_pixels=settings.ingest.max_pixels, access=access))
            image.dzsave(
                str(work),
                layout="iiif3",
                id=paths.image_service_parent(item.volume),
                tile_size=settings.tiles.tile_size,
                overlap=0,
                suffix=f".jpg[Q={settings.tiles.quality},optimize_coding,strip]",
            )
            (work / "vips-properties.xml").unlink(missing_ok=True)
            full = normalise(open_master(source, max_pixels=settings.ingest.max_pixels, access=access))
            max_dir = work / "full" / "max" / "0"
            max_dir.mkdir(parents=True, exist_ok=True)
            full.jpegsave(
                str(max_dir / "default.jpg"), Q=settings.tiles.quality, optimize_coding=True, strip=True
            )
            info = json.loads((work / "info.json").read_text(encoding="utf-8"))
    except pyvips.Error as exc:
        raise TilingError(f"libvips could not write tiles: {vips_message(exc)}") from None
    info_path = final / "info.json"
    log.debug("tiled %s/%s", item.volume, item.page)
    return StageRecord(
        stage=NAME,
        volume=item.volume,
        page=item.page,
        status="ok",
        outputs={paths.rel(info_path): sha256_file(info_path)},
        data={
            "service_id": info["id"],
            "width": info["width"],
            "height": info["height"],
            "full": "full/max/0/default.jpg",
        },
        tool_versions={"libvips": vips_version()},
    )
