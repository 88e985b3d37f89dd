"""Normalising masters to 8-bit: floating-point samples in 0-1 and in 0-255."""

from __future__ import annotations

import pytest
import pyvips

from pipeline.imaging.vips import floats_in_unit_range, normalise


def flat(value: float, bands: int = 1, interpretation: str = "b-w") -> pyvips.Image:
    image = (pyvips.Image.black(8, 8, bands=bands) + value).cast("float")
    return image.copy(interpretation=interpretation)


@pytest.mark.parametrize("interpretation", ["b-w", "multiband"])
def test_grey_floats_in_0_1_are_scaled_when_ingest_measured_them(interpretation: str) -> None:
    image = flat(0.8, interpretation=interpretation)
    assert floats_in_unit_range(image)
    scaled, notes = normalise(image, unit_floats=True)
    assert scaled.format == "uchar" and abs(scaled.avg() - 204) <= 1
    assert "float 0-1 -> 0-255" in notes


@pytest.mark.parametrize("interpretation", ["b-w", "multiband"])
def test_grey_floats_in_0_255_are_kept(interpretation: str) -> None:
    kept, _notes = normalise(flat(204.0, interpretation=interpretation))
    assert kept.format == "uchar" and abs(kept.avg() - 204) <= 1


def test_linear_light_floats_follow_their_colour_space() -> None:
    scrgb = flat(0.5, bands=3, interpretation="scrgb")
    assert not floats_in_unit_range(scrgb)
    srgb, _notes = normalise(scrgb, unit_floats=True)
    # Linear 0.5 is sRGB ~188, not 127: converted, not scaled.
    assert srgb.bands == 3 and abs(srgb.avg() - 188) <= 2
