"""What paper, ink and time do to a sample page: tone, noise, stains, blots, ageing and light.

The functions given the page's random generator draw from it in a fixed order, so a page's
pixels depend only on its seed.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from statistics import NormalDist

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from pipeline.samples.grid import PageGrid

__all__ = [
    "CONDITIONS",
    "DEFAULT_CONDITIONS",
    "LOOKS",
    "Look",
    "add_noise",
    "blur_radius",
    "draw_blot",
    "draw_dust",
    "foxing",
    "illuminate",
    "show_through",
    "smooth_field",
    "stain_mask",
]

CONDITIONS = ("clean", "degraded", "faded", "aged")
DEFAULT_CONDITIONS = ("clean", "degraded", "faded")


@dataclass(frozen=True)
class Look:
    """Tones and damage of one condition (grey levels 0-255).

    Attributes:
        paper: Mean paper tone.
        paper_var: How far the paper tone wanders across the page.
        ink: Mean ink tone.
        ink_var: How far the ink tone wanders.
        noise: Standard deviation of the grain.
        rule: Tone of the ruled lines' darkness.
        stains: Most stains on a page (0: none).

    """

    paper: float
    paper_var: float
    ink: float
    ink_var: float
    noise: float
    rule: int
    stains: int


LOOKS: dict[str, Look] = {
    "clean": Look(paper=234, paper_var=5, ink=28, ink_var=8, noise=4, rule=40, stains=0),
    "degraded": Look(paper=222, paper_var=8, ink=45, ink_var=14, noise=7, rule=45, stains=2),
    "faded": Look(paper=228, paper_var=5, ink=115, ink_var=12, noise=4, rule=30, stains=0),
    # A 1990s typed or printed leaf: uneven ink, plus show-through, foxing and uneven light.
    "aged": Look(paper=226, paper_var=8, ink=70, ink_var=45, noise=7, rule=40, stains=2),
}
"""Condition -> its look."""


def smooth_field(
    rng: random.Random, size: tuple[int, int], base: float, amplitude: float, cells: int
) -> Image.Image:
    """Return a smooth random greyscale field (bicubic upscaling of a coarse grid).

    Args:
        rng: The page's random generator.
        size: Field size in pixels.
        base: Mean grey level.
        amplitude: Largest deviation from ``base`` at a grid point.
        cells: Grid points across the width.

    Returns:
        A mode ``"L"`` image of ``size``.

    """
    gw, gh = cells, max(2, round(cells * size[1] / size[0]))
    values = bytes(
        max(0, min(255, round(base + rng.uniform(-amplitude, amplitude)))) for _ in range(gw * gh)
    )
    grid = Image.frombytes("L", (gw, gh), values)
    return grid.resize(size, Image.Resampling.BICUBIC)


@functools.lru_cache(maxsize=16)
def _noise_lut(sigma: float) -> tuple[int, ...]:
    """Map a uniform byte to 128 plus its normal quantile (standard deviation ``sigma``)."""
    dist = NormalDist(0, sigma)
    return tuple(max(0, min(255, round(128 + dist.inv_cdf((i + 0.5) / 256)))) for i in range(256))


def add_noise(page: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Add Gaussian grain (uniform random bytes mapped through the normal quantiles).

    Args:
        page: The page.
        rng: The page's random generator.
        sigma: Standard deviation in grey levels.

    Returns:
        The grainy page.

    """
    w, h = page.size
    noise = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(list(_noise_lut(sigma)))
    return ImageChops.add(page, noise, scale=1.0, offset=-128)


def stain_mask(rng: random.Random, size: tuple[int, int], count: int, scale: float) -> Image.Image:
    """Return a blurred mask of faint round stains (coffee rings and blots).

    Args:
        rng: The page's random generator.
        size: Page size in pixels.
        count: Number of stains.
        scale: The grid's scale.

    Returns:
        How much darker each pixel gets (mode ``"L"``).

    """
    factor = 4
    small = (max(size[0] // factor, 1), max(size[1] // factor, 1))
    mask = Image.new("L", small, 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(count):
        r = rng.uniform(60, 170) * scale / factor
        cx = rng.uniform(0.1, 0.9) * small[0]
        cy = rng.uniform(0.1, 0.9) * small[1]
        ry = r * rng.uniform(0.75, 1.2)
        box = (cx - r, cy - ry, cx + r, cy + ry)
        draw.ellipse(box, fill=rng.randint(10, 20))
        draw.ellipse(box, outline=rng.randint(25, 40), width=max(1, round(r / 12)))
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, 3 * scale)))
    return mask.resize(size, Image.Resampling.BICUBIC)


