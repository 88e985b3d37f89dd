"""IIIF Image API 3 level 0: pyramid arithmetic, info.json, and the URLs viewers will request.

Pure functions only (no pixels, no I/O besides reading a folder listing), so the same replay runs
after tiling and, later, against a published copy: :func:`expected_paths` computes what viewers
ask for, :func:`find_missing` checks it against any ``exists`` callable.

The replay follows OpenSeadragon's ``IIIFTileSource`` (5.x, used by Mirador 4; and 4.0, which
rounds tile sizes with ``Math.round`` instead of ``Math.ceil``) and Mirador 4's thumbnail
choice (always a listed ``sizes`` entry for a level-0 service):

- levels are every power of two up to the largest advertised scale factor, whatever the list
  says in between;
- a level narrower *and* shorter than one tile is fetched whole as ``full/w,h`` (``full/max`` at
  scale factor 1), otherwise tile by tile with regions ``x*tile*sf, y*tile*sf, ...`` clipped to
  the image, the region written ``full`` when it covers the whole image;
- edge tile sizes are ``ceil`` (OpenSeadragon 5, and our ``sizes``) or ``round`` (4.0) of the
  region divided by the scale factor: both must exist;
- every listed size is fetched as ``full/w,h``, and ``full/max`` by validators and downloads;
- Universal Viewer 4 asks every service for ``full/w,`` at fixed widths for its thumbnails
  (:data:`UV_THUMBNAIL_WIDTHS`), whatever the canvas ``thumbnail`` and ``sizes`` say.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import JobInputError
from pipeline.layout import WORK_DIR, Layout

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
INFO = "info.json"
FULL_MAX = "full/max/0/default.jpg"
# The largest JPEG side; a larger full/max is impossible, so it is capped there.
JPEG_MAX_SIDE = 65500
# Long side the manifest thumbnail should reach (Mirador's panels show ~120-400 px).
THUMBNAIL_SIDE = 400

# Universal Viewer 4 (manifesto's Canvas.getCanonicalImageUri) builds its thumbnail URLs from
# the image service and a width alone: 90 px for the thumbnail strip of left-to-right and
# right-to-left volumes (and bookmarks), 200 px for its gallery and for other volumes.
UV_THUMBNAIL_WIDTHS = (90, 200)

Size = tuple[int, int]


def ceil_div(num: int, den: int) -> int:
    """Return ``ceil(num / den)`` in integers."""
    return -(-num // den)


def round_div(num: int, den: int) -> int:
    """Return JavaScript's ``Math.round(num / den)`` (halves round up) in integers."""
    return (2 * num + den) // (2 * den)


Rounding = Callable[[int, int], int]
ROUNDINGS: tuple[Rounding, ...] = (ceil_div, round_div)


def level_size(width: int, height: int, scale_factor: int) -> Size:
    """Return the level size at ``scale_factor``: ``ceil(W/sf) x ceil(H/sf)``."""
    return ceil_div(width, scale_factor), ceil_div(height, scale_factor)


def fits_one_tile(size: Size, tile: int) -> bool:
    """Tell whether a level of this size is fetched whole (OpenSeadragon: both sides < tile)."""
    return size[0] < tile and size[1] < tile


def size_path(size: Size) -> str:
    """Return ``full/w,h/0/default.jpg``."""
    return f"full/{size[0]},{size[1]}/0/default.jpg"


def width_path(width: int) -> str:
    """Return ``full/w,/0/default.jpg``: the whole image at a width, height to scale."""
    return f"full/{width},/0/default.jpg"


def parse_width_path(path: str) -> int | None:
    """Return the width of a :func:`width_path`, or ``None`` for any other path."""
    parts = path.split("/")
    if len(parts) == 4 and parts[0] == "full" and parts[1].endswith(","):
        digits = parts[1][:-1]
        if digits.isdigit():
            return int(digits)
    return None


def width_size(width: int, height: int, target: int) -> Size:
    """Return the size a ``full/w,`` request gets: ``w`` wide, the height rounded to scale."""
    return target, max(1, round_div(height * target, width))


