"""The ruled grid of a sample page: margins, line pitch and frame, scaled from A4 at 150 dpi."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PageGrid", "lines_per_page", "page_grid"]

_REFERENCE_WIDTH = 1240  # A4 at 150 dpi; all geometry is scaled from this width.


@dataclass(frozen=True)
class PageGrid:
    """Where the frame, the ruled lines and the text of a page go.

    Attributes:
        scale: Page width divided by the reference width (1240 px).
        glyph_px: Height of a Hangul glyph in pixels.
        margin_x: Left edge of the text.
        top: Top of the text block; line ``j`` (from 0) has its baseline at
            ``top + (j + 1) * pitch``.
        pitch: Distance between ruled lines.
        lines: Number of ruled lines.
        frame: Outer frame as ``(x0, y0, x1, y1)``.

    """

    scale: float
    glyph_px: float
    margin_x: int
    top: int
    pitch: int
    lines: int
    frame: tuple[int, int, int, int]


def page_grid(width: int, height: int) -> PageGrid:
    """Return the grid of a page of this size.

    Args:
        width: Page width in pixels.
        height: Page height in pixels.

    Returns:
        The page's grid.

    Raises:
        ValueError: The page is smaller than 64x64.

    """
    if width < 64 or height < 64:
        raise ValueError(f"page too small: {width}x{height} (minimum 64x64)")
    scale = width / _REFERENCE_WIDTH
    top = round(150 * scale)
    bottom = round(130 * scale)
    pitch = max(round(66 * scale), 4)
    fx, fy = round(80 * scale), round(95 * scale)
    return PageGrid(
        scale=scale,
        glyph_px=31 * scale,
        margin_x=round(130 * scale),
        top=top,
        pitch=pitch,
        lines=max((height - top - bottom) // pitch, 0),
        frame=(fx, fy, width - 1 - fx, height - 1 - fy),
    )


def lines_per_page(*, width: int, height: int) -> int:
    """Return how many text lines (header included) fit on a page of this size.

    Args:
        width: Page width in pixels.
        height: Page height in pixels.

    Returns:
        The number of ruled text lines of the page.

    """
    return page_grid(width, height).lines
