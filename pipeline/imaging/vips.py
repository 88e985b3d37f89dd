"""libvips helpers shared by stages: safe opening of masters and process-wide vips settings."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pyvips

from pipeline.errors import MissingDependencyError, ScanError
from pipeline.imaging import jpeg2000

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


def open_master(
    path: Path, *, max_pixels: int, access: str = "sequential", scratch: Path | None = None
) -> pyvips.Image:
    """Open a master for reading, refusing images whose header declares too many pixels.

    The file is only ever read. Loading fails on any decoder error (``fail_on="error"``): by
    default libvips decodes a truncated TIFF or JPEG without complaint, the missing part coming
    out black or grey. Only the header is read here, and libvips opens a tiny file whose header
    declares 100000 x 100000 px as happily as a real one, hence the pixel limit before any
    pixel is decoded. Pixels are decoded on demand by the caller.

    A JPEG 2000 master that this libvips cannot load is decoded by the ``vips`` program
    instead (:mod:`pipeline.imaging.jpeg2000`) into an uncompressed file in ``scratch``, which is
    opened and unlinked at once: the disk space is returned when the image is no longer used.

    Args:
        path: The master.
        max_pixels: Largest accepted width x height (``ingest.max_pixels``).
        access: ``sequential`` (streaming, one pass) or ``random`` (a decoded JPEG 2000 copy
            is always random).
        scratch: Folder for a decoded JPEG 2000 copy (default: the system's temporary folder).

    Returns:
        The lazily decoded image.

    Raises:
        ScanError: The file is unreadable, not an image, larger than ``max_pixels``, or (JPEG
            2000) its data is damaged or incomplete.
        MissingDependencyError: A JPEG 2000 master, and nothing here can decode it.
    """
    if decoded_by_program(path):
        return _open_jpeg2000(path, max_pixels=max_pixels, scratch=scratch)
    try:
        if path.name.endswith("]"):
            # libvips would read a trailing "[...]" of a file name as load options.
            source = pyvips.Source.new_from_file(str(path))
            image = pyvips.Image.new_from_source(source, "", access=access, fail_on="error")
        else:
            image = pyvips.Image.new_from_file(str(path), access=access, fail_on="error")
    except pyvips.Error as exc:
        raise ScanError(f"cannot read image: {_vips_message(exc, path)}") from None
    _check_pixels(image.width, image.height, max_pixels)
    return image


def decoded_by_program(path: Path) -> bool:
    """Opening this master runs the ``vips`` program (a JPEG 2000 this libvips cannot load).

    Such a master is best opened once with random access and the image reused: its decoded
    copy is an uncompressed local file, so reading it twice costs nothing, while opening the
    master again decodes it again.
    """
    return jpeg2000.sniff(path) and not pyvips.type_find("VipsOperation", "jp2kload")


def master_header(path: Path, *, max_pixels: int) -> pyvips.Image:
    """The master's header (size, resolution, orientation) as an image; no pixel is decoded.

    For what this libvips loads, that is the opened master itself (libvips reads only the
    header until pixels are asked for). A JPEG 2000 master that only the ``vips`` program
    decodes is not decoded at all: a lazy black image of its size carries the resolution read
    from the JP2 header. Its pixels are meaningless: use it to plan, never to read.

    Raises:
        ScanError: The file is unreadable, not an image, or larger than ``max_pixels``.
    """
    if not decoded_by_program(path):
        return open_master(path, max_pixels=max_pixels)
    header = jpeg2000.read_header(path)
    _check_pixels(header.width, header.height, max_pixels)
    image = pyvips.Image.black(header.width, header.height)
    if header.dpi is not None:
        image = image.copy(xres=header.dpi[0] / 25.4, yres=header.dpi[1] / 25.4)
    return image


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    pixels = width * height
    if pixels > max_pixels:
        raise ScanError(
            f"image declares {width} x {height} px ({pixels / 1e6:,.0f} Mpx), over "
            f"the limit of {max_pixels / 1e6:,.0f} Mpx: a damaged or malicious header, or a "
            "genuinely huge scan (then raise ingest.max_pixels)"
        )


def _open_jpeg2000(path: Path, *, max_pixels: int, scratch: Path | None) -> pyvips.Image:
    """Decode a JPEG 2000 master with the vips program into a scratch file, and open that.

    The file is unlinked once open (its data stays until the image is garbage-collected), so
    nothing is left behind. The copy is always opened for random access, whatever the caller
    asked: it is an uncompressed local file, so random access reads only the strips asked for,
    while libvips' sequential mode can fail with "out of order read" when its threads stall on
    a loaded machine, and a copy that can be read twice need never be decoded again.

    The header fields libvips' loader misses are added from the JP2 header (capture
    resolution, ICC profile), and the loader named is the master's.
    """
    header = jpeg2000.read_header(path)
    _check_pixels(header.width, header.height, max_pixels)
    copy = jpeg2000.decode(path, scratch, vips_version())
    try:
        # A source made from a descriptor keeps its own copy of it (one made from the name
        # would open the file again by name), so the name can go at once.
        fd = os.open(copy, os.O_RDONLY)
        try:
            source = pyvips.Source.new_from_descriptor(fd)
        finally:
            os.close(fd)
        image = pyvips.Image.new_from_source(source, "", access="random", fail_on="error")
    except pyvips.Error as exc:
        raise ScanError(f"cannot read the decoded copy: {_vips_message(exc, copy)}") from None
    except OSError as exc:
        raise ScanError(f"cannot read the decoded copy ({exc.strerror})") from None
    finally:
        copy.unlink(missing_ok=True)
    if header.dpi is not None:
        image = image.copy(xres=header.dpi[0] / 25.4, yres=header.dpi[1] / 25.4)
    else:
        image = image.copy()
    image.set_type(pyvips.GValue.gstr_type, "vips-loader", "jp2kload")
    for name in ("n-pages", "vips-sequential"):
        if image.get_typeof(name) != 0:
            image.remove(name)
    if header.icc is not None and image.get_typeof("icc-profile-data") == 0:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", header.icc)
    _check_pixels(image.width, image.height, max_pixels)
    return image


def jpeg2000_reader() -> dict[str, str]:
    """What decodes JPEG 2000 masters here, as tool versions (none beyond libvips if it can).

    Raises:
        MissingDependencyError: Neither this libvips nor a ``vips`` program reads JPEG 2000.
    """
    if pyvips.type_find("VipsOperation", "jp2kload"):
        return {}
    return jpeg2000.reader_versions(vips_version())


def oriented_size(image: pyvips.Image) -> tuple[int, int]:
    """Width and height after the EXIF orientation is applied."""
    orientation = int(header_get(image, "orientation", 1) or 1)
    if orientation in SWAPPING_ORIENTATIONS:
        return image.height, image.width
    return image.width, image.height


def _vips_message(exc: pyvips.Error, path: Path | None = None) -> str:
    """The useful lines of a libvips error, without the generic wrapper or the file's path."""
    detail = str(getattr(exc, "detail", "") or exc).strip()
    lines = []
    for line in detail.splitlines():
        line = line.strip()
        if path is not None:
            line = line.replace(f'"{path}" ', "").replace(f'"{path}"', "this file")
            line = line.replace(str(path), "this file")
        if line:
            lines.append(line)
    return "; ".join(dict.fromkeys(lines))[:300] or "unknown libvips error"


