"""libvips helpers shared by stages: safe opening of masters and process-wide vips settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyvips

from pipeline.errors import MissingDependencyError, ScanError

log = logging.getLogger(__name__)

# EXIF orientations 5-8 swap width and height.
SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


def configure_vips(*, cache_max_mem: int = 100 * 1024 * 1024) -> None:
    """Set libvips' process-wide cache once per process (called by worker start-up, not stages).

    The operation cache only helps interactive use; in a batch it holds memory for nothing.
    """
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(cache_max_mem)


def vips_version() -> str:
    """The libvips version, e.g. ``8.18.7``."""
    return f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"


def check_dzsave() -> None:
    """Fail unless this libvips can write tile pyramids.

    Raises:
        MissingDependencyError: dzsave is missing from the libvips build.
    """
    if not pyvips.type_find("VipsOperation", "dzsave"):
        raise MissingDependencyError(
            f"libvips {vips_version()} has no dzsave (install the pyvips-binary wheel)"
        )


def header_get(image: pyvips.Image, name: str, default: Any = None) -> Any:
    """A header field, or ``default`` when the image has none."""
    if image.get_typeof(name) == 0:
        return default
    return image.get(name)


def open_master(path: Path, *, max_pixels: int, access: str = "sequential") -> pyvips.Image:
    """Open a master for reading, refusing images whose header declares too many pixels.

    Loading fails on any decoder error (``fail_on="error"``), so a truncated file raises instead
    of decoding with a grey or black tail. Only the header is read here; pixels are decoded on
    demand by the caller.

    Raises:
        ScanError: The file is unreadable, not an image, or larger than ``max_pixels``.
    """
    try:
        image = pyvips.Image.new_from_file(str(path), access=access, fail_on="error")
    except pyvips.Error as exc:
        raise ScanError(f"cannot read image: {_vips_message(exc)}") from None
    pixels = image.width * image.height
    if pixels > max_pixels:
        raise ScanError(
            f"image declares {image.width} x {image.height} px ({pixels / 1e6:.0f} Mpx), over "
            f"the limit of {max_pixels / 1e6:.0f} Mpx (raise ingest.max_pixels if it is genuine)"
        )
    return image


def oriented_size(image: pyvips.Image) -> tuple[int, int]:
    """Width and height after the EXIF orientation is applied."""
    orientation = int(header_get(image, "orientation", 1) or 1)
    if orientation in SWAPPING_ORIENTATIONS:
        return image.height, image.width
    return image.width, image.height


def _vips_message(exc: pyvips.Error) -> str:
    """The useful line of a libvips error."""
    detail = str(getattr(exc, "detail", "") or exc).strip()
    lines = [ln.strip() for ln in detail.splitlines() if ln.strip()]
    return "; ".join(dict.fromkeys(lines))[:300] or "unknown libvips error"


def vips_message(exc: pyvips.Error) -> str:
    """Public alias of the libvips error formatter."""
    return _vips_message(exc)
