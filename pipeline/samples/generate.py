"""Deterministic generator of synthetic scanned manuscript pages with ground truth."""

from __future__ import annotations

import functools
import logging
import math
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import BinaryIO

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from pipeline.errors import ConfigError
from pipeline.samples.text import FILLERS, PEOPLE, RUSSIAN_LINES, RUSSIAN_PASSAGES, Person

__all__ = [
    "CONDITIONS",
    "DEFAULT_CONDITIONS",
    "DEFAULT_FONTS",
    "DEFAULT_FONT_DIRS",
    "FONTS",
    "FONT_PACKAGES",
    "HEADER_PHRASE",
    "IMAGE_FORMATS",
    "FontMissingError",
    "SamplePage",
    "find_font",
    "generate_volume",
    "lines_per_page",
    "render_page",
]

log = logging.getLogger(__name__)

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

CONDITIONS = ("clean", "degraded", "faded", "aged")
DEFAULT_FONTS = ("print", "hand", "gothic")
DEFAULT_CONDITIONS = ("clean", "degraded", "faded")
IMAGE_FORMATS = ("tif", "jpg", "png")
HEADER_PHRASE = "인물전기"
"""Phrase present in the header line of every generated page."""

DEFAULT_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
)

_HAND_STYLES = frozenset({"hand", "hand2", "brush"})
_RUSSIAN_STYLES = frozenset({"mixed"})
_FORMAT_ALIASES = {"tif": "tif", "tiff": "tif", "jpg": "jpg", "jpeg": "jpg", "png": "png"}
_REFERENCE_WIDTH = 1240  # A4 at 150 dpi; all geometry is scaled from this width.
_A4_WIDTH_INCH = 210 / 25.4
_GLYPH_SAMPLE = "한국력사로동인물전기녀성리론"


class FontMissingError(RuntimeError):
    """Raised when a Nanum font file cannot be found in the font directories."""

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


@dataclass(frozen=True)
class SamplePage:
    """One generated page and its ground truth.

    Attributes:
        file: Image file name inside the volume folder, e.g. ``p001.tif``.
        page_id: File stem, e.g. ``p001``.
        font: Style key of :data:`FONTS`.
        condition: One of :data:`CONDITIONS`.
        text: Ground truth (NFC), lines joined by newlines.
        width: Image width in pixels.
        height: Image height in pixels.

    """

    file: str
    page_id: str
    font: str
    condition: str
    text: str
    width: int
    height: int


# --------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=64)
def _find_font_cached(file_name: str, font_dirs: tuple[Path, ...]) -> Path:
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
def _load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=32)
def _glyph_ratio(path: Path) -> float:
    """Return the mean Hangul glyph height of the font as a fraction of its em size."""
    font = _load_font(path, 200)
    heights = [font.getbbox(ch)[3] - font.getbbox(ch)[1] for ch in _GLYPH_SAMPLE]
    return max(sum(heights) / len(heights), 1.0) / 200


# -------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    scale: float
    glyph_px: float
    margin_x: int
    top: int
    pitch: int
    lines: int
    frame: tuple[int, int, int, int]


