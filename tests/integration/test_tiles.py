"""The tiles stage on generated images: odd sizes, colour normalisation, caps, determinism."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import PIL.Image
import pytest
import pyvips

from pipeline.config import Config, TilesConfig
from pipeline.errors import ScanError
from pipeline.iiif import image as iiif
from pipeline.layout import Layout
from pipeline.records import PageItem, StageRecord
from pipeline.run.outputs import complete_outputs
from pipeline.stages import tiles
from pipeline.stages.spec import PageInput

CONTRACT = {
    "service_id", "width", "height", "full", "full_width", "full_height", "sizes",
    "scale_factors", "tile_size", "thumbnail", "colour", "tiles", "replay_missing",
}  # fmt: skip


def tile_page(cfg: Config, source: Path, page: str = "p1") -> tuple[StageRecord, Path]:
    layout = Layout(cfg.site.out, cfg.site.base_url)
    item = PageItem("vol", page, str(source), 0, {}, ())
    record = tiles.run(PageInput(item), tiles.settings(cfg), layout)
    return record, layout.image_dir("vol", page)


def pixel_size(path: Path) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height


def check_service(record: StageRecord, root: Path) -> dict[str, Any]:
    """Every advertised file exists with the right pixel size; the replay finds nothing."""
    data = record.data
    info = json.loads((root / "info.json").read_text())
    assert set(data) >= CONTRACT
    assert info["id"] == data["service_id"] == f"https://example.org/iiif/vol/images/{root.name}"
    assert (info["type"], info["profile"]) == ("ImageService3", "level0")
    assert (info["width"], info["height"]) == (data["width"], data["height"])
    assert info["tiles"] == [
        {
            "width": data["tile_size"],
            "height": data["tile_size"],
            "scaleFactors": data["scale_factors"],
        }
    ]
    width, height = data["width"], data["height"]
    levels = [iiif.level_size(width, height, sf) for sf in data["scale_factors"]]
    sizes = [(s["width"], s["height"]) for s in info["sizes"]]
    assert sizes == [tuple(s) for s in data["sizes"]] and set(sizes) <= set(levels)
    assert levels[-1] in sizes  # the smallest level is always listed
    for w, h in sizes:
        assert pixel_size(root / f"full/{w},{h}/0/default.jpg") == (w, h)
    assert pixel_size(root / data["full"]) == (data["full_width"], data["full_height"])
    assert (data["full_width"], data["full_height"]) in levels
    thumb = data["thumbnail"]
    assert (thumb["width"], thumb["height"]) in sizes
    assert thumb["path"] == f"full/{thumb['width']},{thumb['height']}/0/default.jpg"
    files = iiif.files_under(root)
    assert "vips-properties.xml" not in files and data["tiles"] == len(files)
    for width_px in iiif.UV_THUMBNAIL_WIDTHS:
        rel = iiif.width_path(width_px)
        assert pixel_size(root / rel) == iiif.width_size(width, height, width_px), rel
    for rel in files - {"info.json"}:
        region, size = rel.split("/")[:2]
        if size != "max" and not size.endswith(","):
            assert pixel_size(root / rel) == tuple(int(v) for v in size.split(",")), rel
    assert iiif.check_service_dir(root)[1] == [] and data["replay_missing"] == 0
    return info


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(1, 1, id="1x1"),
        pytest.param(511, 513, id="511x513"),
        pytest.param(512, 512, id="one-tile"),
        pytest.param(2045, 1000, id="level-one-tile-wide"),
        pytest.param(2501, 3499, id="2501x3499"),
        pytest.param(6000, 300, id="very-wide"),
        pytest.param(300, 7001, id="very-tall"),
    ],
)
def test_odd_sizes(
    make_cfg: Callable[..., Config], make_scan: Callable[..., Path], width: int, height: int
) -> None:
    record, root = tile_page(make_cfg(), make_scan("vol/p1.tif", width, height, bands=3))
    info = check_service(record, root)
    assert record.data["colour"] == []
    assert record.outputs.keys() == {
        "vol/images/p1/info.json",
        "vol/images/p1/full/max/0/default.jpg",
    }
    full = (record.data["full_width"], record.data["full_height"])
    if max(width, height) > TilesConfig().max_full_side:
        assert (info["maxWidth"], info["maxHeight"]) == full and max(full) <= 2048
    else:
        assert "maxWidth" not in info and full == (width, height)


def test_thumbnail_reaches_400px(
    make_cfg: Callable[..., Config], make_scan: Callable[..., Path]
) -> None:
    record, _ = tile_page(make_cfg(), make_scan("vol/p1.tif", 2501, 3499))
    assert record.data["sizes"] == [[313, 438], [626, 875]]
    assert record.data["thumbnail"] == {
        "path": "full/313,438/0/default.jpg",
        "width": 313,
        "height": 438,
    }


def test_full_max_capped_at_a_level(
    make_cfg: Callable[..., Config], make_scan: Callable[..., Path]
) -> None:
    cfg = make_cfg(tiles={"max_full_side": 1000, "max_size_side": 400, "tile_size": 256})
    record, root = tile_page(cfg, make_scan("vol/p1.tif", 3000, 2000, bands=3))
    info = check_service(record, root)
    assert (
        (info["maxWidth"], info["maxHeight"])
        == (750, 500)
        == (record.data["full_width"], record.data["full_height"])
    )
    assert record.data["sizes"] == [[188, 125], [375, 250]]
    assert record.data["tile_size"] == 256 and record.data["scale_factors"] == [1, 2, 4, 8, 16]


def test_full_resolution_full_max(
    make_cfg: Callable[..., Config], make_scan: Callable[..., Path]
) -> None:
    record, root = tile_page(
        make_cfg(tiles={"max_full_side": 0}), make_scan("vol/p1.tif", 5000, 700)
    )
    info = check_service(record, root)
    assert "maxWidth" not in info and pixel_size(root / iiif.FULL_MAX) == (5000, 700)


def test_same_input_same_bytes(
    make_cfg: Callable[..., Config], make_scan: Callable[..., Path]
) -> None:
    source = make_scan("vol/p1.tif", 1500, 1100, bands=3)
    cfg = make_cfg()

    def digests(page: str) -> dict[str, str]:
        _, root = tile_page(cfg, source, page)
        return {
            rel: hashlib.sha256((root / rel).read_bytes()).hexdigest()
            for rel in iiif.files_under(root)
            if rel != "info.json"
        }

    first, second = digests("a"), digests("b")
    assert first == second
    info_a = (cfg.site.out / "vol/images/a/info.json").read_text()
    info_b = (cfg.site.out / "vol/images/b/info.json").read_text()
    assert info_a.replace("/images/a", "/images/b") == info_b
    tile = next(iter(sorted(first)))
    image = pyvips.Image.new_from_file(str(cfg.site.out / "vol/images/a" / tile))
    assert not {"exif-data", "xmp-data", "icc-profile-data"} & set(image.get_fields())


@pytest.mark.parametrize(
    ("width", "height", "thumbs"),
    [
        pytest.param(2501, 3499, [(90, 126), (200, 280)], id="portrait"),
        pytest.param(6000, 300, [(90, 5), (200, 10)], id="very-wide"),
        pytest.param(60, 7001, [(90, 10502), (200, 23337)], id="narrower-than-a-thumbnail"),
    ],
)
def test_universal_viewer_thumbnails(
    make_cfg: Callable[..., Config],
    make_scan: Callable[..., Path],
    width: int,
    height: int,
    thumbs: list[tuple[int, int]],
) -> None:
    # Universal Viewer 4 asks every service for full/90, (strip) and full/200, (gallery),
    # whatever the canvas thumbnail and the listed sizes say.
    cfg = make_cfg()
    record, root = tile_page(cfg, make_scan("vol/p1.tif", width, height, bands=3))
    info = check_service(record, root)
    for width_px, size in zip(iiif.UV_THUMBNAIL_WIDTHS, thumbs, strict=True):
        assert pixel_size(root / f"full/{width_px},/0/default.jpg") == size
    # Not advertised: `sizes` (what OpenSeadragon and Mirador read) is as it was.
    assert [s["width"] for s in info["sizes"]] == [s[0] for s in record.data["sizes"]]
    assert not {s["width"] for s in info["sizes"]} & set(iiif.UV_THUMBNAIL_WIDTHS)
    # Recorded with a checksum like every other file of the pyramid (pipeline verify).
    layout = Layout(cfg.site.out, cfg.site.base_url)
    outputs = complete_outputs(record, layout).outputs
    for width_px in iiif.UV_THUMBNAIL_WIDTHS:
        rel = f"vol/images/p1/full/{width_px},/0/default.jpg"
        assert outputs[rel] == hashlib.sha256(layout.path(rel).read_bytes()).hexdigest()


# -- colour and format normalisation ---------------------------------------------------------------


def _red(width: int = 96, height: int = 64) -> pyvips.Image:
    return (
        (pyvips.Image.black(width, height) + [255, 0, 0]).cast("uchar").copy(interpretation="srgb")
    )


def _centre(root: Path, info_size: tuple[int, int]) -> tuple[int, list[float]]:
    image = pyvips.Image.new_from_file(str(root / iiif.FULL_MAX))
    assert (image.width, image.height) == info_size
    return image.bands, image(image.width // 2, image.height // 2)


def _write(path: Path, image: pyvips.Image, **save: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.write_to_file(str(path), **save)
    return path


def test_16bit_rgb_becomes_8bit(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    image = (_red().cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.tif", image))
    check_service(record, root)
    bands, centre = _centre(root, (96, 64))
    assert bands == 3 and centre[0] > 245 and max(centre[1:]) < 10
    assert record.data["colour"] == ["16bit->8bit"]


def test_cmyk_with_icc_profile_becomes_srgb(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    cmyk = _red().icc_transform("cmyk")  # attaches the CMYK profile it converted to
    assert cmyk.interpretation == "cmyk" and cmyk.get_typeof("icc-profile-data")
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.jpg", cmyk))
    check_service(record, root)
    bands, (r, g, b) = _centre(root, (96, 64))
    assert bands == 3 and r > 200 and g < 60 and b < 70
    assert record.data["colour"] == ["cmyk->srgb"]


def test_wide_gamut_icc_is_converted(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    p3 = _red().icc_transform("p3")  # the same red, encoded in Display P3 with its profile
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.tif", p3))
    bands, (r, g, b) = _centre(root, (96, 64))
    assert r > 245 and g < 10 and b < 10
    assert record.data["colour"] == ["icc->srgb"]


def test_grey_with_alpha_stays_grey_on_white(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    x = pyvips.Image.xyz(96, 64)
    alpha = (x[0] < 48).ifthenelse(255, 0).cast("uchar")
    image = (
        (pyvips.Image.black(96, 64) + 40).cast("uchar").bandjoin(alpha).copy(interpretation="b-w")
    )
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.png", image))
    check_service(record, root)
    full = pyvips.Image.new_from_file(str(root / iiif.FULL_MAX))
    assert full.bands == 1
    assert full(10, 30)[0] < 50 and full(80, 30)[0] > 245
    assert record.data["colour"] == ["alpha flattened"]


def test_16bit_grey_stays_grey(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    grey = ((pyvips.Image.black(70, 50) + 30000).cast("ushort")).copy(interpretation="grey16")
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.png", grey, bitdepth=16))
    bands, (value,) = _centre(root, (70, 50))
    assert bands == 1 and abs(value - 30000 / 257) < 3
    assert record.data["colour"] == ["16bit->8bit"]


def test_palette_is_expanded(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    record, root = tile_page(make_cfg(), _write(tmp_path / "in/p.png", _red(), palette=True))
    bands, (r, g, b) = _centre(root, (96, 64))
    assert bands == 3 and r > 245 and g < 10 and b < 10
    assert record.data["colour"] == ["palette expanded"]


def test_exif_orientation_is_applied(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    blue = (pyvips.Image.black(16, 16) + [0, 0, 255]).cast("uchar")
    image = _red(600, 200).insert(blue, 0, 0)
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    source = _write(tmp_path / "in/p.jpg", image)
    record, root = tile_page(make_cfg(), source)
    info = check_service(record, root)
    # Orientation 6 turns the image 90 degrees clockwise: the canvas is 200 x 600.
    assert (info["width"], info["height"]) == (200, 600)
    full = pyvips.Image.new_from_file(str(root / iiif.FULL_MAX))
    assert full(192, 8)[2] > 200 and full(8, 8)[0] > 200  # blue corner now top right
    assert record.data["colour"] == ["rotated 90"]
    assert pyvips.Image.new_from_file(str(source)).get("orientation") == 6  # master untouched


def _png_bomb(path: Path, width: int, height: int) -> Path:
    """A valid-looking PNG header declaring a huge image, with a few bytes of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\0" * (width + 1) * 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_decompression_bomb_is_refused_before_decoding(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    source = _png_bomb(tmp_path / "in/bomb.png", 100_000, 100_000)
    with pytest.raises(ScanError, match=r"100000 x 100000 px .* over the limit"):
        tile_page(make_cfg(), source)
    assert not (make_cfg().site.out / "vol/images/p1").exists()


