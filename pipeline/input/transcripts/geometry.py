"""Map a transcription's coordinates from the image it describes to the canvas.

The canvas is the master as the manifest shows it: upright, its EXIF orientation applied. The
transcribed image may be a downscaled copy, and a tool that ignores EXIF (tesseract, kraken)
sees the master's stored pixels, turned or mirrored. What :func:`to_canvas` assumes:

- The transcribed image shows the whole page: its declared size (``image_size``) spans the whole
  canvas, so x and y are scaled by the ratio of the sizes (separately; a warning names the file
  when the proportions differ by more than :data:`PROPORTION_TOLERANCE`, a sign of a cropped copy).
- Whether the coordinates are of the stored pixels or of the upright image is told by the size
  where it can be: for orientations 5-8 (width and height swapped), a declared size with the
  stored proportions and not the upright ones means the stored pixels. For 2-4 (mirrored or
  turned 180 degrees, same proportions) the size cannot tell, and the upright image is assumed
  (the pipeline's own review export writes upright images) unless the caller says ``stored``.
- A transcript with no declared size is taken to be in canvas pixels already.
- Polygons and baselines are mapped point by point; a line's box is the bounds of its mapped
  polygon, or of its mapped box when it has none. Coordinates outside the canvas are clipped to
  it, with one warning naming the file; a line without geometry is left as it is.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.imaging.vips import SWAPPING_ORIENTATIONS
from pipeline.input.transcripts.model import Box, Line, Point, Transcript
from pipeline.ocr.geometry import Affine

ORIENTATIONS = range(1, 9)
PROPORTION_TOLERANCE = 0.01
# Half a pixel of slack: scaling a coordinate on the image's edge may land a hair outside.
EDGE_SLACK = 0.5


def orientation_transform(orientation: int, stored: tuple[float, float]) -> Affine:
    """The mapping from a master's stored pixels to its upright image (what EXIF asks for).

    Args:
        orientation: The EXIF orientation, 1-8.
        stored: Width and height of the stored pixels.

    Returns:
        Stored -> upright coordinates (pixel edges: 0 and the width map to the edges).

    Raises:
        ValueError: ``orientation`` is not 1-8.
    """
    w, h = stored
    transforms = {
        1: Affine(),
        2: Affine(a=-1, c=w),  # mirrored left-right
        3: Affine(a=-1, c=w, e=-1, f=h),  # turned 180 degrees
        4: Affine(e=-1, f=h),  # mirrored top-bottom
        5: Affine(a=0, b=1, d=1, e=0),  # transposed
        6: Affine(a=0, b=-1, c=h, d=1, e=0),  # turned 90 degrees clockwise to stand upright
        7: Affine(a=0, b=-1, c=h, d=-1, e=0, f=w),  # transversed
        8: Affine(a=0, b=1, d=-1, e=0, f=w),  # turned 90 degrees counter-clockwise
    }
    if orientation not in ORIENTATIONS:
        raise ValueError(f"EXIF orientation {orientation} is not 1-8")
    return transforms[orientation]


def _proportion_gap(size: tuple[int, int], other: tuple[int, int]) -> float:
    return abs(size[0] / size[1] - other[0] / other[1]) / (other[0] / other[1])


def _transform(
    transcript: Transcript, canvas: tuple[int, int], orientation: int, stored: bool | None
) -> tuple[Affine, list[str]]:
    """Declared image -> canvas, and the warnings about proportions."""
    declared = transcript.image_size
    if declared is None:
        return Affine(), []
    width, height = canvas
    stored_size = (height, width) if orientation in SWAPPING_ORIENTATIONS else canvas
    if stored is None:
        stored = orientation in SWAPPING_ORIENTATIONS and _proportion_gap(
            declared, stored_size
        ) < _proportion_gap(declared, canvas)
    target = stored_size if stored else canvas
    scale = Affine(a=target[0] / declared[0], e=target[1] / declared[1])
    transform = scale.then(orientation_transform(orientation, target)) if stored else scale
    warnings = []
    if _proportion_gap(declared, target) > PROPORTION_TOLERANCE:
        warnings.append(
            f"{transcript.source}: the transcribed image ({declared[0]} x {declared[1]}) does "
            f"not have the proportions of the master ({target[0]} x {target[1]}): a cropped "
            "copy? Its coordinates are stretched to the whole page"
        )
    return transform, warnings


def bounds(points: tuple[Point, ...]) -> Box:
    """The box ``(x0, y0, x1, y1)`` around points (a polygon's, say); ``points`` is not empty."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


class _Clip:
    """Clips points to the canvas and remembers which lines reached outside it."""

    def __init__(self, canvas: tuple[int, int]) -> None:
        self.width, self.height = canvas
        self.outside: list[str] = []

    def points(self, points: tuple[Point, ...], line: int, line_id: str) -> tuple[Point, ...]:
        if not points:
            return points
        x0, y0, x1, y1 = bounds(points)
        if x0 >= 0 and y0 >= 0 and x1 <= self.width and y1 <= self.height:
            return points  # the usual case: nothing to clip, nothing to say
        out = []
        for x, y in points:
            cx, cy = min(max(x, 0.0), self.width), min(max(y, 0.0), self.height)
            if abs(cx - x) > EDGE_SLACK or abs(cy - y) > EDGE_SLACK:
                label = line_id or f"line {line}"
                if label not in self.outside:
                    self.outside.append(label)
            out.append((cx, cy))
        return tuple(out)


def _mapped(points: tuple[Point, ...], transform: Affine) -> tuple[Point, ...]:
    """``transform.point`` of each point, without a call per point (a page has thousands)."""
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    return tuple([(a * x + b * y + c, d * x + e * y + f) for x, y in points])


def _map_line(line: Line, number: int, transform: Affine, clip: _Clip) -> Line:
    if line.box is None and not line.polygon and not line.baseline:
        return line
    polygon = clip.points(_mapped(line.polygon, transform), number, line.id)
    baseline = clip.points(_mapped(line.baseline, transform), number, line.id)
    box = line.box
    if polygon:
        box = bounds(polygon)
    elif box is not None:
        x0, y0, x1, y1 = box
        corners = tuple(transform.point(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)))
        box = bounds(clip.points(corners, number, line.id))
    return replace(line, box=box, polygon=polygon, baseline=baseline)


