"""Ingest: check that a master opens and decodes, record its fixity and dimensions.

Decoding every pixel is the costly part of ingest and of OCR's preparation alike, so when OCR
is on the check is done by resampling the master the way OCR will
(:mod:`pipeline.imaging.working_image`): the grey, resampled result is kept in the work folder
(a cache, never published, not part of the record) and the OCR stage starts from it instead of
decoding the master a second time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pyvips
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import Config, IngestConfig
from pipeline.errors import MissingDependencyError, ScanError
from pipeline.fsio import sha256_file
from pipeline.imaging import working_image as reduction
from pipeline.imaging.vips import (
    floats_in_unit_range,
    header_get,
    jpeg2000_reader,
    open_master,
    oriented_size,
    vips_message,
    vips_version,
)
from pipeline.layout import Layout
from pipeline.records import StageRecord
from pipeline.results import IngestResult
from pipeline.stages.spec import PageInput, StageSpec

log = logging.getLogger(__name__)

NAME = "ingest"

# Formats a master may be in (``ingest.formats``), their display names and libvips loaders.
FORMAT_NAMES = {"tiff": "TIFF", "jpeg": "JPEG", "png": "PNG", "jp2k": "JPEG 2000"}
LOADERS = {"tiff": "tiffload", "jpeg": "jpegload", "png": "pngload", "jp2k": "jp2kload"}
SUFFIX_FORMATS = {
    ".tif": "tiff",
    ".tiff": "tiff",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".jp2": "jp2k",
    ".j2k": "jp2k",
    ".jpx": "jp2k",
}
# Content we recognise but never take as a master, for a message that says what the file is.
OTHER_NAMES = {
    "gif": "a GIF image",
    "bmp": "a BMP image",
    "webp": "a WebP image",
    "heif": "a HEIF/AVIF image",
    "jxl": "a JPEG XL image",
    "pdf": "a PDF document",
    "psd": "a Photoshop document",
    "svg": "an SVG drawing",
    "zip": "a ZIP archive (or an office document)",
    "vips": "a libvips image file",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2k"),
    (b"\xffO\xffQ", "jp2k"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF", "pdf"),
    (b"8BPS", "psd"),
    (b"PK\x03\x04", "zip"),
    (b"\xff\x0a", "jxl"),
    (b"\x00\x00\x00\x0cJXL ", "jxl"),
    (b"\x08\xf2\xa6\xb6", "vips"),
    (b"\xb6\xa6\xf2\x08", "vips"),
)
SNIFF_BYTES = 512


class WorkingImage(BaseModel):
    """The OCR settings that decide the working image ingest keeps for OCR."""

    model_config = ConfigDict(frozen=True)

    dpi: int
    assume_dpi: int


class IngestSettings(BaseModel):
    """The ingest section, and how OCR will reduce the masters (None when OCR is off).

    Only the ingest section is part of the fingerprint: the working image is a cache named by
    the master's content and the reduction, which no record depends on, so a new ``ocr.dpi``
    does not redo ingest (OCR then decodes the masters itself, once).
    """

    model_config = ConfigDict(frozen=True)

    ingest: IngestConfig
    working_image: WorkingImage | None = Field(default=None, exclude=True)


def settings(cfg: Config) -> IngestSettings:
    """The ingest section, plus ``ocr.dpi`` and ``ocr.assume_dpi`` when OCR is on."""
    keep = WorkingImage(dpi=cfg.ocr.dpi, assume_dpi=cfg.ocr.assume_dpi) if cfg.ocr.enabled else None
    return IngestSettings(ingest=cfg.ingest, working_image=keep)


def preflight(settings: IngestSettings) -> dict[str, str]:
    """Ingest needs libvips with a loader for every accepted format.

    JPEG 2000 may instead be decoded by the ``vips`` program (whose version is then part of
    the tool versions, so a new one redoes ingest).

    Raises:
        MissingDependencyError: ``ingest.formats`` names a format nothing here can read.

    """
    tools = {"libvips": vips_version()}
    for fmt in settings.ingest.formats:
        if fmt == "jp2k":
            tools.update(jpeg2000_reader())
        elif not pyvips.type_find("VipsOperation", LOADERS[fmt]):
            raise MissingDependencyError(
                f"ingest.formats includes {fmt!r}, but libvips {vips_version()} cannot read "
                f"{FORMAT_NAMES[fmt]} (remove it from ingest.formats, or convert those masters "
                "to TIFF)"
            )
    return tools


def sniff(head: bytes) -> str:
    """Name the kind of content from the first bytes of a file.

    Returns:
        A key of :data:`FORMAT_NAMES` or :data:`OTHER_NAMES`, ``text``, or ``unknown``.

    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"heis"):
        return "heif"
    stripped = head.lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in head):
        return "svg"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut off at the end of the sample is still text.
            if exc.start < len(head) - 3:
                return "bmp" if head.startswith(b"BM") else "unknown"
        return "text"
    return "bmp" if head.startswith(b"BM") else "unknown"