def _layout(width: int, height: int) -> _Layout:
    if width < 64 or height < 64:
        raise ValueError(f"page too small: {width}x{height} (minimum 64x64)")
    scale = width / _REFERENCE_WIDTH
    top = round(150 * scale)
    bottom = round(130 * scale)
    pitch = max(round(66 * scale), 4)
    fx, fy = round(80 * scale), round(95 * scale)
    return _Layout(
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
    return _layout(width, height).lines


# ------------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class _Look:
    paper: float
    paper_var: float
    ink: float
    ink_var: float
    noise: float
    rule: int
    stains: int


_LOOKS: dict[str, _Look] = {
    "clean": _Look(paper=234, paper_var=5, ink=28, ink_var=8, noise=4, rule=40, stains=0),
    "degraded": _Look(paper=222, paper_var=8, ink=45, ink_var=14, noise=7, rule=45, stains=2),
    "faded": _Look(paper=228, paper_var=5, ink=115, ink_var=12, noise=4, rule=30, stains=0),
    # A 1990s typed or printed leaf: uneven ink, plus the damage of _age_paper and _illuminate.
    "aged": _Look(paper=226, paper_var=8, ink=70, ink_var=45, noise=7, rule=40, stains=2),
}


def _smooth_field(
    rng: random.Random, size: tuple[int, int], base: float, amplitude: float, cells: int
) -> Image.Image:
    """Return a smooth random greyscale field (bicubic upscaling of a coarse grid)."""
    gw, gh = cells, max(2, round(cells * size[1] / size[0]))
    values = bytes(
        max(0, min(255, round(base + rng.uniform(-amplitude, amplitude)))) for _ in range(gw * gh)
    )
    grid = Image.frombytes("L", (gw, gh), values)
    return grid.resize(size, Image.Resampling.BICUBIC)


@functools.lru_cache(maxsize=16)
def _noise_lut(sigma: float) -> tuple[int, ...]:
    dist = NormalDist(0, sigma)
    return tuple(max(0, min(255, round(128 + dist.inv_cdf((i + 0.5) / 256)))) for i in range(256))


def _add_noise(page: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    w, h = page.size
    noise = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(list(_noise_lut(sigma)))
    return ImageChops.add(page, noise, scale=1.0, offset=-128)


def _stain_mask(rng: random.Random, size: tuple[int, int], count: int, scale: float) -> Image.Image:
    """Return a blurred mask of faint round stains (coffee rings and blots)."""
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


def _draw_blot(
    draw: ImageDraw.ImageDraw, rng: random.Random, lay: _Layout, size: tuple[int, int]
) -> None:
    """Draw a small irregular ink blot into the darkness layer."""
    cx = rng.uniform(lay.margin_x, size[0] - lay.margin_x)
    cy = rng.uniform(lay.top, size[1] - lay.top)
    level = rng.randint(110, 170)
    for _ in range(rng.randint(3, 6)):
        r = rng.uniform(3, 9) * lay.scale
        dx, dy = rng.uniform(-8, 8) * lay.scale, rng.uniform(-8, 8) * lay.scale
        draw.ellipse((cx + dx - r, cy + dy - r, cx + dx + r, cy + dy + r), fill=level)


def _draw_dust(
    draw: ImageDraw.ImageDraw, rng: random.Random, lay: _Layout, size: tuple[int, int]
) -> None:
    """Sprinkle small dark specks (dust and paper fibres) into the darkness layer."""
    for _ in range(rng.randint(150, 400)):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(0.4, 1.6) * max(lay.scale, 0.5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(90, 200))


def _age_paper(
    paper: Image.Image,
    rng: random.Random,
    lay: _Layout,
    text_lines: Sequence[str],
    *,
    font_path: Path,
    hand: bool,
) -> Image.Image:
    """Show-through of the other side of the leaf and foxing spots, darkening ``paper``.

    The other side carries the page's own lines in another order, mirrored, faint and
    blurred (ink seen through the paper); foxing is a scatter of small soft brown spots.
    """
    size = paper.size
    back = Image.new("L", size, 0)
    draw = ImageDraw.Draw(back)
    lines = [line for line in text_lines if line.strip()]
    rng.shuffle(lines)
    # The other side's text block, mirrored, lies over this side's lines and between them.
    shift = rng.uniform(0.2, 0.8) * lay.pitch
    left = lay.margin_x + rng.uniform(0.2, 0.4) * size[0]
    for j, line in enumerate(lines):
        baseline = lay.top + (j + 1) * lay.pitch + shift
        _draw_line(
            draw,
            rng,
            unicodedata.normalize("NFC", line),
            font_path=font_path,
            glyph_px=lay.glyph_px,
            x=left,
            baseline=baseline,
            hand=hand,
        )
    back = back.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    back = back.filter(ImageFilter.GaussianBlur(1.6 * lay.scale))
    strength = rng.uniform(0.12, 0.22)
    paper = ImageChops.subtract(paper, back.point(lambda v: round(v * strength)))
    spots = Image.new("L", size, 0)
    draw = ImageDraw.Draw(spots)
    for _ in range(rng.randint(25, 60)):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(2, 9) * lay.scale
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(20, 55))
    spots = spots.filter(ImageFilter.GaussianBlur(2 * lay.scale))
    return ImageChops.subtract(paper, spots)


def _illuminate(page: Image.Image, rng: random.Random) -> Image.Image:
    """Uneven light: a gradient across and down the page, and the gutter's shadow at one side."""
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
    ratio = _glyph_ratio(font_path)
    if not hand:
        font = _load_font(font_path, max(round(glyph_px / ratio), 4))
        draw.text((x, baseline), line, font=font, fill=255, anchor="ls")
        return x + font.getlength(line)
    # Handwriting: per-line size, per-character baseline and spacing jitter.
    size = max(round(glyph_px * rng.uniform(0.94, 1.06) / ratio), 4)
    font = _load_font(font_path, size)
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


def render_page(
    *,
    text_lines: Sequence[str],
    font: str,
    condition: str,
    seed: int,
    width: int,
    height: int,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
) -> Image.Image:
    """Render a synthetic scanned manuscript page.

    The page has an uneven paper tone, a thin double frame and ruled lines, the
    text lines (one per ruled line, starting at the top), a small skew, noise and,
    depending on ``condition``, stains, blots or faded ink; an ``aged`` page (a 1990s leaf,
    not among the default conditions) has a gutter shadow and uneven light, show-through of
    its other side, foxing, uneven ink and more blur. Geometry scales with ``width``
    (reference: 1240 px = A4 at 150 dpi, ~31 px Hangul glyphs).

    Args:
        text_lines: Lines to write, top to bottom; empty strings leave a line blank.
        font: Style key of :data:`FONTS`.
        condition: One of :data:`CONDITIONS`.
        seed: Seed of the page's random generator; same arguments, same pixels.
        width: Page width in pixels.
        height: Page height in pixels.
        font_dirs: Directories searched for the font file.

    Returns:
        A greyscale (mode ``"L"``) image.

    Raises:
        ValueError: On an unknown font style or condition, or if the lines do not fit.
        FontMissingError: If the font file is not installed.

    """
    if font not in FONTS:
        raise ValueError(f"unknown font style {font!r}; expected one of {sorted(FONTS)}")
    if condition not in _LOOKS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {CONDITIONS}")
    lay = _layout(width, height)
    if len(text_lines) > lay.lines:
        raise ValueError(
            f"{len(text_lines)} lines do not fit on a {width}x{height} page "
            f"(at most {lay.lines}; see lines_per_page())"
        )
    font_path = find_font(font, font_dirs=font_dirs)
    look = _LOOKS[condition]
    rng = random.Random(seed)
    size = (width, height)

    paper = _smooth_field(rng, size, look.paper + rng.uniform(-4, 4), look.paper_var, 6)
    if look.stains:
        stains = _stain_mask(rng, size, rng.randint(1, look.stains), lay.scale)
        paper = ImageChops.subtract(paper, stains)
    if condition == "aged":
        paper = _age_paper(
            paper, rng, lay, text_lines, font_path=font_path, hand=font in _HAND_STYLES
        )

    darkness = Image.new("L", size, 0)
    draw = ImageDraw.Draw(darkness)
    fx0, fy0, fx1, fy1 = lay.frame
    thin = max(1, round(1.5 * lay.scale))
    gap = max(2, round(6 * lay.scale))
    draw.rectangle((fx0, fy0, fx1, fy1), outline=look.rule + 50, width=max(1, round(3 * lay.scale)))
    draw.rectangle((fx0 + gap, fy0 + gap, fx1 - gap, fy1 - gap), outline=look.rule, width=thin)
    rule_offset = round(0.22 * lay.pitch)
    for j in range(lay.lines):
        y = lay.top + (j + 1) * lay.pitch + rule_offset
        draw.line((fx0 + gap, y, fx1 - gap, y), fill=look.rule, width=thin)

    hand = font in _HAND_STYLES
    right_limit = fx1 - gap
    for j, raw in enumerate(text_lines):
        line = unicodedata.normalize("NFC", raw.rstrip())
        if not line:
            continue
        baseline = lay.top + (j + 1) * lay.pitch + rng.uniform(-1.5, 1.5) * lay.scale
        right = _draw_line(
            draw,
            rng,
            line,
            font_path=font_path,
            glyph_px=lay.glyph_px,
            x=lay.margin_x,
            baseline=baseline,
            hand=hand,
        )
        if right > right_limit:
            log.warning(
                "line %d overflows the page frame (%.0f > %d px): %r",
                j + 1,
                right,
                right_limit,
                line,
            )

    if condition == "degraded":
        for _ in range(rng.randint(1, 2)):
            _draw_blot(draw, rng, lay, size)
        _draw_dust(draw, rng, lay, size)

    angle = rng.uniform(0.3, 1.5) * rng.choice((-1.0, 1.0))
    darkness = darkness.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=0)

    ink = _smooth_field(rng, size, look.ink, look.ink_var, 5)
    page = Image.composite(ink, paper, darkness)
    if condition == "aged":
        page = _illuminate(page, rng)
    blur = 0.8 * lay.scale * {"degraded": 1.5, "aged": 1.7}.get(condition, 1.0)
    page = page.filter(ImageFilter.GaussianBlur(blur))
    page = _add_noise(page, rng, look.noise)
    log.debug(
        "rendered %dx%d page: font=%s condition=%s skew=%.2f", width, height, font, condition, angle
    )
    return page


