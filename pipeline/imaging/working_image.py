"""The working image: a master decoded once, resampled for OCR and made grey.

Ingest decodes every pixel of a master to validate it; when OCR is on it does so by resampling
the master the way OCR will (:func:`shrink_master`), and keeps the grey result
(:func:`save_working_image`) for the OCR stage, which otherwise decodes the master itself
(:func:`working_image`). Both paths run the same functions on the same pixels, so OCR output
does not depend on which was taken. The plan (:class:`Reduction`) comes from the master's
header alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pyvips

from pipeline.fsio import atomic_file
from pipeline.imaging.vips import header_get, normalise, vips_version

log = logging.getLogger(__name__)

# Declared resolutions outside this range are scanner or library defaults, not measurements.
PLAUSIBLE_DPI = (100.0, 4800.0)
# Resampling by less than this is not worth the blur.
MIN_RESAMPLE = 0.95
# Bump when the working image of the same master and settings would come out different.
WORKING_IMAGE_VERSION = 1


def source_resolution(image: pyvips.Image, assume_dpi: int) -> tuple[float, bool]:
    """The scan's resolution in dpi and whether the file declared it.

    Args:
        image: The opened master.
        assume_dpi: What to use when the file declares none (or an implausible one).
    """
    dpi = float(image.xres) * 25.4
    unit = header_get(image, "resolution-unit")
    if PLAUSIBLE_DPI[0] <= dpi <= PLAUSIBLE_DPI[1] and unit != "none":
        return dpi, True
    return float(assume_dpi), False


@dataclass(frozen=True)
class Reduction:
    """How a master becomes the grey working image that OCR starts from.

    Computed from the master's header alone, so ingest (which decodes every master anyway)
    and the OCR stage agree on it without sharing anything but the settings.
    """

    scale: float
    source_dpi: float
    declared: bool
    dpi: int

    @property
    def resamples(self) -> bool:
        """Whether the master is resampled at all."""
        return self.scale < MIN_RESAMPLE

    def steps(self) -> list[str]:
        """The record's description of the reduction."""
        steps = [f"source {self.source_dpi:.0f} dpi" + ("" if self.declared else " (assumed)")]
        if self.resamples:
            steps.append(f"resampled to {self.dpi} dpi")
        return steps


def plan_reduction(master: pyvips.Image, *, dpi: int, assume_dpi: int) -> Reduction:
    """The reduction of ``master`` (only its header is read).

    Args:
        master: The opened master.
        dpi: Resolution to resample to; 0 keeps the master's.
        assume_dpi: The master's resolution when its file declares none.
    """
    src_dpi, declared = source_resolution(master, assume_dpi)
    scale = dpi / src_dpi if dpi else 1.0
    if scale < MIN_RESAMPLE:
        return Reduction(scale=scale, source_dpi=src_dpi, declared=declared, dpi=dpi)
    return Reduction(scale=1.0, source_dpi=src_dpi, declared=declared, dpi=round(src_dpi))


def shrink_master(master: pyvips.Image, plan: Reduction) -> pyvips.Image:
    """Decode every pixel of ``master`` once, resampled as planned, into memory.

    Bands, depth and EXIF orientation stay as in the master; resampling first makes every
    later step (colour conversion, rotation) work on the small image, and needs no random
    access to the master. Without resampling the master is returned as it is (lazily).

    Args:
        master: The opened master (sequential access is enough).
        plan: Its reduction (:func:`plan_reduction`).

    Raises:
        pyvips.Error: The image data cannot be decoded.
    """
    if not plan.resamples:
        return master
    return master.resize(plan.scale).copy_memory()


def to_grey(image: pyvips.Image, *, unit_floats: bool = False) -> pyvips.Image:
    """Upright 8-bit grey, via the same normalisation as every derivative, in memory.

    Args:
        image: The master, or its resampled copy (:func:`shrink_master`).
        unit_floats: Its floating-point samples are 0-1 (``IngestResult.unit_floats``).

    Raises:
        ScanError: The colour profile is broken or the bands cannot be made into an image.
        pyvips.Error: libvips failed while converting.
    """
    upright, _notes = normalise(image, unit_floats=unit_floats)
    if upright.bands > 1:
        upright = upright.colourspace("b-w")
    return upright.copy_memory()


def working_image(
    master: pyvips.Image, plan: Reduction, *, unit_floats: bool = False
) -> pyvips.Image:
    """The grey, upright, resampled image OCR starts from (what ingest may have cached).

    Args:
        master: The opened master.
        plan: Its reduction.
        unit_floats: Its floating-point samples are 0-1.
    """
    return to_grey(shrink_master(master, plan), unit_floats=unit_floats)


def working_image_key(sha256: str, plan: Reduction) -> str:
    """Names a working image by the master's content, the reduction and the libvips version."""
    text = json.dumps(
        [WORKING_IMAGE_VERSION, vips_version(), sha256, plan.scale, plan.dpi, plan.source_dpi]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def save_working_image(image: pyvips.Image, path: Path) -> None:
    """Keep ``image`` at ``path`` (lossless PNG), replacing the page's older copies.

    Written under a temporary name and renamed, so a reader never sees half a file; not
    fsynced, as this is a cache: a copy that does not load is simply not used.

    Args:
        image: The working image (:func:`to_grey` of the shrunk master).
        path: Its place (:meth:`Layout.working_image_path`).
    """
    for old in path.parent.glob("*.png"):
        if old != path:
            old.unlink(missing_ok=True)
    with atomic_file(path) as tmp:
        image.pngsave(str(tmp), compression=1, keep="none")


def load_working_image(path: Path, plan: Reduction, canvas: tuple[int, int]) -> pyvips.Image | None:
    """The kept working image if it is there, decodes completely and has the planned size.

    Args:
        path: Where ingest keeps it (:meth:`Layout.working_image_path`).
        plan: The reduction it should have been made with.
        canvas: The canvas (oriented master) width and height.

    Returns:
        The image in memory, or None (then OCR decodes the master itself). A copy that is
        there but unusable is logged as a warning: it points at a disk or a bug, not at the
        master.
    """
    try:
        if not path.is_file():
            log.debug("no working image kept at %s: decoding the master", path)
            return None
        image = pyvips.Image.new_from_file(str(path), fail_on="error").copy_memory()
    except (pyvips.Error, OSError) as exc:
        log.warning("ignoring the unreadable working image %s (%s): decoding the master", path, exc)
        return None
    expected = (canvas[0] * plan.scale, canvas[1] * plan.scale)
    if (
        image.bands != 1
        or image.format != "uchar"
        or abs(image.width - expected[0]) > 1
        or abs(image.height - expected[1]) > 1
    ):
        log.warning(
            "ignoring the working image %s (not the planned size): decoding the master", path
        )
        return None
    log.debug("starting from the working image %s", path)
    return image


def discard_working_image(path: Path) -> None:
    """Remove a used working image (and its page folder once empty); a failure only logs."""
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    except OSError as exc:
        if path.exists():
            log.warning("cannot remove the used working image %s (%s)", path, exc)
