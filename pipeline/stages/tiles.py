"""Tiles: a master image -> a static IIIF Image API 3 level-0 pyramid that viewers can open."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyvips
from pydantic import BaseModel, ConfigDict

from pipeline.config import Config, TilesConfig
from pipeline.errors import TilingError
from pipeline.fsio import atomic_dir, atomic_file, sha256_file
from pipeline.iiif import image as iiif
from pipeline.imaging import vips as imaging
from pipeline.imaging.vips import (
    header_get,
    jpeg_options,
    jpeg_suffix,
    open_master,
    vips_message,
    vips_version,
)
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.results import Thumbnail, TilesResult
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "tiles"

# A level made of more tiles than this is written from the master instead of joined from its
# tiles, which keeps every tile file open at once.
MAX_JOIN_TILES = 256
MAX_LISTED_MISSING = 5


class TilesSettings(BaseModel):
    """What a pyramid depends on: tile settings, pixel limit and the public base URL."""

    model_config = ConfigDict(frozen=True)

    tiles: TilesConfig
    max_pixels: int
    base_url: str


def settings(cfg: Config) -> TilesSettings:
    """Return the tiles section plus the base URL written into info.json."""
    return TilesSettings(
        tiles=cfg.tiles, max_pixels=cfg.ingest.max_pixels, base_url=cfg.site.base_url
    )


def preflight(settings: TilesSettings) -> dict[str, str]:
    """Tiling needs libvips with dzsave."""
    from pipeline.imaging.vips import check_dzsave

    check_dzsave()
    return {"libvips": vips_version()}


@dataclass(frozen=True)
class Plan:
    """What the service advertises, decided from the levels dzsave actually wrote."""

    width: int
    height: int
    tile: int
    scale_factors: list[int]
    sizes: list[iiif.Size]
    full_sf: int

    @property
    def full_size(self) -> iiif.Size:
        """Return the size of ``full/max``: the largest level within the configured cap."""
        return iiif.level_size(self.width, self.height, self.full_sf)


def plan_pyramid(width: int, height: int, written: set[str], cfg: TilesConfig) -> Plan:
    """Advertise exactly the complete levels found on disk, plus sizes and the full/max level.

    Raises:
        TilingError: Not even the full-resolution level is complete.

    """
    tile = cfg.tile_size
    factors: list[int] = []
    sf = 1
    while sf <= max(width, height):
        level = iiif.level_tiles(width, height, tile, sf)
        if not all(t.path(width, height) in written for t in level):
            break
        factors.append(sf)
        sf *= 2
    if not factors:
        raise TilingError("dzsave wrote an incomplete full-resolution level (disk full?)")
    levels = [iiif.level_size(width, height, f) for f in factors]
    sizes = sorted({s for s in levels if max(s) <= cfg.max_size_side} | {levels[-1]})
    cap = min(cfg.max_full_side or iiif.JPEG_MAX_SIDE, iiif.JPEG_MAX_SIDE)
    full_sf = next((f for f, s in zip(factors, levels, strict=True) if max(s) <= cap), factors[-1])
    return Plan(width, height, tile, factors, sizes, full_sf)


class Derivatives:
    """Write what dzsave leaves out (``full/max``, sizes, rounded-down edge tiles, ``full/w,``)."""

    def __init__(self, work: Path, plan: Plan, quality: int, master: Callable[[], pyvips.Image]):
        self.work, self.plan, self.quality, self.master = work, plan, quality, master
        self._level_jpeg: dict[int, bytes] = {}

    def _encode(self, image: pyvips.Image) -> bytes:
        data: bytes = image.jpegsave_buffer(**jpeg_options(self.quality))
        return data

    def level_jpeg(self, sf: int) -> bytes:
        """Return a whole level as one JPEG: dzsave's own file, or its tiles joined.

        The joined tiles are block-aligned, so re-encoding at the same quality changes little.
        """
        if sf in self._level_jpeg:
            return self._level_jpeg[sf]
        p = self.plan
        tiles = iiif.level_tiles(p.width, p.height, p.tile, sf)
        if len(tiles) == 1:
            data = (self.work / tiles[0].path(p.width, p.height)).read_bytes()
        else:
            images = [
                pyvips.Image.new_from_file(str(self.work / t.path(p.width, p.height)))
                for t in tiles
            ]
            across = max(t.col for t in tiles) + 1
            # arrayjoin pads every cell to the largest tile: crop the edge padding off.
            joined = pyvips.Image.arrayjoin(images, across=across)
            data = self._encode(joined.crop(0, 0, *iiif.level_size(p.width, p.height, sf)))
        self._level_jpeg[sf] = data
        return data

    def write_level(self, rel: str, sf: int) -> None:
        """Write a whole level (exact size) to ``rel``, streaming from the master if it is big."""
        p = self.plan
        out = self.work / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        count = len(iiif.level_tiles(p.width, p.height, p.tile, sf))
        # Full resolution comes from the master: re-encoding decoded tiles would lose quality,
        # and decoding them costs as much as decoding the master.
        if count == 1 or (sf > 1 and count <= MAX_JOIN_TILES):
            out.write_bytes(self.level_jpeg(sf))
            return
        image = self.master()
        if sf > 1:
            w, h = iiif.level_size(p.width, p.height, sf)
            image = image.thumbnail_image(w, height=h, size="force")
        image.jpegsave(str(out), **jpeg_options(self.quality))

    def write_resized(self, rel: str, source: bytes, size: iiif.Size) -> None:
        """Write ``source`` resized to exactly ``size`` (a one-pixel rounding variant)."""
        image = pyvips.Image.new_from_buffer(source, "")
        if (image.width, image.height) != size:
            image = image.thumbnail_image(size[0], height=size[1], size="force")
        out = self.work / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(self._encode(image))

    def write_width(self, rel: str, target: int) -> None:
        """Write the whole image ``target`` pixels wide from the smallest level that is as wide."""
        p = self.plan
        size = iiif.width_size(p.width, p.height, target)
        wide_enough = [
            sf for sf in p.scale_factors if iiif.level_size(p.width, p.height, sf)[0] >= target
        ]
        self.write_resized(rel, self.level_jpeg(max(wide_enough, default=1)), size)

    def fill(self, rel: str) -> None:
        """Create one missing viewer path from the pyramid."""
        p = self.plan
        if rel == iiif.FULL_MAX:
            self.write_level(rel, p.full_sf)
            return
        target = iiif.parse_width_path(rel)
        if target is not None:
            self.write_width(rel, target)
            return
        region, size_text = rel.split("/")[:2]
        w, h = (int(v) for v in size_text.split(","))
        if region == "full":
            sf = _nearest_level(p, (w, h))
            if iiif.level_size(p.width, p.height, sf) == (w, h):
                self.write_level(rel, sf)
            else:
                self.write_resized(rel, self.level_jpeg(sf), (w, h))
            return
        # An edge tile under the other rounding: resize dzsave's tile of the same region.
        siblings = sorted((self.work / region).glob("*/0/default.jpg"))
        if not siblings:
            raise TilingError(f"dzsave wrote no tile for region {region}")
        self.write_resized(rel, siblings[0].read_bytes(), (w, h))


def _nearest_level(plan: Plan, size: iiif.Size) -> int:
    """Find the level a whole-image size belongs to (exact, or off by one pixel)."""
    for sf in plan.scale_factors:
        lw, lh = iiif.level_size(plan.width, plan.height, sf)
        if abs(lw - size[0]) <= 1 and abs(lh - size[1]) <= 1:
            return sf
    raise TilingError(f"no pyramid level has the size {size[0]} x {size[1]}")


def _result(plan: Plan, service_id: str, colour: list[str], files: int) -> TilesResult:
    thumb = iiif.choose_thumbnail(plan.sizes)
    full_w, full_h = plan.full_size
    return TilesResult(
        service_id=service_id,
        width=plan.width,
        height=plan.height,
        full=iiif.FULL_MAX,
        full_width=full_w,
        full_height=full_h,
        sizes=list(plan.sizes),
        scale_factors=plan.scale_factors,
        tile_size=plan.tile,
        thumbnail=Thumbnail(path=iiif.size_path(thumb), width=thumb[0], height=thumb[1]),
        colour=colour,
        tiles=files,
        replay_missing=0,
    )


def write_pyramid_tiff(image: pyvips.Image, path: Path, quality: int) -> str:
    """Write a tiled pyramidal TIFF (JPEG tiles, sRGB or grey, no alpha) for image servers.

    Returns:
        Its SHA-256.

    """
    with atomic_file(path) as tmp:
        image.tiffsave(
            str(tmp),
            tile=True,
            tile_width=256,
            tile_height=256,
            pyramid=True,
            compression="jpeg",
            Q=quality,
            bigtiff=image.width * image.height * image.bands > 2**31,
            keep="none",
        )
    return sha256_file(path)


def _open(
    source: Path, max_pixels: int, unit_floats: bool, scratch: Path
) -> tuple[pyvips.Image, list[str]]:
    """Open and normalise the master, streamed unless its orientation needs random access.

    A JPEG 2000 decoded by a program always comes with random access (its decoded copy), so
    ``run`` reads it as often as needed instead of decoding it again.
    """
    image = open_master(source, max_pixels=max_pixels, scratch=scratch)
    if int(header_get(image, "orientation", 1) or 1) != 1:
        image = open_master(source, max_pixels=max_pixels, access="random", scratch=scratch)
    return imaging.normalise(image, unit_floats=unit_floats)


def _write_pyramid(
    work: Path,
    image: pyvips.Image,
    cfg: TilesConfig,
    service_id: str,
    parent_id: str,
    master: Callable[[], pyvips.Image],
) -> tuple[Plan, set[str]]:
    """Write the pyramid with dzsave into ``work``, then info.json and what dzsave leaves out.

    Returns:
        What the service advertises, and every file written (layout-relative to ``work``).

    Raises:
        TilingError: The replay found a URL a viewer would request in vain.
        pyvips.Error: libvips failed.
    """
    width, height = image.width, image.height
    image.dzsave(
        str(work),
        layout="iiif3",
        id=parent_id,
        tile_size=cfg.tile_size,
        overlap=0,
        depth="onetile",
        suffix=jpeg_suffix(cfg.quality),
    )
    (work / "vips-properties.xml").unlink(missing_ok=True)
    written = iiif.files_under(work)
    plan = plan_pyramid(width, height, written, cfg)
    info = iiif.build_info(
        service_id=service_id,
        width=width,
        height=height,
        tile=cfg.tile_size,
        scale_factors=plan.scale_factors,
        sizes=plan.sizes,
        max_size=plan.full_size if plan.full_sf > 1 else None,
    )
    (work / iiif.INFO).write_text(iiif.dump_info(info), encoding="utf-8")
    written.add(iiif.INFO)
    derive = Derivatives(work, plan, cfg.quality, master)
    for rel in iiif.find_missing(info, written.__contains__):
        derive.fill(rel)
    present = iiif.files_under(work)
    missing = iiif.find_missing(info, present.__contains__)
    if missing:
        shown = ", ".join(missing[:MAX_LISTED_MISSING])
        extra = len(missing) - MAX_LISTED_MISSING
        more = f" and {extra} more" if extra > 0 else ""
        raise TilingError(
            f"viewer replay: IIIF viewers would request {shown}{more}, which were not "
            "written (a bug in the tiles stage: please report it with this page)"
        )
    return plan, present


def run(inp: PageInput, settings: TilesSettings, layout: Layout) -> StageRecord:
    """Write the page's pyramid, info.json, full/max and sizes, then replay a viewer over them.

    Raises:
        TilingError: libvips failed, or the replay found a URL a viewer would request in vain.
        ScanError: The master cannot be read or is over the pixel limit.

    """
    item, cfg = inp.item, settings.tiles
    final = layout.image_dir(item.volume, item.page)
    service_id = layout.image_service_id(item.volume, item.page)
    source = Path(item.source)
    unit_floats = inp.upstream.ingest is not None and inp.upstream.ingest.unit_floats

    opened: list[pyvips.Image] = []
    reread = imaging.decoded_by_program(source)  # random access to its decoded copy

    def master() -> pyvips.Image:
        if opened and reread:
            return opened[0]  # no second decode
        return _open(source, settings.max_pixels, unit_floats, layout.scratch_dir)[0]

    outputs: dict[str, str] = {}
    try:
        with atomic_dir(final) as work:
            image, colour = _open(source, settings.max_pixels, unit_floats, layout.scratch_dir)
            opened.append(image)
            plan, present = _write_pyramid(
                work, image, cfg, service_id, layout.image_service_parent(item.volume), master
            )
            for rel in (iiif.INFO, iiif.FULL_MAX):
                outputs[layout.rel(final / rel)] = sha256_file(work / rel)
        tiff = layout.pyramid_tiff_path(item.volume, item.page)
        if cfg.pyramid_tiff:
            outputs[layout.rel(tiff)] = write_pyramid_tiff(master(), tiff, cfg.pyramid_tiff_quality)
        else:
            tiff.unlink(missing_ok=True)  # switched off since the last run: publish no stale copy
    except pyvips.Error as exc:
        raise TilingError(f"libvips could not write tiles: {vips_message(exc)}") from None
    log.debug("tiled %s/%s: %d files, %s", item.volume, item.page, len(present), colour or "as is")
    return StageRecord.done(
        NAME,
        item.volume,
        item.page,
        _result(plan, service_id, colour, len(present)),
        outputs=outputs,
        tool_versions={"libvips": vips_version()},
    )


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=3,
    inputs=PageInput,
    settings_type=TilesSettings,
    settings_for=settings,
    check_tools=preflight,
    work=run,
    requires=("ingest",),
    item_fields=(),
    writes_urls=True,
)