# ----------------------------------------------------------------------------- text


_MIN_LINE_CHARS = 14
_MAX_LINE_CHARS = 19


def _wrap(sentences: Sequence[str], seed: str) -> list[str]:
    """Wrap sentences into manuscript lines (paragraphs of 2-4 sentences)."""
    rng = random.Random(seed)
    lines: list[str] = []
    i = 0
    while i < len(sentences):
        count = rng.randint(2, 4)
        words = " ".join(sentences[i : i + count]).split()
        i += count
        limit = rng.randint(_MIN_LINE_CHARS, _MAX_LINE_CHARS)
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and len(candidate) > limit:
                lines.append(current)
                current = word
                limit = rng.randint(_MIN_LINE_CHARS, _MAX_LINE_CHARS)
            else:
                current = candidate
        if current:
            lines.append(current)
    return lines


_RUSSIAN_MIN_CHARS = 22
_RUSSIAN_MAX_CHARS = 28
_RUSSIAN_PER_PAGE = 3


def _russian_inserts(rng: random.Random, russian_set: str) -> list[list[str]]:
    """Russian passages for one mixed page, each wrapped into lines of Korean-like width."""
    chosen = rng.sample(RUSSIAN_PASSAGES[russian_set], _RUSSIAN_PER_PAGE)
    out = []
    for sentence in chosen:
        lines: list[str] = []
        limit = rng.randint(_RUSSIAN_MIN_CHARS, _RUSSIAN_MAX_CHARS)
        for word in sentence.split():
            if lines and len(f"{lines[-1]} {word}") <= limit:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        out.append(lines)
    return out


