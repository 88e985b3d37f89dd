"""open_master on JPEG 2000 (real Pillow-written files, the real vips program decoding them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from PIL import Image

from pipeline.config import IngestConfig
from pipeline.errors import MissingDependencyError, ScanError
from pipeline.imaging import jpeg2000
from pipeline.imaging.vips import open_master
from pipeline.stages import ingest
from tests.jp2samples import declare_size, truncate, write_jp2

LIMIT = 10**9


def page() -> pyvips.Image:
    xyz = pyvips.Image.xyz(300, 200)
    g = ((xyz[0] * 3 + xyz[1] * 5) % 256).cast("uchar")
    return g.bandjoin([(255 - g).cast("uchar"), g]).copy(interpretation="srgb")


def left_over(scratch: Path) -> list[Path]:
    return list(scratch.iterdir()) if scratch.exists() else []


@pytest.mark.parametrize("tiled", [False, True], ids=["untiled", "tiled"])
def test_decoded_pixels_are_the_masters_and_no_copy_is_left(tmp_path: Path, tiled: bool) -> None:
    master = write_jp2(page(), tmp_path / "p.jp2", tiled=tiled)
    before = master.read_bytes()
    scratch = tmp_path / "scratch"
    image = open_master(master, max_pixels=LIMIT, scratch=scratch)
    assert left_over(scratch) == []  # unlinked once open: the open image still reads it
    assert (image - page()).abs().max() == 0
    assert image.get("vips-loader") == "jp2kload" and image.get("bits-per-sample") == 8
    assert image.get_typeof("n-pages") == 0  # resolution levels are not pages
    assert master.read_bytes() == before


def test_a_bare_codestream_and_a_name_ending_in_a_bracket_open(tmp_path: Path) -> None:
    j2k = tmp_path / "p.j2k"
    Image.frombytes("RGB", (300, 200), page().write_to_memory()).save(j2k, format="JPEG2000")
    assert j2k.read_bytes().startswith(jpeg2000.J2K_MAGIC)
    odd = tmp_path / "scan[2]"
    write_jp2(page(), odd)
    for path in (j2k, odd):
        assert (
            open_master(path, max_pixels=LIMIT, scratch=tmp_path / "s") - page()
        ).abs().max() == 0


def test_resolution_and_icc_profile_come_from_the_jp2_header(tmp_path: Path) -> None:
    p3 = page().icc_transform("p3")
    profile = p3.get("icc-profile-data")
    image = open_master(write_jp2(p3, tmp_path / "p.jp2", icc=profile, dpi=400), max_pixels=LIMIT)
    assert image.get("icc-profile-data") == profile
    assert round(image.xres * 25.4) == round(image.yres * 25.4) == 400
    plain = open_master(write_jp2(page(), tmp_path / "q.jp2"), max_pixels=LIMIT)
    assert plain.get_typeof("icc-profile-data") == 0 and plain.xres == 1.0


def test_the_pixel_limit_applies_before_decoding(tmp_path: Path) -> None:
    master = declare_size(write_jp2(page(), tmp_path / "p.jp2"), 100_000, 100_000)
    scratch = tmp_path / "scratch"
    with pytest.raises(ScanError, match=r"image declares 100000 x 100000 px"):
        open_master(master, max_pixels=LIMIT, scratch=scratch)
    assert not scratch.exists()  # never handed to the decoder
    with pytest.raises(ScanError, match=r"image declares 300 x 200 px"):
        open_master(write_jp2(page(), tmp_path / "q.jp2"), max_pixels=300 * 200 - 1)


@pytest.mark.parametrize("tiled", [False, True], ids=["untiled", "tiled"])
def test_damaged_data_is_a_one_line_scan_error(tmp_path: Path, tiled: bool) -> None:
    master = truncate(write_jp2(page(), tmp_path / "p.jp2", tiled=tiled))
    scratch = tmp_path / "scratch"
    with pytest.raises(ScanError, match=r"^image data is damaged or incomplete: jp2kload: ") as err:
        open_master(master, max_pixels=LIMIT, scratch=scratch)
    assert "\n" not in str(err.value) and "(vips:" not in str(err.value)
    assert str(master) not in str(err.value)
    assert left_over(scratch) == []


def test_a_damaged_header_is_a_scan_error(tmp_path: Path) -> None:
    master = tmp_path / "p.jp2"
    master.write_bytes(jpeg2000.JP2_MAGIC + b"\0" * 64)
    with pytest.raises(ScanError, match=r"^cannot read image: bad JPEG 2000 header"):
        open_master(master, max_pixels=LIMIT)


def test_ingest_needs_a_vips_program_that_reads_jpeg2000(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ingest.IngestSettings(ingest=IngestConfig(formats=["tiff", "jp2k"]))
    jpeg2000.vips_program.cache_clear()
    try:
        tools = ingest.preflight(settings)
        assert tools["vips-jp2kload"].count(".") == 2  # e.g. 8.14.1: part of the fingerprint
        assert "vips-jp2kload" not in ingest.preflight(
            ingest.IngestSettings(ingest=IngestConfig(formats=["tiff"]))
        )
        monkeypatch.setenv("PATH", str(tmp_path))  # no vips program to be found
        jpeg2000.vips_program.cache_clear()
        with pytest.raises(MissingDependencyError, match="install libvips-tools"):
            ingest.preflight(settings)
    finally:
        monkeypatch.undo()
        jpeg2000.vips_program.cache_clear()


def test_a_decoder_that_takes_too_long_is_a_scan_error_and_leaves_no_copy(
    tmp_path: Path,
) -> None:
    master = write_jp2(page(), tmp_path / "p.jp2")
    scratch = tmp_path / "scratch"
    with pytest.raises(ScanError, match=r"took over 0 s: the decoder hung"):
        jpeg2000.decode(master, scratch, "8", timeout_s=0.001)
    assert left_over(scratch) == []
