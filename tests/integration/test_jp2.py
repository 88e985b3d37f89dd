"""JPEG 2000 masters go through like their TIFF twins, through the real CLI and real decoders.

Each case writes the same pixels twice, as TIFF and as JP2 (generated here: Pillow writes
untiled JP2, the ``vips`` program tiled JP2), runs the pipeline on each into its own output
folder (same volume and page ids, so URLs match) and compares what was published.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from click.testing import Result
from PIL import Image

from pipeline.config import Config
from pipeline.run.job import run_job
from pipeline.samples import HEADER_PHRASE, generate_volume
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import assert_clean_exit, config_at
from tests.conftest import invoke as invoke_cli
from tests.jp2samples import declare_size, truncate, write_jp2

W, H = 1100, 700  # several tiles and levels at the default tile size
ENV = {"PIPELINE_OCR__ENABLED": "false", "PIPELINE_INGEST__FORMATS": '["tiff", "jp2k"]'}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working folder: nothing of the repository's config/ is read."""
    monkeypatch.chdir(tmp_path)


def invoke(root: Path, *args: str) -> Result:
    return invoke_cli(root, *args, env=ENV)


def rgb(width: int = W, height: int = H) -> pyvips.Image:
    xyz = pyvips.Image.xyz(width, height)
    g = ((xyz[0] * 3 + xyz[1] * 5) % 256).cast("uchar")
    return g.bandjoin([(255 - g).cast("uchar"), ((g * 2) % 256).cast("uchar")]).copy(
        interpretation="srgb"
    )


def grey() -> pyvips.Image:
    return rgb()[0].copy(interpretation="b-w")


def rgb16() -> pyvips.Image:
    return (rgb().cast("ushort") * 257 + 7).cast("ushort").copy(interpretation="rgb16")


def grey16() -> pyvips.Image:
    return (grey().cast("ushort") * 251 + 13).cast("ushort").copy(interpretation="grey16")


def wide_gamut() -> pyvips.Image:
    return rgb().icc_transform("p3")  # Display P3 pixels with the profile attached


def run_page(root: Path, name: str, write: Callable[[Path], object]) -> dict[str, object]:
    """Ingest and tile one page into root/out; return the volume's run report."""
    (root / "scans" / "vol-1").mkdir(parents=True)
    write(root / "scans" / "vol-1" / name)
    result = invoke(root, "run", "-j", "1", "--quiet", "--stages", "ingest,tiles")
    assert_clean_exit(result, 0)
    report: dict[str, object] = json.loads(
        (root / "out" / ".pipeline" / "reports" / "vol-1.json").read_text(encoding="utf-8")
    )
    return report


def published(root: Path) -> dict[str, bytes]:
    images = root / "out" / "vol-1" / "images"
    return {str(p.relative_to(images)): p.read_bytes() for p in images.rglob("*") if p.is_file()}


def tiles_colour(root: Path) -> list[str]:
    """What the tiles stage recorded about colour conversion (e.g. ``["16bit->8bit"]``)."""
    with StateStore(layout_for(config_at(root)).state_db) as state:
        tiles = next(r for r in state.records("vol-1") if r.stage == "tiles")
    colour: list[str] = tiles.data["colour"]
    return colour


def tiff_and_jp2(
    tmp_path: Path, image: pyvips.Image, **jp2: object
) -> tuple[dict[str, object], dict[str, object]]:
    """Run the TIFF and the JP2 of ``image``; return both reports."""
    tiff = run_page(tmp_path / "tiff", "p01.tif", lambda p: image.tiffsave(str(p)))
    jpeg2000 = run_page(tmp_path / "jp2", "p01.jp2", lambda p: write_jp2(image, p, **jp2))  # type: ignore[arg-type]
    return tiff, jpeg2000


