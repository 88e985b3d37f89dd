"""Drawing one sample page: paper, frame and ruled lines, the text, then the scan's damage."""

from __future__ import annotations

import logging
import random
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from pipeline.samples.damage import (
    CONDITIONS,
    LOOKS,
    Look,
    add_noise,
    blur_radius,
    draw_blot,
    draw_dust,
    foxing,
    illuminate,
    show_through,
    smooth_field,
    stain_mask,
)
from pipeline.samples.fonts import (
    DEFAULT_FONT_DIRS,
    FONTS,
    HAND_STYLES,
    find_font,
    glyph_ratio,
    load_font,
)
from pipeline.samples.grid import PageGrid, page_grid
from pipeline.samples.ruling import rule_paper

__all__ = ["render_page"]

log = logging.getLogger(__name__)


def render_page(
    *,
    text_lines: Sequence[str],
    font: str,
    condition: str,
    seed: int,
    width: int,
    height: int,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
    ruling: str = "none",
) -> Image.Image:
    """Render a synthetic scanned manuscript page.

    The page has an uneven paper tone, a thin double frame and ruled lines, the
    text lines (one per ruled line, starting at the top), a small skew, noise and,
    depending on ``condition``, stains, blots or faded ink; an ``aged`` page (a 1990s leaf,
    not among the default conditions) has a gutter shadow and uneven light, show-through of
    its other side, foxing, uneven ink and more blur. Geometry scales with ``width``
    (reference: 1240 px = A4 at 150 dpi, ~31 px Hangul glyphs). Notebook ruling, if asked
    for, is printed on the paper (see :mod:`~pipeline.samples.ruling`): under the ink, then
    stained, blurred and grained with the rest of the leaf.

    Args:
        text_lines: Lines to write, top to bottom; empty strings leave a line blank.
        font: Style key of :data:`~pipeline.samples.fonts.FONTS`.
        condition: One of :data:`~pipeline.samples.damage.CONDITIONS`.
        seed: Seed of the page's random generator; same arguments, same pixels.
        width: Page width in pixels.
        height: Page height in pixels.
        font_dirs: Directories searched for the font file.
        ruling: Notebook ruling, one of :data:`~pipeline.samples.ruling.RULINGS`.

    Returns:
        A greyscale (mode ``"L"``) image.

    Raises:
        ValueError: On an unknown font style, condition or ruling, or if the lines do not fit.
        FontMissingError: If the font file is not installed.

    """
    grid = _checked_grid(text_lines, font=font, condition=condition, width=width, height=height)
    font_path = find_font(font, font_dirs=font_dirs)
    hand = font in HAND_STYLES
    look = LOOKS[condition]
    rng = random.Random(seed)
    size = (width, height)

    paper = smooth_field(rng, size, look.paper + rng.uniform(-4, 4), look.paper_var, 6)
    paper = rule_paper(paper, ruling=ruling, seed=seed)
    if look.stains:
        stains = stain_mask(rng, size, rng.randint(1, look.stains), grid.scale)
        paper = ImageChops.subtract(paper, stains)
    if condition == "aged":
        other_side = _other_side(rng, grid, size, text_lines, font_path=font_path, hand=hand)
        paper = foxing(show_through(paper, other_side, rng, grid.scale), rng, grid.scale)

    darkness = Image.new("L", size, 0)
    draw = ImageDraw.Draw(darkness)
    right_limit = _draw_rules(draw, grid, look)
    _write_lines(draw, rng, grid, text_lines, font_path=font_path, hand=hand, limit=right_limit)
    if condition == "degraded":
        for _ in range(rng.randint(1, 2)):
            draw_blot(draw, rng, grid, size)
        draw_dust(draw, rng, grid, size)

    angle = rng.uniform(0.3, 1.5) * rng.choice((-1.0, 1.0))
    darkness = darkness.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=0)
    page = Image.composite(smooth_field(rng, size, look.ink, look.ink_var, 5), paper, darkness)
    if condition == "aged":
        page = illuminate(page, rng)
    page = page.filter(ImageFilter.GaussianBlur(blur_radius(condition, grid.scale)))
    page = add_noise(page, rng, look.noise)
    log.debug(
        "rendered %dx%d page: font=%s condition=%s skew=%.2f", width, height, font, condition, angle
    )
    return page