def _interleave(body: list[str], inserts: list[list[str]], rng: random.Random) -> list[str]:
    """Put each passage of ``inserts`` between lines of ``body``, none next to another."""
    slots = sorted(rng.sample(range(1, max(len(body), len(inserts) + 1) + 1), len(inserts)))
    out: list[str] = []
    previous = 0
    for slot, passage in zip(slots, inserts, strict=True):
        out.extend(body[previous:slot])
        out.extend(passage)
        previous = slot
    return out + body[previous:]


def _fillers(rng: random.Random, person: Person, count: int) -> list[str]:
    """Return ``count`` filler sentences (pool reshuffled each round, years ascending)."""
    chosen: list[str] = []
    while len(chosen) < count:
        pool = list(FILLERS)
        rng.shuffle(pool)
        chosen.extend(pool)
    chosen = chosen[:count]
    slots = sum(1 for s in chosen if "{year}" in s)
    years = iter(sorted(rng.randint(person.born + 20, person.last - 3) for _ in range(slots)))
    return [s.replace("{year}", str(next(years))) if "{year}" in s else s for s in chosen]


def _biography_lines(
    person: Person, *, target: int, rng: random.Random, wrap_seed: str
) -> list[str]:
    """Return the title line plus wrapped prose of one biography, at most ``target`` lines."""
    title = f"{person.role_ko} {person.name_ko}"
    budget = target - 1
    if budget <= 0:
        return [title][: max(target, 0)]
    early, late = list(person.sentences[:-2]), list(person.sentences[-2:])

    def wrapped(body: Sequence[str]) -> list[str]:
        return _wrap(body, wrap_seed)

    lines = wrapped(early + late)
    if len(lines) > budget:
        while len(early) > 1 and len(wrapped(early + late)) > budget:
            early.pop()
        body = early + late
        if len(wrapped(body)) > budget:
            body = early
        return [title, *wrapped(body)[:budget]]
    extra = _fillers(rng, person, budget)
    lo, hi = 0, len(extra)
    while lo < hi:  # largest filler count that still fits
        mid = (lo + hi + 1) // 2
        if len(wrapped(early + extra[:mid] + late)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return [title, *wrapped(early + extra[:lo] + late)]


# --------------------------------------------------------------------------- volume


_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_]+", key) else _toml_str(key)