def _refusal(kind: str, head: bytes, accepted: Sequence[str]) -> str:
    """Why a file's content is not taken as a master, and what to do."""
    names = ", ".join(FORMAT_NAMES[f] for f in accepted)
    if kind == "text":
        preview = head[:40].decode("utf-8", "replace").split("\n")[0].strip()
        return f"not an image: the file holds text ({preview!r}); expected {names}"
    if kind == "unknown":
        return f"not an image in a format we take: unrecognised content; expected {names}"
    what = OTHER_NAMES.get(kind) or FORMAT_NAMES[kind]
    hint = "convert it to TIFF"
    if kind in FORMAT_NAMES:
        hint += f" or add {kind!r} to ingest.formats"
    return f"unsupported format: the file is {what}; expected {names} ({hint})"


def _check_single_page(image: pyvips.Image, source: Path) -> None:
    """Refuse multi-page files; accept reduced-resolution copies (pyramid levels, thumbnails).

    A pyramidal TIFF stores its smaller levels as further pages, and some scanners add a
    thumbnail page. Such pages are at most half the size of the first page in both directions;
    any other page is a page of its own, which would be silently dropped.

    Raises:
        ScanError: A further page is not a reduced-resolution copy of the first.

    """
    pages = int(header_get(image, "n-pages", 1) or 1)
    if pages <= 1:
        return
    for number in range(1, pages):
        try:
            page = pyvips.Image.new_from_file(str(source), page=number, fail_on="error")
        except pyvips.Error as exc:
            raise ScanError(f"cannot read page {number + 1}: {vips_message(exc)}") from None
        if page.width * 2 > image.width or page.height * 2 > image.height:
            raise ScanError(
                f"multi-page file ({pages} pages, page {number + 1} is {page.width} x "
                f"{page.height} px): split it into one file per page "
                "(e.g. 'vips copy in.tif[page=N] out_N.tif')"
            )


def _describe(image: pyvips.Image) -> IngestResult:
    """Describe a master's encoding, colour and orientation (what conversions it needs)."""
    return IngestResult(
        loader=str(header_get(image, "vips-loader", "")),
        bands=image.bands,
        format=str(image.format),
        interpretation=str(image.interpretation),
        bits=int(header_get(image, "bits-per-sample", 0) or 0),
        palette=bool(header_get(image, "palette", 0) or header_get(image, "palette-bit-depth", 0)),
        has_alpha=bool(image.hasalpha()),
        orientation=int(header_get(image, "orientation", 1) or 1),
        has_icc=image.get_typeof("icc-profile-data") != 0,
    )


def _read_head(source: Path) -> tuple[os.stat_result, bytes]:
    """A master's stat and first bytes.

    Raises:
        ScanError: Missing, unreadable, not a regular file or empty.
    """
    try:
        before = source.stat()
    except FileNotFoundError:
        hint = "a broken link" if source.is_symlink() else "listed in volume.toml?"
        raise ScanError(f"file not found ({hint})") from None
    except OSError as exc:
        raise ScanError(f"cannot read file ({exc.strerror})") from None
    if not source.is_file():
        raise ScanError("not a regular file")
    if before.st_size == 0:
        raise ScanError("empty file (0 bytes): the scan or the copy did not complete")
    try:
        with source.open("rb") as fh:
            return before, fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise ScanError(f"cannot read file ({exc.strerror})") from None


def _open_checked(source: Path, kind: str, limits: IngestConfig, layout: Layout) -> pyvips.Image:
    """Open a master with the loader its content calls for; one page, not too small.

    Raises:
        ScanError: Read by another loader, multi-page, too small or over the pixel limit.
    """
    image = open_master(source, max_pixels=limits.max_pixels, scratch=layout.scratch_dir)
    loader = str(header_get(image, "vips-loader", ""))
    if not loader.startswith(LOADERS[kind]):
        raise ScanError(f"libvips reads this {FORMAT_NAMES[kind]} file as {loader!r}; refusing it")
    _check_single_page(image, source)
    width, height = oriented_size(image)
    if min(width, height) < limits.min_side:
        raise ScanError(
            f"image is {width} x {height} px, smaller than ingest.min_side = {limits.min_side} "
            "px: a placeholder or thumbnail rather than a scan?"
        )
    return image


