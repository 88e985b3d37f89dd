"""The synthetic sample generator.

Manuscript pages, their text and their damage, for demos, tests and benchmarks:
:func:`generate_volume` writes a volume folder, :func:`render_page` draws one page.
``text`` holds the passages, ``compose`` lays them out on pages, ``fonts`` finds the Nanum
fonts, ``grid`` rules the page, ``ruling`` prints notebook ruling on its paper, ``damage`` ages it,
``render`` draws it, ``descriptor`` writes ``volume.toml`` and ``generate`` writes the files.
"""

from __future__ import annotations

from pipeline.samples.damage import CONDITIONS, DEFAULT_CONDITIONS
from pipeline.samples.fonts import (
    DEFAULT_FONT_DIRS,
    DEFAULT_FONTS,
    FONT_PACKAGES,
    FONTS,
    FontMissingError,
    find_font,
)
from pipeline.samples.generate import IMAGE_FORMATS, SamplePage, generate_volume
from pipeline.samples.grid import lines_per_page
from pipeline.samples.render import render_page
from pipeline.samples.ruling import RULINGS
from pipeline.samples.text import HEADER_PHRASE

__all__ = [
    "CONDITIONS",
    "DEFAULT_CONDITIONS",
    "DEFAULT_FONTS",
    "DEFAULT_FONT_DIRS",
    "FONTS",
    "FONT_PACKAGES",
    "HEADER_PHRASE",
    "IMAGE_FORMATS",
    "RULINGS",
    "FontMissingError",
    "SamplePage",
    "find_font",
    "generate_volume",
    "lines_per_page",
    "render_page",
]