def _toml_str(value: str) -> str:
    out = []
    for ch in value:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_table(values: dict[str, str]) -> str:
    inner = ", ".join(f"{_toml_key(k)} = {_toml_str(v)}" for k, v in values.items())
    return "{ " + inner + " }"


@dataclass(frozen=True)
class _Range:
    person: Person
    first: str
    last: str


def _descriptor(
    *,
    volume_no: int,
    call_number: str,
    year: int,
    pages: int,
    ranges: Sequence[_Range],
    russian: bool,
) -> str:
    people = [r.person for r in ranges]
    roles_ko = ", ".join(p.role_ko for p in people)
    roles_en = ", ".join(f"a {p.role_en}" for p in people)
    # Russian is found line by line: a mixed volume needs no language of its own.
    languages = ["kor"]
    lang_ko, lang_en = ("조선어, 로어", "Korean, Russian") if russian else ("조선어", "Korean")
    lines = [
        "# Synthetic sample volume written by pipeline.samples; all persons are fictional.",
        "label = "
        + _toml_table(
            {
                "ko": f"{HEADER_PHRASE} 제{volume_no}권",
                "ko-Latn": f"Inmul chŏn'gi che {volume_no} kwŏn",
                "en": f"Biographies, volume {volume_no}",
            }
        ),
        "summary = "
        + _toml_table(
            {
                "ko": (
                    f"1990년대에 손으로 쓴 인물전기 원고이다. "
                    f"{roles_ko} 등 {len(people)}명의 략력을 담고 있다."
                ),
                "en": (
                    f"Handwritten biographical manuscript from the 1990s with {len(people)} short "
                    f"biographies ({roles_en}). Synthetic sample; all persons are fictional."
                ),
            }
        ),
        'viewing_direction = "left-to-right"',
        "ocr_languages = [" + ", ".join(_toml_str(x) for x in languages) + "]",
    ]
    metadata: list[tuple[dict[str, str], dict[str, str]]] = [
        (
            {"en": "Compiler", "ko": "편찬자"},
            {
                "ko": "도 력사자료실 전기편찬조",
                "en": "Provincial historical records office, biography group",
            },
        ),
        ({"en": "Date", "ko": "날자"}, {"ko": f"{year}년", "en": str(year)}),
        ({"en": "Language", "ko": "언어"}, {"ko": lang_ko, "en": lang_en}),
        (
            {"en": "Subject", "ko": "주제"},
            {
                "ko": "인물전기; " + "; ".join(p.role_ko for p in people),
                "en": "Biography; " + "; ".join(p.role_en.capitalize() + "s" for p in people),
            },
        ),
        (
            {"en": "Physical description", "ko": "형태"},
            {
                "ko": f"원고 {pages}장, 괘지에 손글씨",
                "en": f"{pages} leaves, handwritten on ruled paper",
            },
        ),
        ({"en": "Identifier", "ko": "청구번호"}, {"ko": call_number, "en": call_number}),
        (
            {"en": "Source collection", "ko": "원본 소장"},
            {
                "ko": "인물전기 원고 모음 (합성 표본)",
                "en": "Biographical manuscripts (synthetic sample)",
            },
        ),
    ]
    for label, value in metadata:
        lines += [
            "",
            "[[metadata]]",
            f"label = {_toml_table(label)}",
            f"value = {_toml_table(value)}",
        ]
    for r in ranges:
        p = r.person
        label = {
            "ko": f"{p.role_ko} {p.name_ko} 전기",
            "en": f"Biography of {p.name_en}, {p.role_en}",
        }
        lines += [
            "",
            "[[ranges]]",
            f"label = {_toml_table(label)}",
            f"first = {_toml_str(r.first)}",
            f"last = {_toml_str(r.last)}",
        ]
    return "\n".join(lines) + "\n"


