"""How OCR-image coordinates map to canvas coordinates.

The image tesseract reads is the page reduced, cropped and straightened; every step of
:mod:`pipeline.ocr.preprocess` records its part of the mapping, so that hOCR, ALTO and
annotations can be written in the coordinates of the full-resolution canvas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Affine:
    """Maps OCR-image pixel coordinates to canvas coordinates.

    ``X = a*x + b*y + c`` and ``Y = d*x + e*y + f``.
    """

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0
    e: float = 1.0
    f: float = 0.0

    def then(self, other: Affine) -> Affine:
        """The mapping that applies ``self`` first, then ``other``."""
        return Affine(
            a=other.a * self.a + other.b * self.d,
            b=other.a * self.b + other.b * self.e,
            c=other.a * self.c + other.b * self.f + other.c,
            d=other.d * self.a + other.e * self.d,
            e=other.d * self.b + other.e * self.e,
            f=other.d * self.c + other.e * self.f + other.f,
        )

    def inverse(self) -> Affine:
        """The mapping back (canvas to OCR image)."""
        det = self.a * self.e - self.b * self.d
        a, b, d, e = self.e / det, -self.b / det, -self.d / det, self.a / det
        return Affine(
            a=a, b=b, c=-(a * self.c + b * self.f), d=d, e=e, f=-(d * self.c + e * self.f)
        )

    def point(self, x: float, y: float) -> tuple[float, float]:
        """Map one point."""
        return self.a * x + self.b * y + self.c, self.d * x + self.e * y + self.f

    @property
    def scale(self) -> float:
        """How many canvas pixels one OCR-image pixel spans (the mean linear scale)."""
        return math.sqrt(abs(self.a * self.e - self.b * self.d))

    @property
    def angle(self) -> float:
        """The rotation from OCR image to canvas, in radians (counter-clockwise positive)."""
        return math.atan2(self.d, self.a)