@dataclass(frozen=True)
class Tile:
    """One tile of one level: its position in the grid and the source region in full pixels."""

    scale_factor: int
    col: int
    row: int
    x: int
    y: int
    w: int
    h: int

    def region(self, width: int, height: int) -> str:
        """Return the region segment: ``full`` when the tile covers the whole image."""
        if (self.x, self.y, self.w, self.h) == (0, 0, width, height):
            return "full"
        return f"{self.x},{self.y},{self.w},{self.h}"

    def size(self, rounding: Rounding = ceil_div) -> Size:
        """Return the output pixel size of the tile under the given rounding."""
        return rounding(self.w, self.scale_factor), rounding(self.h, self.scale_factor)

    def path(self, width: int, height: int, rounding: Rounding = ceil_div) -> str:
        """Return the tile's path below the service, as dzsave names it (never ``max``)."""
        w, h = self.size(rounding)
        return f"{self.region(width, height)}/{w},{h}/0/default.jpg"


def level_tiles(width: int, height: int, tile: int, scale_factor: int) -> list[Tile]:
    """List every tile of a level, row by row."""
    span = tile * scale_factor
    out = []
    for row in range(ceil_div(height, span)):
        for col in range(ceil_div(width, span)):
            x, y = col * span, row * span
            out.append(
                Tile(scale_factor, col, row, x, y, min(span, width - x), min(span, height - y))
            )
    return out


def _viewer_level_paths(width: int, height: int, tile: int, sf: int) -> set[str]:
    """List what OpenSeadragon 4.0 and 5.x request for one level, under both roundings."""
    paths: set[str] = set()
    tiles = level_tiles(width, height, tile, sf)
    for level_rounding in ROUNDINGS:
        level = level_rounding(width, sf), level_rounding(height, sf)
        if fits_one_tile(level, tile):
            paths.add(FULL_MAX if level == (width, height) else size_path(level))
            continue
        for t in tiles:
            for rounding in ROUNDINGS:
                w, h = t.size(rounding)
                if w == 0 or h == 0:
                    continue  # no server can answer a zero size; viewers never draw it
                size = "max" if (w, h) == (width, height) else f"{w},{h}"
                paths.add(f"{t.region(width, height)}/{size}/0/default.jpg")
    return paths


def _tile_specs(info: Mapping[str, Any]) -> tuple[dict[int, int], int]:
    """Return the tile width per advertised scale factor, and the default tile width."""
    entries = info.get("tiles") or []
    per_sf: dict[int, int] = {}
    for entry in entries:
        for sf in entry["scaleFactors"]:
            per_sf[int(sf)] = int(entry["width"])
    default = int(entries[0]["width"]) if entries else 0
    return per_sf, default


def expected_paths(info: Mapping[str, Any]) -> list[str]:
    """List every path (relative to the service id) a viewer or validator may request.

    Args:
        info: A parsed info.json of a static level-0 service.

    Returns:
        Sorted paths, ``info.json`` included; join each to the service id for URLs.

    Raises:
        ValueError: ``info`` lacks width/height or has malformed tiles or sizes.

    """
    try:
        width, height = int(info["width"]), int(info["height"])
        per_sf, default = _tile_specs(info)
        sizes = [(int(s["width"]), int(s["height"])) for s in info.get("sizes") or []]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed info.json ({exc!r})") from None
    if width < 1 or height < 1:
        raise ValueError("malformed info.json (width and height must be positive)")
    paths = {INFO, FULL_MAX}
    paths.update(size_path(s) for s in sizes)
    paths.update(width_path(w) for w in UV_THUMBNAIL_WIDTHS)
    if per_sf:
        top = round(math.log2(max(per_sf)))
        for level in range(top + 1):
            sf = 2**level
            paths |= _viewer_level_paths(width, height, per_sf.get(sf, default), sf)
    return sorted(paths)


def expected_urls(info: Mapping[str, Any]) -> list[str]:
    """Return :func:`expected_paths` as absolute URLs below the info.json ``id``."""
    base = str(info["id"]).rstrip("/")
    return [f"{base}/{p}" for p in expected_paths(info)]


def find_missing(info: Mapping[str, Any], exists: Callable[[str], bool]) -> list[str]:
    """Replay a viewer: return the expected paths for which ``exists(path)`` is false.

    Args:
        info: A parsed info.json.
        exists: Tells whether a path below the service exists (local folder, bucket, server).

    Returns:
        Sorted missing paths; empty when every viewer request would succeed.

    """
    return [p for p in expected_paths(info) if not exists(p)]


