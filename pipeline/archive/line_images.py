"""Line images for HTR training: the master cut along a line's polygon, outside it white.

The master is opened, turned upright (its EXIF orientation applied, as on the canvas) and made
8-bit grey; canvas coordinates are then the master's own pixels, so a line's polygon is cut
from the full-resolution master. The polygon is drawn by librsvg (an SVG ``polygon`` with crisp
edges) into a mask of the line's box; pixels outside it become white. PNGs are written without
metadata, so the same master and lines give the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyvips

from pipeline.imaging.vips import open_master
from pipeline.imaging.working_image import to_grey
from pipeline.input.transcripts.geometry import bounds
from pipeline.input.transcripts.model import Point

WHITE = 255


def upright_grey(master: Path, *, max_pixels: int, unit_floats: bool = False) -> pyvips.Image:
    """The master upright, 8-bit grey, in memory: the canvas at full resolution.

    Raises:
        ScanError: The master cannot be read or converted.
    """
    return to_grey(
        open_master(master, max_pixels=max_pixels, access="random"), unit_floats=unit_floats
    )


def line_box(polygon: tuple[Point, ...], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The whole pixels a polygon covers, within the image: ``left, top, width, height``."""
    x0, y0, x1, y1 = bounds(polygon)
    left, top = max(math.floor(x0), 0), max(math.floor(y0), 0)
    right, bottom = min(math.ceil(x1), size[0]), min(math.ceil(y1), size[1])
    return left, top, max(right - left, 0), max(bottom - top, 0)


def _mask(polygon: tuple[Point, ...], left: int, top: int, width: int, height: int) -> pyvips.Image:
    """255 inside the polygon, 0 outside, over the box ``left, top, width, height``."""
    points = " ".join(f"{x - left:g},{y - top:g}" for x, y in polygon)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<polygon points="{points}" fill="#fff" shape-rendering="crispEdges"/></svg>'
    )
    alpha = pyvips.Image.svgload_buffer(svg.encode("ascii"))[3]
    return (alpha > 127).copy(interpretation="b-w")


def line_image(grey: pyvips.Image, polygon: tuple[Point, ...]) -> pyvips.Image | None:
    """The line cut from the upright grey master along its polygon; ``None`` if it is empty.

    Args:
        grey: The upright 8-bit grey master (:func:`upright_grey`).
        polygon: The line's polygon in canvas pixels (a box's four corners will do).

    Returns:
        A one-band 8-bit image the size of the polygon's box, white outside the polygon.
    """
    left, top, width, height = line_box(polygon, (grey.width, grey.height))
    if width == 0 or height == 0:
        return None
    crop = grey.crop(left, top, width, height)
    out: pyvips.Image = _mask(polygon, left, top, width, height).ifthenelse(crop, WHITE)
    return out.cast("uchar").copy(interpretation="b-w")


def png_bytes(image: pyvips.Image) -> bytes:
    """A grey PNG without metadata (no dates, no profile): the same pixels, the same bytes."""
    data: bytes = image.pngsave_buffer(keep="none", compression=6)
    return data
