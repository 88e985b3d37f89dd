"""The page images of a PDF: a JPEG the tiles stage wrote, re-encoded only when it must be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyvips

from pipeline.errors import PdfError
from pipeline.imaging.vips import jpeg_options, vips_message
from pipeline.pdf.document import PageImage


@dataclass(frozen=True)
class Derivative:
    """A JPEG of the whole page the image service lists: its path in the service, its size."""

    rel: str
    width: int
    height: int

    @property
    def side(self) -> int:
        """Its long side."""
        return max(self.width, self.height)


def choose_derivative(options: Sequence[Derivative], max_side: int) -> Derivative:
    """The derivative to put in the PDF for a long side of ``max_side`` (0: the largest).

    The smallest one at least that large (scaled down if larger), else the largest one: a page
    is never scaled up.

    Raises:
        ValueError: No derivative to choose from.
    """
    if not options:
        raise ValueError("no derivative to choose from")
    ordered = sorted(options, key=lambda d: (d.side, d.rel))
    if max_side:
        for option in ordered:
            if option.side >= max_side:
                return option
    return ordered[-1]


def page_image(path: Path, *, max_side: int, quality: int, keep_bytes: bool) -> PageImage:
    """Read a JPEG derivative for the PDF, scaling it down to ``max_side`` when it is larger.

    The file's own bytes go into the PDF when it needs no scaling and ``keep_bytes`` (its JPEG
    quality is the one asked for); otherwise libvips re-encodes it at ``quality``. Either way
    the whole image is decoded once, so that a damaged file fails here, not in a reader.

    Args:
        path: The derivative (``full/max/0/default.jpg`` or a listed size).
        max_side: The long side of the PDF's image (0: as it is).
        quality: JPEG quality of a re-encoded image.
        keep_bytes: Whether the file's JPEG quality is already ``quality``.

    Returns:
        The JPEG, its size and number of bands (1 or 3).

    Raises:
        PdfError: The file is missing, is not a readable JPEG, or has another colour model.
    """
    try:
        data = path.read_bytes()
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error")
        is_jpeg = image.get("vips-loader") == "jpegload_buffer"
        scale = bool(max_side) and max(image.width, image.height) > max_side
        if scale:
            image = pyvips.Image.thumbnail_buffer(
                data, max_side, height=max_side, size="down", fail_on="error"
            )
        if image.bands not in (1, 3) or image.format != "uchar":
            raise PdfError(f"{path.name}: not an 8-bit grey or RGB image ({image.bands} bands)")
        if scale or not keep_bytes or not is_jpeg:
            data = image.jpegsave_buffer(**jpeg_options(quality))
        else:
            image.avg()  # decodes every pixel: a truncated file fails here
    except FileNotFoundError:
        raise PdfError(f"{path}: missing (run the tiles stage again)") from None
    except OSError as exc:
        raise PdfError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except pyvips.Error as exc:
        raise PdfError(f"{path}: not a readable JPEG ({vips_message(exc)})") from None
    return PageImage(jpeg=data, width=image.width, height=image.height, bands=image.bands)