LOSSLESS = [
    pytest.param(rgb, {}, [], id="rgb-untiled"),
    pytest.param(rgb, {"tiled": True}, [], id="rgb-tiled"),
    pytest.param(grey, {}, [], id="grey"),
    pytest.param(grey16, {}, ["16-bit -> 8-bit"], id="grey-16bit"),
    pytest.param(rgb16, {"tiled": True}, ["16-bit -> 8-bit"], id="rgb-16bit-tiled"),
    pytest.param(wide_gamut, {"icc": True}, ["embedded ICC profile -> sRGB"], id="icc-profile"),
]


@pytest.mark.parametrize(("make", "options", "converted"), LOSSLESS)
def test_lossless_jp2_publishes_exactly_what_its_tiff_twin_does(
    tmp_path: Path,
    make: Callable[[], pyvips.Image],
    options: dict[str, object],
    converted: list[str],
) -> None:
    image = make()
    if options.pop("icc", False):
        options["icc"] = image.get("icc-profile-data")
    tiff, jpeg2000 = tiff_and_jp2(tmp_path, image, **options)
    twin, ours = published(tmp_path / "tiff"), published(tmp_path / "jp2")
    assert "p01/info.json" in ours and len(ours) > 10
    assert sorted(ours) == sorted(twin)
    assert ours == twin  # info.json and every tile, byte for byte
    pages = [r["pages"][0] for r in (tiff, jpeg2000)]  # type: ignore[index]
    assert pages[0]["conversions"] == pages[1]["conversions"]
    for what in converted:
        assert what in pages[1]["conversions"], pages[1]["conversions"]
    assert tiff["colour_conversions"] == jpeg2000["colour_conversions"]
    assert tiles_colour(tmp_path / "tiff") == tiles_colour(tmp_path / "jp2")


def test_lossy_jp2_has_the_same_geometry_and_close_pixels(tmp_path: Path) -> None:
    tiff_and_jp2(tmp_path, rgb(), lossless=False)
    twin, ours = published(tmp_path / "tiff"), published(tmp_path / "jp2")
    assert sorted(ours) == sorted(twin)
    assert ours["p01/info.json"] == twin["p01/info.json"]
    full = "p01/full/max/0/default.jpg"
    a, b = (pyvips.Image.new_from_buffer(files[full], "") for files in (ours, twin))
    assert (a.width, a.height) == (b.width, b.height) == (W, H)
    assert ours[full] != twin[full]  # really lossy, and still close:
    assert (a - b).abs().avg() < 8  # of 255, on a pattern with sharp edges everywhere


