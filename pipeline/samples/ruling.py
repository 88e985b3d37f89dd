"""Notebook ruling printed on the paper of a sample page, under the ink and the damage.

The rules have a pitch of 8 mm, not the text's 11 mm, so they drift through the text lines
and some cross the strokes, as on a notebook page written without regard to its ruling. They
come from a random generator of their own, so a page without ruling has exactly the pixels
it had before ruling existed, and a ruled page differs from it only along its rules.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

__all__ = ["RULINGS", "Rule", "check_ruling", "rule_paper", "ruling_lines"]

RULINGS = ("none", "light", "dark")
"""Values of the ``ruling`` option: no notebook ruling, light grey rules or darker ones."""

_TONES: dict[str, tuple[int, int]] = {"light": (150, 190), "dark": (100, 140)}
"""Ruling -> range of its rules' grey (multiplied into the paper: 255 leaves it as it is)."""

RULE_PITCH_MM = 8.0
RULE_WIDTH_MM = 0.2
_A4_WIDTH_MM = 210.0  # page geometry assumes A4, as the rest of the page's (see grid.py)


@dataclass(frozen=True)
class Rule:
    """One printed rule, a slightly sloped line across the page.

    Attributes:
        x0: Left end, in pixels.
        y0: Height of the left end.
        x1: Right end.
        y1: Height of the right end.
        grey: Its grey (0-255), multiplied into the paper.
        width: Its width in pixels.

    """

    x0: float
    y0: float
    x1: float
    y1: float
    grey: int
    width: int


def check_ruling(ruling: str) -> None:
    """Check a value of the ``ruling`` option.

    Raises:
        ValueError: ``ruling`` is not one of :data:`RULINGS`.

    """
    if ruling not in RULINGS:
        raise ValueError(f"unknown ruling {ruling!r}; expected one of {RULINGS}")


def ruling_lines(*, ruling: str, seed: int, width: int, height: int) -> tuple[Rule, ...]:
    """Return the rules of a page, top to bottom (none for ``ruling="none"``).

    The pitch (8 mm, within 5%), the slope (within 0.4 degrees) and the first rule's height
    are drawn per page; each rule's grey varies by up to 10 around the page's.

    Args:
        ruling: One of :data:`RULINGS`.
        seed: The page's seed (the seed :func:`~pipeline.samples.render.render_page` gets).
        width: Page width in pixels (A4 wide).
        height: Page height in pixels.

    Returns:
        The rules, from the top of the page.

    Raises:
        ValueError: ``ruling`` is not one of :data:`RULINGS`.

    """
    check_ruling(ruling)
    if ruling == "none":
        return ()
    rng = random.Random(f"pipeline.samples:ruling:{seed}")
    px_per_mm = width / _A4_WIDTH_MM
    pitch = RULE_PITCH_MM * px_per_mm * rng.uniform(0.95, 1.05)
    slope = math.tan(math.radians(rng.uniform(-0.4, 0.4)))
    rule_width = max(1, round(RULE_WIDTH_MM * px_per_mm))
    level = rng.randint(*_TONES[ruling])
    x0, x1 = round(0.03 * width), round(0.97 * width)
    y = rng.uniform(0.3, 1.0) * pitch + 0.04 * height
    rules = []
    while y < 0.97 * height:
        grey = max(0, min(255, level + rng.randint(-10, 10)))
        rules.append(Rule(x0, y, x1, y + slope * (x1 - x0), grey, rule_width))
        y += pitch
    return tuple(rules)


def rule_paper(paper: Image.Image, *, ruling: str, seed: int) -> Image.Image:
    """Print notebook ruling on a page's paper (greyscale), before the ink is written.

    Args:
        paper: The blank paper (mode ``"L"``).
        ruling: One of :data:`RULINGS`; ``"none"`` returns ``paper`` itself.
        seed: The page's seed.

    Returns:
        The ruled paper.

    Raises:
        ValueError: ``ruling`` is not one of :data:`RULINGS`.

    """
    rules = ruling_lines(ruling=ruling, seed=seed, width=paper.width, height=paper.height)
    if not rules:
        return paper
    print_ = Image.new("L", paper.size, 255)
    draw = ImageDraw.Draw(print_)
    for rule in rules:
        draw.line((rule.x0, rule.y0, rule.x1, rule.y1), fill=rule.grey, width=rule.width)
    return ImageChops.multiply(paper, print_)
