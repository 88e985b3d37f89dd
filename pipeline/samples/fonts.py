"""The Nanum fonts of the sample pages: the style table, finding the files, loading them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from PIL import ImageFont

from pipeline.errors import MissingDependencyError

__all__ = [
    "DEFAULT_FONTS",
    "DEFAULT_FONT_DIRS",
    "FONTS",
    "FONT_PACKAGES",
    "HAND_STYLES",
    "RUSSIAN_STYLES",
    "FontMissingError",
    "find_font",
    "glyph_ratio",
    "load_font",
]

FONTS: dict[str, str] = {
    "print": "NanumMyeongjo.ttf",
    "gothic": "NanumGothic.ttf",
    "hand": "NanumPen.ttf",
    "hand2": "NanumBarunpenR.ttf",
    "brush": "NanumBrush.ttf",
    # Same typeface as "print"; pages in this style carry Russian lines among the Korean.
    "mixed": "NanumMyeongjo.ttf",
}
"""Style name -> Nanum font file name."""

FONT_PACKAGES: dict[str, str] = {
    "NanumMyeongjo.ttf": "fonts-nanum",
    "NanumGothic.ttf": "fonts-nanum",
    "NanumPen.ttf": "fonts-nanum-extra",
    "NanumBarunpenR.ttf": "fonts-nanum-extra",
    "NanumBrush.ttf": "fonts-nanum-extra",
}
"""Font file name -> Debian package that ships it."""

DEFAULT_FONTS = ("print", "hand", "gothic")

HAND_STYLES = frozenset({"hand", "hand2", "brush"})
"""Styles written by hand: each line and character jitters."""

RUSSIAN_STYLES = frozenset({"mixed"})
"""Styles whose pages carry Russian lines among the Korean."""

DEFAULT_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
)

_GLYPH_SAMPLE = "한국력사로동인물전기녀성리론"


class FontMissingError(MissingDependencyError):
    """Raised when a Nanum font file cannot be found in the font directories (exit code 3)."""

    def __init__(self, file_name: str, font_dirs: Sequence[Path]) -> None:
        """Build the error message naming the font file and its Debian package.

        Args:
            file_name: The font file that was looked for.
            font_dirs: The directories that were searched.

        """
        package = FONT_PACKAGES.get(file_name, "fonts-nanum / fonts-nanum-extra")
        dirs = ", ".join(str(d) for d in font_dirs) or "(no directories)"
        super().__init__(
            f"font file {file_name!r} not found in {dirs}; "
            f"install the Debian package {package} (apt-get install {package})"
        )
        self.file_name = file_name
        self.package = package


@functools.lru_cache(maxsize=64)
def _find_font_cached(file_name: str, font_dirs: tuple[Path, ...]) -> Path:
    """Return the first ``file_name`` directly in a folder, else the first found below one."""
    for directory in font_dirs:
        candidate = directory / file_name
        if candidate.is_file():
            return candidate
    for directory in font_dirs:
        if not directory.is_dir():
            continue
        matches = sorted(p for p in directory.rglob(file_name) if p.is_file())
        if matches:
            return matches[0]
    raise FontMissingError(file_name, font_dirs)


def find_font(name: str, *, font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS) -> Path:
    """Locate a Nanum font file.

    Args:
        name: A style key of :data:`FONTS` (e.g. ``"hand"``) or a font file name
            (e.g. ``"NanumPen.ttf"``).
        font_dirs: Directories searched in order (first directly, then recursively).

    Returns:
        The path of the font file.

    Raises:
        FontMissingError: If the file is in none of the directories.

    """
    file_name = FONTS.get(name, name)
    return _find_font_cached(file_name, tuple(Path(d) for d in font_dirs))


@functools.lru_cache(maxsize=256)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """Load a font file at a pixel size (cached; basic layout, so pages do not depend on raqm).

    Args:
        path: The font file.
        size: The em size in pixels.

    Returns:
        The loaded font.

    """
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=32)
def glyph_ratio(path: Path) -> float:
    """Return the mean Hangul glyph height of the font as a fraction of its em size.

    Args:
        path: The font file.

    Returns:
        The ratio, so that a glyph height in pixels divided by it gives the em size.

    """
    font = load_font(path, 200)
    heights = [font.getbbox(ch)[3] - font.getbbox(ch)[1] for ch in _GLYPH_SAMPLE]
    return max(sum(heights) / len(heights), 1.0) / 200
