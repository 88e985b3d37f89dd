"""libvips preprocessing before OCR: crop the scanner border, deskew, even out the paper, binarise.

Tesseract reads the text sizes of our manuscripts best at about 150 dpi (CER 3.7% against 5.1%
at 300 dpi on the benchmark pages, at twice the speed), and a Wolf-Jolion local threshold beats
Sauvola, global Otsu and tesseract's own thresholding on stained and faded paper (see
``tests/bench/bench_ocr.py`` for the numbers behind the defaults). With
``ocr.normalize_background``, a page whose paper is darker in places (a gutter shadow, uneven
light) is first divided by an estimate of its paper; pages with even paper are binarised as
they are. It is off by default: on the aged print of ``tests/bench/bench_ocr_damage.py`` it
takes the pages whose text lies in the shadow from 10-20% CER to about 8%, but costs one to
three points on others, and on pages it was not tuned on it gains nothing on average. Every
step records how OCR-image coordinates map back to the full-resolution canvas (an
:class:`~pipeline.ocr.geometry.Affine`), so hOCR, ALTO and annotations can be written in canvas
coordinates. The grey, resampled page it starts from comes from
:mod:`pipeline.imaging.working_image`.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from pathlib import Path

import pyvips

from pipeline.imaging.working_image import Reduction
from pipeline.ocr.geometry import Affine

# Local thresholds: window side (inches); Sauvola's k, R (2000); Wolf and Jolion's k (2004).
LOCAL_WINDOW_IN = 0.2
SAUVOLA_K = 0.2
SAUVOLA_R = 128.0
WOLF_K = 0.5
# Deskew: angles tried, in degrees, on a thumbnail of about this width.
DESKEW_RANGE = 5.0
DESKEW_STEP = 0.5
DESKEW_FINE_STEP = 0.1
DESKEW_MIN = 0.1
DESKEW_THUMB = 800
DESKEW_STRIPS = 20
# Background normalisation: the paper's grey is estimated at about this resolution by a closing
# over a window this wide (in inches) that takes out the text; the page is divided by it.
BACKGROUND_DPI = 25
BACKGROUND_WINDOW_IN = 0.3
# Only a page whose paper is this much darker in places (gutter shadow, uneven light) is evened
# out: flat paper, stains and blots included, reads as well or better as it is.
BACKGROUND_UNEVEN = 0.2
# Border crop: an edge row or column darker than this fraction of the paper tone is scanner bed.
BORDER_DARK = 0.5
BORDER_MAX = 0.25


@dataclass(frozen=True)
class Prepared:
    """The image handed to tesseract and how it relates to the canvas."""

    width: int
    height: int
    canvas_width: int
    canvas_height: int
    dpi: int
    source_dpi: float
    transform: Affine
    steps: tuple[str, ...]


def histogram(image: pyvips.Image) -> list[int]:
    """The 256-bin histogram of an 8-bit one-band image."""
    data = image.hist_find().cast("uint").write_to_memory()
    counts = array("I")
    counts.frombytes(data)
    return list(counts)


def otsu_level(counts: list[int]) -> int:
    """Otsu's threshold of a histogram: grey levels up to it are ink."""
    total = sum(counts)
    weighted = sum(i * c for i, c in enumerate(counts))
    below = below_sum = 0.0
    best, level = -1.0, 127
    for t, count in enumerate(counts):
        below += count
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        below_sum += t * count
        spread = below * above * (below_sum / below - (weighted - below_sum) / above) ** 2
        if spread > best:
            best, level = spread, t
    return level


def binarise_otsu(grey: pyvips.Image) -> pyvips.Image:
    """Global Otsu threshold: ink 0, paper 255."""
    level = otsu_level(histogram(grey))
    return (grey > level).ifthenelse(255, 0).cast("uchar")