def _checked_grid(
    text_lines: Sequence[str], *, font: str, condition: str, width: int, height: int
) -> PageGrid:
    """Return the page's grid after checking the style, the condition and that the lines fit.

    Raises:
        ValueError: On an unknown style or condition, a page too small, or too many lines.

    """
    if font not in FONTS:
        raise ValueError(f"unknown font style {font!r}; expected one of {sorted(FONTS)}")
    if condition not in LOOKS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {CONDITIONS}")
    grid = page_grid(width, height)
    if len(text_lines) > grid.lines:
        raise ValueError(
            f"{len(text_lines)} lines do not fit on a {width}x{height} page "
            f"(at most {grid.lines}; see lines_per_page())"
        )
    return grid


def _other_side(
    rng: random.Random,
    grid: PageGrid,
    size: tuple[int, int],
    text_lines: Sequence[str],
    *,
    font_path: Path,
    hand: bool,
) -> Image.Image:
    """Draw the other side of the leaf as written on it (not yet mirrored).

    It carries the page's own lines in another order; its text block, once mirrored, lies
    over this side's lines and between them.
    """
    back = Image.new("L", size, 0)
    draw = ImageDraw.Draw(back)
    lines = [line for line in text_lines if line.strip()]
    rng.shuffle(lines)
    shift = rng.uniform(0.2, 0.8) * grid.pitch
    left = grid.margin_x + rng.uniform(0.2, 0.4) * size[0]
    for j, line in enumerate(lines):
        baseline = grid.top + (j + 1) * grid.pitch + shift
        _draw_line(
            draw,
            rng,
            unicodedata.normalize("NFC", line),
            font_path=font_path,
            glyph_px=grid.glyph_px,
            x=left,
            baseline=baseline,
            hand=hand,
        )
    return back


def _draw_rules(draw: ImageDraw.ImageDraw, grid: PageGrid, look: Look) -> int:
    """Draw the double frame and the ruled lines; return the right edge of the ruled area."""
    fx0, fy0, fx1, fy1 = grid.frame
    thin = max(1, round(1.5 * grid.scale))
    gap = max(2, round(6 * grid.scale))
    draw.rectangle(
        (fx0, fy0, fx1, fy1), outline=look.rule + 50, width=max(1, round(3 * grid.scale))
    )
    draw.rectangle((fx0 + gap, fy0 + gap, fx1 - gap, fy1 - gap), outline=look.rule, width=thin)
    rule_offset = round(0.22 * grid.pitch)
    for j in range(grid.lines):
        y = grid.top + (j + 1) * grid.pitch + rule_offset
        draw.line((fx0 + gap, y, fx1 - gap, y), fill=look.rule, width=thin)
    return fx1 - gap


def _write_lines(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    grid: PageGrid,
    text_lines: Sequence[str],
    *,
    font_path: Path,
    hand: bool,
    limit: int,
) -> None:
    """Write the text, one line per ruled line; warn about a line that runs past ``limit``."""
    for j, raw in enumerate(text_lines):
        line = unicodedata.normalize("NFC", raw.rstrip())
        if not line:
            continue
        baseline = grid.top + (j + 1) * grid.pitch + rng.uniform(-1.5, 1.5) * grid.scale
        right = _draw_line(
            draw,
            rng,
            line,
            font_path=font_path,
            glyph_px=grid.glyph_px,
            x=grid.margin_x,
            baseline=baseline,
            hand=hand,
        )
        if right > limit:
            log.warning(
                "line %d overflows the page frame (%.0f > %d px): %r", j + 1, right, limit, line
            )


def _draw_line(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    line: str,
    *,
    font_path: Path,
    glyph_px: float,
    x: float,
    baseline: float,
    hand: bool,
) -> float:
    """Draw one text line (fill 255) and return its right edge."""
    ratio = glyph_ratio(font_path)
    if not hand:
        font = load_font(font_path, max(round(glyph_px / ratio), 4))
        draw.text((x, baseline), line, font=font, fill=255, anchor="ls")
        return x + font.getlength(line)
    # Handwriting: per-line size, per-character baseline and spacing jitter.
    size = max(round(glyph_px * rng.uniform(0.94, 1.06) / ratio), 4)
    font = load_font(font_path, size)
    slope = rng.uniform(-0.008, 0.008)
    pos = x + rng.uniform(-4, 4) * glyph_px / 31
    start = pos
    for ch in line:
        advance = font.getlength(ch)
        if not ch.isspace():
            dy = rng.uniform(-0.05, 0.05) * glyph_px + slope * (pos - start)
            draw.text((pos, baseline + dy), ch, font=font, fill=255, anchor="ls")
        pos += advance * rng.uniform(1.0, 1.12)
    return pos
