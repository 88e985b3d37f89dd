"""Writing a sample volume: page images, their ground truth and ``volume.toml``."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from pipeline.errors import ConfigError
from pipeline.samples.compose import compose_volume
from pipeline.samples.damage import CONDITIONS, DEFAULT_CONDITIONS
from pipeline.samples.descriptor import descriptor_toml
from pipeline.samples.fonts import (
    DEFAULT_FONT_DIRS,
    DEFAULT_FONTS,
    FONTS,
    RUSSIAN_STYLES,
    find_font,
)
from pipeline.samples.grid import lines_per_page
from pipeline.samples.render import render_page
from pipeline.samples.ruling import check_ruling
from pipeline.samples.text import PEOPLE_SETS, RUSSIAN_PASSAGES

__all__ = ["IMAGE_FORMATS", "SamplePage", "generate_volume"]

log = logging.getLogger(__name__)

IMAGE_FORMATS = ("tif", "jpg", "png")
_FORMAT_ALIASES = {"tif": "tif", "tiff": "tif", "jpg": "jpg", "jpeg": "jpg", "png": "png"}
_A4_WIDTH_INCH = 210 / 25.4


@dataclass(frozen=True)
class SamplePage:
    """One generated page and its ground truth.

    Attributes:
        file: Image file name inside the volume folder, e.g. ``p001.tif``.
        page_id: File stem, e.g. ``p001``.
        font: Style key of :data:`~pipeline.samples.fonts.FONTS`.
        condition: One of :data:`~pipeline.samples.damage.CONDITIONS`.
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