def draw_blot(
    draw: ImageDraw.ImageDraw, rng: random.Random, grid: PageGrid, size: tuple[int, int]
) -> None:
    """Draw a small irregular ink blot into the darkness layer.

    Args:
        draw: Drawing context of the darkness layer.
        rng: The page's random generator.
        grid: The page's grid.
        size: Page size in pixels.

    """
    cx = rng.uniform(grid.margin_x, size[0] - grid.margin_x)
    cy = rng.uniform(grid.top, size[1] - grid.top)
    level = rng.randint(110, 170)
    for _ in range(rng.randint(3, 6)):
        r = rng.uniform(3, 9) * grid.scale
        dx, dy = rng.uniform(-8, 8) * grid.scale, rng.uniform(-8, 8) * grid.scale
        draw.ellipse((cx + dx - r, cy + dy - r, cx + dx + r, cy + dy + r), fill=level)


def draw_dust(
    draw: ImageDraw.ImageDraw, rng: random.Random, grid: PageGrid, size: tuple[int, int]
) -> None:
    """Sprinkle small dark specks (dust and paper fibres) into the darkness layer.

    Args:
        draw: Drawing context of the darkness layer.
        rng: The page's random generator.
        grid: The page's grid.
        size: Page size in pixels.

    """
    for _ in range(rng.randint(150, 400)):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(0.4, 1.6) * max(grid.scale, 0.5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(90, 200))


def show_through(
    paper: Image.Image, other_side: Image.Image, rng: random.Random, scale: float
) -> Image.Image:
    """Darken ``paper`` by the ink of the leaf's other side, mirrored, faint and blurred.

    Args:
        paper: The paper layer.
        other_side: The other side's text as drawn on it (255 where there is ink).
        rng: The page's random generator.
        scale: The grid's scale.

    Returns:
        The paper with the other side seen through it.

    """
    back = other_side.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    back = back.filter(ImageFilter.GaussianBlur(1.6 * scale))
    strength = rng.uniform(0.12, 0.22)
    return ImageChops.subtract(paper, back.point(lambda v: round(v * strength)))


def foxing(paper: Image.Image, rng: random.Random, scale: float) -> Image.Image:
    """Darken ``paper`` by a scatter of small soft brown spots.

    Args:
        paper: The paper layer.
        rng: The page's random generator.
        scale: The grid's scale.

    Returns:
        The foxed paper.

    """
    size = paper.size
    spots = Image.new("L", size, 0)
    draw = ImageDraw.Draw(spots)
    for _ in range(rng.randint(25, 60)):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(2, 9) * scale
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(20, 55))
    spots = spots.filter(ImageFilter.GaussianBlur(2 * scale))
    return ImageChops.subtract(paper, spots)


def illuminate(page: Image.Image, rng: random.Random) -> Image.Image:
    """Uneven light: a gradient across and down the page, and the gutter's shadow at one side.

    Args:
        page: The page.
        rng: The page's random generator.

    Returns:
        The page under uneven light.

    """
    w, h = page.size
    side = rng.choice((0, 1))  # the gutter: 0 left, 1 right
    reach = rng.uniform(0.15, 0.3) * w
    depth = rng.uniform(0.3, 0.5)  # the brightness kept at the gutter's edge
    across = rng.uniform(0.08, 0.18)  # brightness lost towards the gutter
    down = rng.uniform(-0.08, 0.08)  # brightness lost from top to bottom
    columns = bytearray()
    for x in range(w):
        d = (x if side == 0 else w - 1 - x) / w
        shadow = 1.0 - (1.0 - depth) * math.exp(-3 * d * w / reach)
        columns.append(round(255 * (1.0 - across * (1 - d)) * shadow))
    rows = bytearray(
        round(255 * (1.0 - max(down, 0) * y / h + min(down, 0) * (1 - y / h))) for y in range(h)
    )
    light = ImageChops.multiply(
        Image.frombytes("L", (w, 1), bytes(columns)).resize((w, h)),
        Image.frombytes("L", (1, h), bytes(rows)).resize((w, h)),
    )
    return ImageChops.multiply(page, light)


def blur_radius(condition: str, scale: float) -> float:
    """Return the Gaussian blur of the scanned page: more for degraded and aged leaves.

    Args:
        condition: One of :data:`CONDITIONS`.
        scale: The grid's scale.

    Returns:
        The blur radius in pixels.

    """
    return 0.8 * scale * {"degraded": 1.5, "aged": 1.7}.get(condition, 1.0)