def to_canvas(
    transcript: Transcript,
    canvas: tuple[int, int],
    orientation: int = 1,
    *,
    stored: bool | None = None,
) -> Transcript:
    """Express a transcript in canvas pixels (what it assumes: see the module docstring).

    Args:
        transcript: The transcript in the coordinates of the image it describes.
        canvas: The canvas width and height (the upright master's, as the manifest has them).
        orientation: The master's EXIF orientation, 1-8.
        stored: Whether the transcribed image was the master's stored pixels (``True``) or the
            upright image (``False``); ``None`` tells from the declared size.

    Returns:
        The transcript with every box, polygon and baseline on the canvas, ``image_size`` the
        canvas size, and a warning naming the file when lines reached outside it (clipped) or
        the proportions differ.

    Raises:
        ValueError: ``orientation`` is not 1-8.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"EXIF orientation {orientation} is not 1-8")
    transform, warnings = _transform(transcript, canvas, orientation, stored)
    clip = _Clip(canvas)
    lines = tuple(
        _map_line(line, n, transform, clip) for n, line in enumerate(transcript.lines, start=1)
    )
    if clip.outside:
        names = ", ".join(clip.outside[:3]) + (", ..." if len(clip.outside) > 3 else "")
        warnings.append(
            f"{transcript.source}: {len(clip.outside)} line(s) reach outside the image "
            f"({names}); clipped to the page"
        )
    return replace(
        transcript,
        lines=lines,
        image_size=canvas,
        warnings=(*transcript.warnings, *warnings),
    )