@dataclass(frozen=True)
class _Plan:
    """What each page of a volume gets, decided from checked arguments before any file."""

    volume_no: int
    page_ids: tuple[str, ...]
    styles: tuple[str, ...]
    conditions: tuple[str, ...]
    image_format: str
    capacity: int
    dpi: int
    ruling: str


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
    ruling: str = "none",
    people_set: str = "all",
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
    ``ruling`` prints notebook ruling on the paper (8 mm apart, so the rules drift through
    the 11 mm text lines), under the ink and the damage; it leaves the ground truth as it is,
    and the pages of ``ruling="none"`` are the pages generated before the option existed.
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
        fonts: Style keys of :data:`~pipeline.samples.fonts.FONTS` to cycle over; default
            print, hand, gothic.
        conditions: Conditions to cycle over; default clean, degraded, faded.
        image_format: ``"tif"`` (deflate, 8-bit grey), ``"jpg"`` or ``"png"``.
        write_descriptor: Whether to write ``volume.toml``.
        dpi: Resolution tag; default derived from ``width`` assuming A4 paper
            (1240 -> 150, 2480 -> 300, 4960 -> 600).
        font_dirs: Directories searched for the font files.
        russian_set: Which passages of :data:`~pipeline.samples.text.RUSSIAN_PASSAGES`
            mixed pages quote (``"tuning"`` or ``"held-out"``).
        ruling: Notebook ruling: ``"none"``, ``"light"`` (grey 150-190) or ``"dark"``
            (grey 100-140), see :data:`~pipeline.samples.ruling.RULINGS`.
        people_set: Which biographies of :data:`~pipeline.samples.text.PEOPLE_SETS` the
            text is drawn from (``"all"``, or the disjoint ``"tuning"`` and ``"held-out"``).

    Returns:
        The generated pages in order.

    Raises:
        ValueError: On invalid arguments (unknown style, condition, format or ruling,
            a volume id that is not a plain folder name, a page too small).
        FontMissingError: If a needed font file is not installed.
        ConfigError: The volume folder exists and is not empty (or is a file), or a file
            appeared in it while the pages were being written.

    """
    plan = _plan(
        volume_id=volume_id,
        pages=pages,
        width=width,
        height=height,
        fonts=fonts,
        conditions=conditions,
        image_format=image_format,
        dpi=dpi,
        font_dirs=font_dirs,
        russian_set=russian_set,
        ruling=ruling,
        people_set=people_set,
    )
    text = compose_volume(
        seed=seed,
        volume_no=plan.volume_no,
        page_ids=plan.page_ids,
        styles=plan.styles,
        capacity=plan.capacity,
        russian_set=russian_set,
        people_set=people_set,
    )
    volume_dir = Path(dest) / volume_id
    _new_volume_folder(volume_dir)
    gt_dir = volume_dir / "ground-truth"
    try:
        gt_dir.mkdir()
    except FileExistsError:
        raise ConfigError(f"{gt_dir}: already exists; samples never replace a file") from None
    result = [
        _write_page(
            volume_dir, plan, i, lines, seed=seed, size=(width, height), font_dirs=font_dirs
        )
        for i, lines in enumerate(text.pages)
    ]
    if write_descriptor:
        descriptor = descriptor_toml(
            volume_no=plan.volume_no,
            call_number=f"MS-BIO-{plan.volume_no:03d}",
            year=text.year,
            pages=pages,
            biographies=text.biographies,
            russian=any(s in RUSSIAN_STYLES for s in plan.styles),
        )
        _create_text(volume_dir / "volume.toml", descriptor)
    log.info("generated %d sample pages in %s", pages, volume_dir)
    return result


def _plan(
    *,
    volume_id: str,
    pages: int,
    width: int,
    height: int,
    fonts: Sequence[str] | None,
    conditions: Sequence[str] | None,
    image_format: str,
    dpi: int | None,
    font_dirs: Sequence[Path],
    russian_set: str,
    ruling: str,
    people_set: str,
) -> _Plan:
    """Check the arguments of :func:`generate_volume` and decide what each page gets.

    Raises:
        ValueError: On an invalid argument.
        FontMissingError: If a needed font file is not installed.

    """
    if pages < 1:
        raise ValueError(f"pages must be >= 1, got {pages}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", volume_id):
        raise ValueError(f"volume_id must be a plain folder name, got {volume_id!r}")
    if russian_set not in RUSSIAN_PASSAGES:
        raise ValueError(
            f"unknown Russian set {russian_set!r}; expected one of {sorted(RUSSIAN_PASSAGES)}"
        )
    if people_set not in PEOPLE_SETS:
        raise ValueError(
            f"unknown people set {people_set!r}; expected one of {sorted(PEOPLE_SETS)}"
        )
    check_ruling(ruling)
    fmt = _FORMAT_ALIASES.get(image_format.lower())
    if fmt is None:
        raise ValueError(f"unknown image format {image_format!r}; expected one of {IMAGE_FORMATS}")
    font_cycle = tuple(fonts) if fonts is not None else DEFAULT_FONTS
    condition_cycle = tuple(conditions) if conditions is not None else DEFAULT_CONDITIONS
    _check_cycles(font_cycle, condition_cycle, font_dirs)
    capacity = lines_per_page(width=width, height=height)
    if capacity < 3:
        raise ValueError(f"page {width}x{height} holds {capacity} lines; need at least 3")
    digits = re.search(r"(\d+)$", volume_id)
    return _Plan(
        volume_no=int(digits.group(1)) if digits and int(digits.group(1)) > 0 else 1,
        page_ids=tuple(f"p{i + 1:03d}" for i in range(pages)),
        styles=tuple(font_cycle[i % len(font_cycle)] for i in range(pages)),
        # Conditions shift by one after each round of fonts, so that all combinations occur.
        conditions=tuple(
            condition_cycle[(i + i // len(font_cycle)) % len(condition_cycle)] for i in range(pages)
        ),
        image_format=fmt,
        capacity=capacity,
        dpi=dpi if dpi is not None else max(1, round(width / _A4_WIDTH_INCH)),
        ruling=ruling,
    )


def _check_cycles(
    font_cycle: Sequence[str], condition_cycle: Sequence[str], font_dirs: Sequence[Path]
) -> None:
    """Check the styles and conditions, and find every font before anything is written.

    Raises:
        ValueError: A cycle is empty, or a style or condition is unknown.
        FontMissingError: If a needed font file is not installed.

    """
    if not font_cycle or not condition_cycle:
        raise ValueError("fonts and conditions must not be empty")
    for style in font_cycle:
        if style not in FONTS:
            raise ValueError(f"unknown font style {style!r}; expected one of {sorted(FONTS)}")
    for condition in condition_cycle:
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; expected one of {CONDITIONS}")
    for style in dict.fromkeys(font_cycle):
        find_font(style, font_dirs=font_dirs)


def _write_page(
    volume_dir: Path,
    plan: _Plan,
    i: int,
    lines: Sequence[str],
    *,
    seed: int,
    size: tuple[int, int],
    font_dirs: Sequence[Path],
) -> SamplePage:
    """Render page ``i`` and write its image and its ground truth (``ground-truth/<id>.txt``)."""
    lines = [unicodedata.normalize("NFC", line) for line in lines]
    page_id, style, condition = plan.page_ids[i], plan.styles[i], plan.conditions[i]
    image = render_page(
        text_lines=lines,
        font=style,
        condition=condition,
        seed=(seed * 1_000_003 + i * 7_919 + 17) % (2**63),
        width=size[0],
        height=size[1],
        font_dirs=font_dirs,
        ruling=plan.ruling,
    )
    file_name = f"{page_id}.{plan.image_format}"
    _save(image, volume_dir / file_name, plan.image_format, plan.dpi)
    text = "\n".join(lines)
    _create_text(volume_dir / "ground-truth" / f"{page_id}.txt", text + "\n")
    log.debug("wrote %s (%s, %s)", volume_dir / file_name, style, condition)
    return SamplePage(
        file=file_name,
        page_id=page_id,
        font=style,
        condition=condition,
        text=text,
        width=size[0],
        height=size[1],
    )


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
    """Write a page image into a new file (TIFF with deflate, JPEG at quality 90, or PNG)."""

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