def files_under(root: Path) -> set[str]:
    """Return every file below ``root`` as a forward-slash relative path (one walk)."""
    found: set[str] = set()
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{entry.name}/"))
                else:
                    found.add(prefix + entry.name)
    return found


def check_service_dir(root: Path) -> tuple[dict[str, Any], list[str]]:
    """Replay a local static service folder.

    Returns:
        The parsed info.json and the missing paths.

    Raises:
        ValueError: info.json is missing, not JSON or malformed.

    """
    try:
        info = json.loads((root / INFO).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError("no info.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable info.json ({exc})") from None
    if not isinstance(info, dict):
        raise ValueError("malformed info.json (not an object)")
    return info, find_missing(info, files_under(root).__contains__)


def choose_thumbnail(sizes: Iterable[Size], target: int = THUMBNAIL_SIDE) -> Size:
    """Pick the smallest listed size whose long side reaches ``target``, else the largest.

    Raises:
        ValueError: No sizes.

    """
    ordered = sorted(sizes, key=lambda s: (max(s), s))
    if not ordered:
        raise ValueError("no sizes to choose a thumbnail from")
    return next((s for s in ordered if max(s) >= target), ordered[-1])


def build_info(
    *,
    service_id: str,
    width: int,
    height: int,
    tile: int,
    scale_factors: list[int],
    sizes: list[Size],
    max_size: Size | None = None,
) -> dict[str, Any]:
    """Describe a level-0 ImageService3, keys in the conventional order.

    Args:
        service_id: The public URL of the folder holding info.json.
        width: Full width in pixels.
        height: Full height in pixels.
        tile: Tile width and height.
        scale_factors: Levels that exist, ascending.
        sizes: Whole-image sizes that exist as ``full/w,h``, ascending.
        max_size: Set when ``full/max`` is smaller than the image (``maxWidth``/``maxHeight``).

    """
    info: dict[str, Any] = {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level0",
        "width": width,
        "height": height,
    }
    if max_size is not None:
        info["maxWidth"], info["maxHeight"] = max_size
    info["sizes"] = [{"width": w, "height": h} for w, h in sizes]
    info["tiles"] = [{"width": tile, "height": tile, "scaleFactors": scale_factors}]
    return info


def dump_info(info: Mapping[str, Any]) -> str:
    """Serialise an info.json stably (key order kept, indent 2, trailing newline)."""
    return json.dumps(info, ensure_ascii=False, indent=2) + "\n"


@dataclass
class ReplayReport:
    """Outcome of replaying viewers over the image services of an output folder."""

    services: int = 0
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _volumes(layout: Layout, selected: Iterable[str]) -> list[str]:
    chosen = list(selected)
    if not chosen:
        if not layout.out.is_dir():
            raise JobInputError(f"{layout.out}: output folder not found (run the pipeline first)")
        return sorted(
            d.name for d in layout.out.iterdir() if d.name != WORK_DIR and (d / "images").is_dir()
        )
    for volume in chosen:
        if not layout.images_dir(volume).is_dir():
            raise JobInputError(f"{layout.volume_dir(volume)}: no image services for {volume!r}")
    return chosen


def replay_output(layout: Layout, volumes: Iterable[str] = ()) -> ReplayReport:
    """Replay viewers over every image service of the selected volumes of an output folder.

    Args:
        layout: The output folder and the base URL it is served at.
        volumes: Volume ids; empty means every volume with image services.

    Returns:
        Missing URLs (as served at ``layout.base_url``) and problems such as an unreadable
        info.json or one whose ``id`` is not where the folder is served.

    Raises:
        JobInputError: The output folder or a selected volume has no image services.

    """
    report = ReplayReport()
    for volume in _volumes(layout, volumes):
        for folder in sorted(p for p in layout.images_dir(volume).iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                continue
            report.services += 1
            expected_id = layout.url(folder)
            try:
                info, missing = check_service_dir(folder)
            except ValueError as exc:
                report.problems.append(f"{expected_id}/{INFO}: {exc}")
                continue
            if info.get("id") != expected_id:
                report.problems.append(
                    f"{expected_id}/{INFO}: id is {info.get('id')!r}, but the folder is served "
                    f"at {expected_id} (rebuild the tiles with the right base URL)"
                )
            report.missing.extend(f"{expected_id}/{p}" for p in missing)
    return report