def test_pyramid_tiff(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    image = _red(900, 700).bandjoin(255).copy(interpretation="srgb")
    cfg = make_cfg(tiles={"pyramid_tiff": True})
    record, root = tile_page(cfg, _write(tmp_path / "in/p.png", image))
    check_service(record, root)
    tiff = cfg.site.out / "vol/pyramids/p1.tif"
    assert record.outputs["vol/pyramids/p1.tif"] == hashlib.sha256(tiff.read_bytes()).hexdigest()
    top = pyvips.Image.new_from_file(str(tiff))
    assert (top.width, top.height, top.bands, top.interpretation) == (900, 700, 3, "srgb")
    assert top.get("n-pages") >= 3  # full resolution plus halvings
    assert top.get("tile-width") == 256
    assert pyvips.Image.new_from_file(f"{tiff}[page=1]").width == 450
    with PIL.Image.open(tiff) as header:  # reads the first IFD only
        assert header.tag_v2[259] == 7  # Compression: JPEG
    again, _ = tile_page(cfg, _write(tmp_path / "in/p.png", image), page="p2")
    assert again.outputs["vol/pyramids/p2.tif"] == record.outputs["vol/pyramids/p1.tif"]
    tile_page(make_cfg(), tmp_path / "in/p.png")  # switched off: the stale copy goes
    assert not tiff.exists()


def test_unsupported_bands_fail_with_a_hint(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    grey = pyvips.Image.black(64, 48).cast("uchar")
    five = grey.bandjoin([grey, grey, grey, grey]).copy(interpretation="multiband")
    with pytest.raises(ScanError, match="from 5 bands .* convert the scan to RGB or greyscale"):
        tile_page(make_cfg(), _write(tmp_path / "in/p.tif", five))