def vips_message(exc: pyvips.Error) -> str:
    """Public alias of the libvips error formatter."""
    return _vips_message(exc)


# -- normalisation for derivatives -------------------------------------------------------------

# What autorot does for each EXIF orientation, in words for the record.
ORIENTATION_NOTES = {
    2: "mirrored",
    3: "rotated 180",
    4: "mirrored, rotated 180",
    5: "mirrored, rotated 270",
    6: "rotated 90",
    7: "mirrored, rotated 90",
    8: "rotated 270",
}
_GREY = frozenset({"b-w", "grey16"})
_DEPTH_NOTES = {"ushort": "16bit->8bit", "short": "16bit->8bit", "float": "float->8bit"}


def _is_grey(image: pyvips.Image) -> bool:
    return image.bands <= 2 and str(image.interpretation) not in ("cmyk", "lab", "labq", "labs")


def floats_in_unit_range(image: pyvips.Image) -> bool:
    """Whether ``image`` holds floating-point samples that libvips takes as 0-255.

    Such files (multispectral processing, scientific tools) usually store 0-1 instead; ingest
    measures the range (``IngestResult.unit_floats``). Linear-light colour spaces (scRGB, XYZ,
    Lab) have their own conventions and are converted by libvips as they are.
    """
    return str(image.format) in ("float", "double") and str(image.interpretation) in (
        "b-w",
        "multiband",
        "srgb",
        "rgb",
    )