def _local_stats(grey: pyvips.Image, dpi: int) -> tuple[pyvips.Image, pyvips.Image, int]:
    """Local mean and standard deviation over a box window about 5 mm wide.

    They vary slowly, so they are computed on a shrunk copy (interpolated back by the
    caller): about 10x cheaper than full-resolution windows, with the same result on text.

    Returns:
        Mean, deviation (both on the shrunk grid) and the shrink factor.
    """
    window = max(3, round(LOCAL_WINDOW_IN * dpi))
    shrink = max(1, window // 6)
    f = grey.cast("float")
    small = f.shrink(shrink, shrink) if shrink > 1 else f
    side = max(3, round(window / shrink) | 1)
    box = pyvips.Image.new_from_list([[1.0] * side], scale=side)
    mean = small.convsep(box, precision="float")
    sq_mean = (small * small).convsep(box, precision="float")
    dev = (sq_mean - mean * mean).abs() ** 0.5
    return mean, dev, shrink


def _apply(grey: pyvips.Image, threshold: pyvips.Image, shrink: int) -> pyvips.Image:
    """Ink (0) where ``grey`` is at or below the (upsampled) threshold, paper (255) elsewhere."""
    if shrink > 1:
        threshold = threshold.resize(
            grey.width / threshold.width, vscale=grey.height / threshold.height, kernel="linear"
        )
        threshold = threshold.embed(0, 0, grey.width, grey.height, extend="copy")
    return (grey.cast("float") > threshold).ifthenelse(255, 0).cast("uchar")


def binarise_sauvola(grey: pyvips.Image, dpi: int) -> pyvips.Image:
    """Sauvola's local threshold ``T = m * (1 + k * (s / R - 1))`` with R = 128: ink 0."""
    mean, dev, shrink = _local_stats(grey, dpi)
    threshold = mean * ((dev / SAUVOLA_R - 1) * SAUVOLA_K + 1)
    return _apply(grey, threshold, shrink)


def binarise_wolf(grey: pyvips.Image, dpi: int) -> pyvips.Image:
    """Wolf and Jolion's local threshold: ink 0, paper 255.

    ``T = (1 - k) m + k M + k (s / R) (m - M)``, where ``M`` is the page's darkest grey and
    ``R`` its largest local deviation (Wolf & Jolion 2004). Sauvola's fixed ``R = 128``
    breaks the strokes of faded ink; taking the dynamic range from the page itself keeps
    them, while stains and blots stay paper as with Sauvola.
    """
    mean, dev, shrink = _local_stats(grey, dpi)
    darkest = float(grey.min())
    spread = max(1.0, float(dev.max()))
    threshold = (
        mean * (1 - WOLF_K) + WOLF_K * darkest + (mean - darkest) * (dev * (WOLF_K / spread))
    )
    return _apply(grey, threshold, shrink)


def _background_grid(dpi: int) -> tuple[int, int]:
    """The shrink factor of the paper estimate and the closing's window side on it."""
    shrink = max(1, round(dpi / BACKGROUND_DPI))
    return shrink, max(3, round(BACKGROUND_WINDOW_IN * dpi / shrink) | 1)


def paper_estimate(grey: pyvips.Image, dpi: int) -> pyvips.Image:
    """The paper's grey without the ink, on a copy shrunk to about :data:`BACKGROUND_DPI`.

    Gutter shadow, uneven light, stains and the tone of old paper change the grey of the paper
    over centimetres, the text over millimetres: a closing (brightest, then darkest grey) over
    a window wider than a line of text removes the ink (text, rules) and keeps the slow changes.
    """
    shrink, side = _background_grid(dpi)
    small = grey.shrink(shrink, shrink) if shrink > 1 else grey
    return small.rank(side, side, side * side - 1).rank(side, side, 0)


def unevenness(paper: pyvips.Image) -> float:
    """How much darker the darkest paper is than the brightest (2nd and 98th percentiles), 0-1."""
    bright = max(1.0, float(paper.percent(98)))
    return max(0.0, 1.0 - float(paper.percent(2)) / bright)


def normalise_background(grey: pyvips.Image, paper: pyvips.Image, dpi: int) -> pyvips.Image:
    """Divide the page by its paper (:func:`paper_estimate`), so the paper is white everywhere.

    The estimate is smoothed and brought to the page's size; the page divided by it has paper
    near 255, and ink as dark, relative to the paper around it, as it was.
    """
    _, side = _background_grid(dpi)
    smooth = paper.gaussblur(side / 2, precision="float").cast("float")
    smooth = smooth.resize(
        grey.width / smooth.width, vscale=grey.height / smooth.height, kernel="linear"
    )
    smooth = smooth.embed(0, 0, grey.width, grey.height, extend="copy")
    ratio = grey.cast("float") * 255 / (smooth + 1)
    return (ratio > 255).ifthenelse(255, ratio).cast("uchar")


def border_box(grey: pyvips.Image) -> tuple[int, int, int, int]:
    """The page inside a dark scanner-bed border: ``(left, top, width, height)``.

    Whole rows and columns at the edges whose mean is darker than half the paper tone are
    scanner bed (or the dark card behind a leaf); text rows never are. At most a quarter of
    each side is removed.
    """
    paper = max(1.0, float(grey.percent(75)))
    columns, rows = grey.project()
    # Plain ints: every attribute read on a pyvips image is a call into libvips.
    width, height = grey.width, grey.height
    col_means = [v / height for v in _values(columns)]
    row_means = [v / width for v in _values(rows)]

    def inner(means: list[float]) -> tuple[int, int]:
        limit = int(len(means) * BORDER_MAX)
        start = 0
        while start < limit and means[start] < BORDER_DARK * paper:
            start += 1
        end = len(means)
        while len(means) - end < limit and means[end - 1] < BORDER_DARK * paper:
            end -= 1
        return start, end

    x0, x1 = inner(col_means)
    y0, y1 = inner(row_means)
    return x0, y0, x1 - x0, y1 - y0


def _values(image: pyvips.Image) -> list[float]:
    """Pixel values of a one-row or one-column image."""
    data = image.cast("double").write_to_memory()
    values = array("d")
    values.frombytes(data)
    return list(values)


def estimate_skew(grey: pyvips.Image) -> float:
    """The rotation in degrees that makes text lines horizontal (projection-profile search).

    The page's ink is cut into vertical strips whose row sums are computed once; turning the
    page by a small angle shifts each strip's profile by ``offset * tan(angle)``, so every
    candidate angle costs a few list additions instead of rotating the image.
    """
    scale = min(1.0, DESKEW_THUMB / grey.width)
    thumb = grey.resize(scale) if scale < 1 else grey
    level = otsu_level(histogram(thumb))
    ink = (thumb <= level).ifthenelse(1, 0).cast("uchar").copy_memory()
    width = ink.width // DESKEW_STRIPS
    profiles = [
        [round(v) for v in _values(ink.crop(i * width, 0, width, ink.height).project()[1])]
        for i in range(DESKEW_STRIPS)
    ]
    offsets = [(i + 0.5) * width - ink.width / 2 for i in range(DESKEW_STRIPS)]
    pad = math.ceil(ink.width * math.tan(math.radians(DESKEW_RANGE + 1)))

    def sharpness(degrees: float) -> int:
        slope = math.tan(math.radians(degrees))
        total = [0] * (ink.height + 2 * pad)
        for profile, offset in zip(profiles, offsets, strict=True):
            start = pad + round(offset * slope)
            end = start + len(profile)
            total[start:end] = [a + b for a, b in zip(total[start:end], profile, strict=True)]
        return sum((b - a) ** 2 for a, b in zip(total, total[1:], strict=False))

    steps = round(DESKEW_RANGE / DESKEW_STEP)
    best = max((i * DESKEW_STEP for i in range(-steps, steps + 1)), key=sharpness)
    return max((best + i * DESKEW_FINE_STEP for i in range(-5, 6)), key=sharpness)


def rotate_about_centre(
    image: pyvips.Image, degrees: float, *, background: int = 255
) -> tuple[pyvips.Image, Affine]:
    """Rotate by ``degrees`` (clockwise on screen) about the centre, keeping the size.

    Returns:
        The rotated image (corners filled with white) and the map from its coordinates back
        to the input's.
    """
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = image.width / 2, image.height / 2
    turned = image.affine(
        [cos, -sin, sin, cos],
        oarea=[0, 0, image.width, image.height],
        idx=-cx,
        idy=-cy,
        odx=cx,
        ody=cy,
        background=[background],
        interpolate=pyvips.Interpolate.new("bilinear"),
    )
    # Inverse of X = R (x - c) + c: x = R^T (X - c) + c.
    back = Affine(
        a=cos,
        b=sin,
        c=cx - cos * cx - sin * cy,
        d=-sin,
        e=cos,
        f=cy + sin * cx - cos * cy,
    )
    return turned, back


def prepare(
    grey: pyvips.Image,
    dest: Path,
    *,
    plan: Reduction,
    canvas: tuple[int, int],
    binarize: str,
    deskew: bool,
    crop_border: bool,
    normalize_background: bool = False,
) -> Prepared:
    """Write the image tesseract reads and return how it maps onto the canvas.

    Args:
        grey: The working image (:func:`working_image`, or its cached copy).
        dest: Where to write the OCR image (PNG).
        plan: How ``grey`` was reduced from the master.
        canvas: The canvas (oriented master) width and height.
        binarize: ``wolf``, ``sauvola``, ``otsu`` or ``none`` (leave it to tesseract).
        deskew: Straighten the page before binarising.
        crop_border: Remove a dark scanner-bed border.
        normalize_background: Even out the paper's brightness (:func:`normalise_background`)
            after deskewing, before binarising, when it varies by more than
            :data:`BACKGROUND_UNEVEN`.

    Returns:
        The OCR image's size, declared resolution and map to canvas coordinates.

    Raises:
        pyvips.Error: libvips failed while processing (the caller maps it).
    """
    canvas_w, canvas_h = canvas
    transform = Affine()
    if plan.resamples:
        # Exact factors per axis: the resized size is rounded.
        transform = Affine(a=canvas_w / grey.width, e=canvas_h / grey.height)
    steps = plan.steps()
    image, transform = _straighten(grey, transform, steps, crop_border=crop_border, deskew=deskew)
    if normalize_background:
        image = _even_out_paper(image, plan.dpi, steps)
    image = _binarise(image, binarize, plan.dpi, steps)
    res = plan.dpi / 25.4
    image = image.copy(xres=res, yres=res)
    image.pngsave(str(dest), compression=1, bitdepth=1 if binarize != "none" else 8)
    return Prepared(
        width=image.width,
        height=image.height,
        canvas_width=canvas_w,
        canvas_height=canvas_h,
        dpi=plan.dpi,
        source_dpi=plan.source_dpi,
        transform=transform,
        steps=tuple(steps),
    )


def _straighten(
    image: pyvips.Image, transform: Affine, steps: list[str], *, crop_border: bool, deskew: bool
) -> tuple[pyvips.Image, Affine]:
    """Crop the scanner border and deskew, as asked; return the image and its new map."""
    if crop_border:
        left, top, width, height = border_box(image)
        if (width, height) != (image.width, image.height) and width > 0 and height > 0:
            image = image.crop(left, top, width, height).copy_memory()
            transform = Affine(c=left, f=top).then(transform)
            steps.append(f"border cropped ({left},{top} {width}x{height})")
    if deskew:
        angle = estimate_skew(image)
        if abs(angle) >= DESKEW_MIN:
            image, back = rotate_about_centre(image, angle)
            image = image.copy_memory()
            transform = back.then(transform)
            steps.append(f"deskewed {angle:+.2f} deg")
    return image, transform


def _even_out_paper(image: pyvips.Image, dpi: int, steps: list[str]) -> pyvips.Image:
    """Divide the page by its paper when the paper is uneven (:data:`BACKGROUND_UNEVEN`)."""
    paper = paper_estimate(image, dpi).copy_memory()
    spread = unevenness(paper)
    if spread <= BACKGROUND_UNEVEN:
        return image
    steps.append(f"background normalised (paper {spread:.0%} uneven)")
    return normalise_background(image, paper, dpi).copy_memory()


def _binarise(image: pyvips.Image, method: str, dpi: int, steps: list[str]) -> pyvips.Image:
    """Binarise with ``method`` (``none`` leaves the grey image to tesseract)."""
    if method == "wolf":
        steps.append("binarised (Wolf-Jolion)")
        return binarise_wolf(image, dpi)
    if method == "sauvola":
        steps.append("binarised (Sauvola)")
        return binarise_sauvola(image, dpi)
    if method == "otsu":
        steps.append("binarised (Otsu)")
        return binarise_otsu(image)
    return image