def _split_pages(pages: int) -> list[int]:
    """Return how many pages each biography spans (1, 2 or 3 biographies)."""
    count = 1 if pages == 1 else 2 if pages <= 4 else 3
    base, extra = divmod(pages, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _create(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a new file; never replace one, even one that appeared a moment ago.

    Raises:
        ConfigError: ``path`` exists (another program wrote into the folder meanwhile).

    """
    try:
        fh = path.open("xb")
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; samples never replace a file") from None
    with fh:
        write(fh)


def _create_text(path: Path, text: str) -> None:
    """Write a new UTF-8 text file as given (no newline translation); never replace one.

    Raises:
        ConfigError: ``path`` exists.

    """
    data = text.encode("utf-8")
    _create(path, lambda fh: fh.write(data))


def _save(image: Image.Image, path: Path, image_format: str, dpi: int) -> None:
    def write(fh: BinaryIO) -> None:
        # Into the exclusively created file itself (libtiff writes through its descriptor).
        if image_format == "tif":
            image.save(fh, format="TIFF", compression="tiff_deflate", dpi=(dpi, dpi))
        elif image_format == "jpg":
            image.save(fh, format="JPEG", quality=90, dpi=(dpi, dpi))
        else:
            image.save(fh, format="PNG", dpi=(dpi, dpi))

    _create(path, write)


def _new_volume_folder(volume_dir: Path) -> None:
    """Create ``volume_dir`` (and its parents), or accept it when it exists and is empty.

    Sample pages go only into a folder of their own: an existing volume folder may hold real
    masters and their ``volume.toml``.

    Raises:
        ConfigError: The folder exists and is not empty, or the name is taken by a file.

    """
    try:
        volume_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{volume_dir}: exists and is not a folder") from None
    except OSError as exc:
        raise ConfigError(f"{volume_dir}: cannot create the folder ({exc.strerror})") from None
    if not volume_dir.is_dir():
        raise ConfigError(f"{volume_dir}: exists and is not a folder")
    if any(volume_dir.iterdir()):
        raise ConfigError(
            f"{volume_dir}: the folder exists and is not empty; samples are written only into "
            "a new or empty folder (choose another --volume-id or DEST)"
        )


def generate_volume(
    dest: Path,
    *,
    volume_id: str = "sample-001",
    pages: int = 3,
    seed: int = 0,
    width: int = 1240,
    height: int = 1754,
    fonts: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    image_format: str = "tif",
    write_descriptor: bool = True,
    dpi: int | None = None,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
    russian_set: str = "tuning",
) -> list[SamplePage]:
    """Write a synthetic volume of manuscript pages with ground truth.

    Creates ``dest/<volume_id>/`` with page images ``p001.<ext>``, ...,
    ``ground-truth/p001.txt`` (UTF-8, NFC, trailing newline) and, if requested,
    ``volume.toml``. The text is a sequence of 1-3 short fictional biographies
    (1 for one page, 2 for 2-4 pages, 3 otherwise), each on whole pages; every
    page starts with the header line ``인물전기 제N권`` (N from the trailing digits
    of ``volume_id``, else 1). Fonts cycle over pages; conditions cycle too but
    shift by one after each full round of fonts, so that all combinations occur.
    Pages in the ``"mixed"`` style carry a Russian heading line and three Russian
    passages (names, dates, sentences of one to three lines each) between the lines of
    the Korean text; the descriptor names Russian among the volume's languages but leaves
    ``ocr_languages`` at ``["kor"]``, as staff would not know which pages have it.
    The output is byte-identical for identical arguments (given the same
    Pillow/FreeType build). The volume folder must be new or empty,
    and every file is created exclusively: nothing that exists is ever replaced.

    Args:
        dest: Parent directory of the volume folder (created if missing).
        volume_id: Name of the volume folder.
        pages: Number of pages (>= 1).
        seed: Seed for text selection and page rendering.
        width: Page width in pixels; 1240 is A4 at 150 dpi, 2480 at 300 dpi.
        height: Page height in pixels.
        fonts: Style keys of :data:`FONTS` to cycle over; default print, hand, gothic.
        conditions: Conditions to cycle over; default clean, degraded, faded.
        image_format: ``"tif"`` (deflate, 8-bit grey), ``"jpg"`` or ``"png"``.
        write_descriptor: Whether to write ``volume.toml``.
        dpi: Resolution tag; default derived from ``width`` assuming A4 paper
            (1240 -> 150, 2480 -> 300, 4960 -> 600).
        font_dirs: Directories searched for the font files.
        russian_set: Which passages of :data:`~pipeline.samples.text.RUSSIAN_PASSAGES`
            mixed pages quote (``"tuning"`` or ``"held-out"``).

    Returns:
        The generated pages in order.

    Raises:
        ValueError: On invalid arguments (unknown style, condition or format,
            a volume id that is not a plain folder name, a page too small).
        FontMissingError: If a needed font file is not installed.
        ConfigError: The volume folder exists and is not empty (or is a file), or a file
            appeared in it while the pages were being written.

    """
    if pages < 1:
        raise ValueError(f"pages must be >= 1, got {pages}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", volume_id):
        raise ValueError(f"volume_id must be a plain folder name, got {volume_id!r}")
    if russian_set not in RUSSIAN_PASSAGES:
        raise ValueError(
            f"unknown Russian set {russian_set!r}; expected one of {sorted(RUSSIAN_PASSAGES)}"
        )
    fmt = _FORMAT_ALIASES.get(image_format.lower())
    if fmt is None:
        raise ValueError(f"unknown image format {image_format!r}; expected one of {IMAGE_FORMATS}")
    font_cycle = tuple(fonts) if fonts is not None else DEFAULT_FONTS
    condition_cycle = tuple(conditions) if conditions is not None else DEFAULT_CONDITIONS
    if not font_cycle or not condition_cycle:
        raise ValueError("fonts and conditions must not be empty")
    for style in font_cycle:
        if style not in FONTS:
            raise ValueError(f"unknown font style {style!r}; expected one of {sorted(FONTS)}")
    for condition in condition_cycle:
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; expected one of {CONDITIONS}")
    for style in dict.fromkeys(font_cycle):
        find_font(style, font_dirs=font_dirs)  # fail early, before writing anything
    capacity = lines_per_page(width=width, height=height)
    if capacity < 3:
        raise ValueError(f"page {width}x{height} holds {capacity} lines; need at least 3")
    resolution = dpi if dpi is not None else max(1, round(width / _A4_WIDTH_INCH))

    digits = re.search(r"(\d+)$", volume_id)
    volume_no = int(digits.group(1)) if digits and int(digits.group(1)) > 0 else 1
    header = f"{HEADER_PHRASE} 제{volume_no}권"
    text_rng = random.Random(f"pipeline.samples:text:{seed}")
    year = text_rng.randint(1991, 1998)

    styles = [font_cycle[i % len(font_cycle)] for i in range(pages)]
    conds = [
        condition_cycle[(i + i // len(font_cycle)) % len(condition_cycle)] for i in range(pages)
    ]
    page_ids = [f"p{i + 1:03d}" for i in range(pages)]
    spans = _split_pages(pages)
    people = text_rng.sample(PEOPLE, len(spans))

    page_lines: list[list[str]] = []
    ranges: list[_Range] = []
    start = 0
    for b, (person, span) in enumerate(zip(people, spans, strict=True)):
        idx = range(start, start + span)
        prefixes = [
            [header, text_rng.choice(RUSSIAN_LINES)] if styles[i] in _RUSSIAN_STYLES else [header]
            for i in idx
        ]
        inserts = [
            _russian_inserts(text_rng, russian_set) if styles[i] in _RUSSIAN_STYLES else []
            for i in idx
        ]
        caps = [
            capacity - len(p) - sum(map(len, x)) for p, x in zip(prefixes, inserts, strict=True)
        ]
        minimum = sum(caps[:-1]) + 1
        target = max(minimum, sum(caps) - text_rng.randint(0, caps[-1] // 3))
        wrap_seed = f"pipeline.samples:wrap:{seed}:{b}"
        body = _biography_lines(person, target=target, rng=text_rng, wrap_seed=wrap_seed)
        pos = 0
        for prefix, cap, insert in zip(prefixes, caps, inserts, strict=True):
            own = body[pos : pos + cap]
            page_lines.append(prefix + (_interleave(own, insert, text_rng) if insert else own))
            pos += cap
        ranges.append(_Range(person=person, first=page_ids[idx[0]], last=page_ids[idx[-1]]))
        start += span

    volume_dir = Path(dest) / volume_id
    gt_dir = volume_dir / "ground-truth"
    _new_volume_folder(volume_dir)
    try:
        gt_dir.mkdir()
    except FileExistsError:
        raise ConfigError(f"{gt_dir}: already exists; samples never replace a file") from None
    result: list[SamplePage] = []
    for i, lines in enumerate(page_lines):
        lines = [unicodedata.normalize("NFC", line) for line in lines]
        page_seed = (seed * 1_000_003 + i * 7_919 + 17) % (2**63)
        image = render_page(
            text_lines=lines,
            font=styles[i],
            condition=conds[i],
            seed=page_seed,
            width=width,
            height=height,
            font_dirs=font_dirs,
        )
        file_name = f"{page_ids[i]}.{fmt}"
        _save(image, volume_dir / file_name, fmt, resolution)
        text = "\n".join(lines)
        _create_text(gt_dir / f"{page_ids[i]}.txt", text + "\n")
        result.append(
            SamplePage(
                file=file_name,
                page_id=page_ids[i],
                font=styles[i],
                condition=conds[i],
                text=text,
                width=width,
                height=height,
            )
        )
        log.debug("wrote %s (%s, %s)", volume_dir / file_name, styles[i], conds[i])

    if write_descriptor:
        descriptor = _descriptor(
            volume_no=volume_no,
            call_number=f"MS-BIO-{volume_no:03d}",
            year=year,
            pages=pages,
            ranges=ranges,
            russian=any(s in _RUSSIAN_STYLES for s in styles),
        )
        _create_text(volume_dir / "volume.toml", descriptor)
    log.info("generated %d sample pages in %s", pages, volume_dir)
    return result