def _colour_to_8bit(image: pyvips.Image, notes: list[str], unit_floats: bool) -> pyvips.Image:
    """Convert to 8-bit sRGB or 8-bit grey, alpha still attached."""
    grey = _is_grey(image) or str(image.interpretation) in _GREY
    depth = str(image.format)
    if unit_floats and floats_in_unit_range(image):
        image = image * 255
        notes.append("float 0-1 -> 0-255")
    if image.get_typeof("icc-profile-data") != 0:
        kind = "cmyk" if str(image.interpretation) == "cmyk" else "icc"
        try:
            image = image.icc_transform(
                "sgrey" if grey else "srgb", embedded=True, intent="relative", depth=8
            )
        except pyvips.Error as exc:
            raise ScanError(
                f"cannot apply the embedded colour profile: {vips_message(exc)}"
            ) from None
        notes.append(f"{kind}->{'grey' if grey else 'srgb'}")
    elif str(image.interpretation) == "cmyk":
        # No profile: libvips' built-in CMYK profile is the usual assumption (as Photoshop's).
        image = image.icc_transform("srgb", input_profile="cmyk", intent="relative", depth=8)
        notes.append("cmyk->srgb")
    elif str(image.interpretation) not in ("srgb", "b-w") or depth != "uchar":
        source = str(image.interpretation)
        target = "b-w" if grey else "srgb"
        if source in ("multiband", "matrix", "histogram", "fourier"):
            # Untagged bands: say what they are so colourspace() scales the depth.
            # Floats are 0-255 by here (libvips' convention, or scaled from 0-1 above).
            to_8bit = {"uchar": "b-w", "float": "b-w", "double": "b-w"}
            hint = {**to_8bit, "ushort": "grey16"} if grey else {k: "srgb" for k in to_8bit}
            image = image.copy(interpretation=hint.get(depth, "grey16" if grey else "rgb16"))
        elif source not in ("srgb", "b-w", "rgb16", "grey16"):
            notes.append(f"{source}->{target}")
        image = image.colourspace(target)
    if depth in _DEPTH_NOTES:
        notes.append(_DEPTH_NOTES[depth])
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def normalise(image: pyvips.Image, *, unit_floats: bool = False) -> tuple[pyvips.Image, list[str]]:
    """Turn any master into upright 8-bit sRGB (or 8-bit grey) without alpha.

    Embedded ICC profiles (RGB, CMYK or grey) are converted to sRGB (grey: sGrey) with relative
    intent; untagged CMYK uses libvips' built-in profile; 16-bit and float are reduced to 8-bit;
    alpha is flattened on white; palettes are expanded by the loader; the EXIF orientation is
    applied, so the result has the oriented (canvas) size. Pixels are still decoded lazily.

    Args:
        image: The master as opened by :func:`open_master` (random access if it is rotated).
        unit_floats: Its floating-point samples are 0-1 (``IngestResult.unit_floats``), not 0-255.

    Returns:
        The image to write derivatives from, and notes on what was changed (for the record),
        e.g. ``["icc->srgb", "16bit->8bit", "alpha flattened", "rotated 90"]``.

    Raises:
        ScanError: The colour profile is broken or the bands cannot be made into an image.

    """
    notes: list[str] = []
    orientation = int(header_get(image, "orientation", 1) or 1)
    described = f"{image.bands} bands of {image.format} ({image.interpretation})"
    if header_get(image, "palette") or int(header_get(image, "palette-bit-depth", 0) or 0):
        notes.append("palette expanded")
    image = _colour_to_8bit(image, notes, unit_floats)
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
        notes.append("alpha flattened")
    if image.bands not in (1, 3):
        raise ScanError(
            f"cannot make an sRGB or grey image from {described}; "
            "convert the scan to RGB or greyscale"
        )
    if orientation in ORIENTATION_NOTES:
        image = image.autorot()
        notes.append(ORIENTATION_NOTES[orientation])
    return image.copy(interpretation="b-w" if image.bands == 1 else "srgb"), notes


def jpeg_options(quality: int) -> dict[str, Any]:
    """Return the JPEG settings of every derivative: reproducible bytes, no metadata."""
    return {"Q": quality, "optimize_coding": True, "keep": "none"}


def jpeg_suffix(quality: int) -> str:
    """Return :func:`jpeg_options` as a libvips suffix (for dzsave's tiles)."""
    return f".jpg[Q={quality},optimize_coding,keep=none]"