def _decode(
    image: pyvips.Image, source: Path, plan: reduction.Reduction | None, max_pixels: int
) -> tuple[pyvips.Image, pyvips.Image | None, list[float] | None]:
    """Decode every pixel once, streaming, so truncated or corrupt data fails here.

    Returns:
        The image (opened again after measuring floating-point samples), OCR's reduced copy
        (if OCR resamples), and the samples' range (floating-point masters only).

    Raises:
        ScanError: The image data is damaged or incomplete.
    """
    reduced = None
    value_range: list[float] | None = None
    try:
        if floats_in_unit_range(image):
            # Floating-point samples: 0-1 or 0-255? Derivatives need to know (one more pass).
            stats = image.stats()
            value_range = [round(stats.getpoint(0, 0)[0], 6), round(stats.getpoint(1, 0)[0], 6)]
            image = open_master(source, max_pixels=max_pixels)
        if plan is not None and plan.resamples:
            reduced = reduction.shrink_master(image, plan)
        elif value_range is None:
            image.min()
    except pyvips.Error as exc:
        raise ScanError(f"image data is damaged or incomplete: {vips_message(exc)}") from None
    return image, reduced, value_range


def run(inp: PageInput, settings: IngestSettings, layout: Layout) -> StageRecord:
    """Validate one master without modifying it (it is only ever opened for reading).

    Args:
        inp: The page.
        settings: Accepted formats, size limits and OCR's reduction.
        layout: Where OCR's working image is kept (the only file ingest leaves), and the
            scratch folder a JPEG 2000 master is decoded into (unlinked as soon as it is open).

    Returns:
        A record whose result holds sha256, size, mtime, encoding and oriented dimensions.

    Raises:
        ScanError: Missing, empty, not an accepted image, truncated or damaged, multi-page,
            too small or too large, or changed while being read.

    """
    source = Path(inp.item.source)
    before, head = _read_head(source)
    kind = sniff(head)
    limits = settings.ingest
    if kind not in limits.formats:
        raise ScanError(_refusal(kind, head, limits.formats))
    image = _open_checked(source, kind, limits, layout)
    width, height = oriented_size(image)
    keep = settings.working_image
    plan = (
        reduction.plan_reduction(image, dpi=keep.dpi, assume_dpi=keep.assume_dpi)
        if keep is not None
        else None
    )
    image, reduced, value_range = _decode(image, source, plan, limits.max_pixels)
    sha = sha256_file(source)
    after = source.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise ScanError(
            "the file changed while it was being read (is it still being copied?); run again "
            "once it is complete"
        )
    described = _describe(image)
    if value_range is not None:
        described = described.model_copy(update={"value_range": tuple(value_range)})
    if reduced is not None and plan is not None:
        _keep_working_image(
            reduced,
            described.unit_floats,
            layout.working_image_path(
                inp.item.volume, inp.item.page, reduction.working_image_key(sha, plan)
            ),
        )
    warnings = []
    named = SUFFIX_FORMATS.get(source.suffix.lower())
    if named != kind:
        warnings.append(f"the name ends in {source.suffix} but the content is {FORMAT_NAMES[kind]}")
    log.debug("ingested %s (%d x %d)", source.name, width, height)
    result = described.model_copy(
        update={
            "file": source.name,
            "sha256": sha,
            "size": before.st_size,
            "mtime_ns": before.st_mtime_ns,
            "file_format": kind,
            "width": width,
            "height": height,
            "warnings": warnings,
        }
    )
    tools = {"libvips": vips_version(), **(jpeg2000_reader() if kind == "jp2k" else {})}
    return StageRecord.done(NAME, inp.item.volume, inp.item.page, result, tool_versions=tools)


def _keep_working_image(reduced: pyvips.Image, unit_floats: bool, path: Path) -> None:
    """Leave OCR its starting image; if it cannot be made, OCR decodes the master itself."""
    try:
        reduction.save_working_image(reduction.to_grey(reduced, unit_floats=unit_floats), path)
    except (ScanError, pyvips.Error) as exc:
        # Colour problems are the derivatives' to report (tiles and OCR will, for this page).
        log.debug("no working image for %s: %s", path, exc)
    except OSError as exc:
        log.warning("cannot keep the working image %s (%s); OCR will decode the master", path, exc)


SPEC = StageSpec(
    name=NAME,
    scope="page",
    version=3,
    inputs=PageInput,
    settings_type=IngestSettings,
    settings_for=settings,
    check_tools=preflight,
    work=run,
    item_fields=(),
    # Touching or copying a master changes these but not a single derivative.
    volatile=frozenset({"file", "size", "mtime_ns"}),
    reads_master=True,
)