def test_damaged_jp2_fails_alone_like_a_damaged_tiff(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    rgb().tiffsave(str(folder / "p01.tif"))
    truncate(write_jp2(rgb(), folder / "p02.jp2"))
    truncate(write_jp2(rgb(), folder / "p03.jp2", tiled=True))
    # Pillow writes the TIFF directory first (as scanners do): cut, the file still opens.
    Image.frombytes("RGB", (W, H), rgb().write_to_memory()).save(folder / "p04.tif")
    truncate(folder / "p04.tif")
    declare_size(write_jp2(grey(), folder / "p05.jp2"), 100_000, 100_000)
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest,tiles")
    assert_clean_exit(result, 1)
    damaged = "[ingest]: image data is damaged or incomplete: "
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4, result.output
    for name in ("p02.jp2", "p03.jp2", "p04.tif"):
        assert any(line.startswith(f"error: vol-1/{name} {damaged}") for line in errors), errors
    assert "error: vol-1/p05.jp2 [ingest]: image declares 100000 x 100000 px" in result.output
    assert "done: 2 ok, 4 failed" in result.output  # p01 ingested and tiled
    assert (tmp_path / "out" / "vol-1" / "images" / "p01" / "info.json").is_file()
    # No decoded copy is left behind.
    assert not list((tmp_path / "out" / ".pipeline").rglob("*.v"))


@pytest.mark.tesseract
def test_ocr_reads_a_jp2_page_as_it_reads_its_tiff_twin(
    tmp_path: Path, make_cfg: Callable[..., Config], nanum_fonts: None, tesseract_kor: None
) -> None:
    generate_volume(
        tmp_path / "scans", volume_id="vol-1", pages=1, seed=3, fonts=["print"],
        conditions=["clean"],
    )  # fmt: skip
    master = tmp_path / "scans" / "vol-1" / "p001.tif"
    # 300 dpi, declared in both files: OCR resamples, so ingest keeps its working image.
    page = pyvips.Image.new_from_file(str(master)).resize(2, kernel="linear")
    page.copy(xres=300 / 25.4, yres=300 / 25.4).tiffsave(str(master))
    outputs = {}
    for kind in ("tif", "jp2"):
        if kind == "jp2":
            write_jp2(pyvips.Image.new_from_file(str(master)), master.with_suffix(".jp2"), dpi=300)
            master.unlink()
        cfg = make_cfg(site={"out": str(tmp_path / kind)}, ingest={"formats": ["tiff", "jp2k"]})
        assert not run_job(cfg, stages=["ingest"]).failures
        layout = layout_for(cfg)
        assert len(list(layout.cache_dir.rglob("*.png"))) == 1  # the working image
        report = run_job(cfg, stages=["ocr"])
        assert not report.failures, [f.error for f in report.failures]
        with StateStore(layout.state_db) as state:
            rec = next(r for r in state.records("vol-1") if r.stage == "ocr")
        assert "resampled to 150 dpi" in rec.data["preprocessing"]
        outputs[kind] = {k: layout.path(rec.data[k]).read_bytes() for k in ("txt", "hocr")}
    assert HEADER_PHRASE.encode("utf-8") in outputs["jp2"]["txt"].replace(b" ", b"")
    assert outputs["jp2"]["txt"] == outputs["tif"]["txt"]
    assert outputs["jp2"]["hocr"] == outputs["tif"]["hocr"].replace(b"p001.tif", b"p001.jp2")


@pytest.mark.tesseract
def test_a_jp2_page_is_decoded_once_by_ingest_and_once_by_tiles_never_by_ocr(
    tmp_path: Path,
    make_cfg: Callable[..., Config],
    monkeypatch: pytest.MonkeyPatch,
    nanum_fonts: None,
    tesseract_kor: None,
) -> None:
    """Decoding a large JP2 takes minutes: tiles reads its decoded copy twice (pyramid and
    full/max) rather than decoding again, and OCR plans from the header and starts from the
    working image ingest kept. One worker, so every decode happens in this process."""
    from pipeline.imaging import jpeg2000

    generate_volume(
        tmp_path / "scans", volume_id="vol-1", pages=1, seed=5, fonts=["print"],
        conditions=["clean"],
    )  # fmt: skip
    master = tmp_path / "scans" / "vol-1" / "p001.tif"
    page = pyvips.Image.new_from_file(str(master)).resize(2, kernel="linear")
    write_jp2(page.copy(xres=300 / 25.4, yres=300 / 25.4), master.with_suffix(".jp2"), dpi=300)
    master.unlink()
    decoded: list[Path] = []
    real_decode = jpeg2000.decode

    def counting_decode(path: Path, scratch: Path | None, libvips: str) -> Path:
        decoded.append(scratch if scratch is not None else Path("<system temp>"))
        return real_decode(path, scratch, libvips)

    monkeypatch.setattr(jpeg2000, "decode", counting_decode)
    cfg = make_cfg(run={"workers": 1}, ingest={"formats": ["tiff", "jp2k"]})
    report = run_job(cfg)
    assert not report.failures, [f.error for f in report.failures]
    layout = layout_for(cfg)
    # full/max of this page (wider than one tile, within tiles.max_full_side) comes from the
    # master, so without the reuse tiles decoded twice.
    assert (layout.out / "vol-1" / "images" / "p001" / "full" / "max" / "0").is_dir()
    assert decoded == [layout.scratch_dir, layout.scratch_dir]
    with StateStore(layout.state_db) as state:
        ocr = next(r for r in state.records("vol-1") if r.stage == "ocr")
    assert HEADER_PHRASE in layout.path(ocr.data["txt"]).read_text(encoding="utf-8").replace(
        " ", ""
    )
