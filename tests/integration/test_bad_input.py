"""Bad input, generated here: each case fails with one line naming the file, or must succeed.

Every case runs the real CLI (libvips, no mocks) on a volume holding the bad file next to a
good page: the bad page fails with the reason, the good one goes on, the exit code is 1 and no
traceback reaches the user; ``pipeline status`` shows the failure. Images that are unusual but
valid (CMYK, 16-bit, palette, alpha, EXIF rotation, odd file names) must go all the way through.
"""

from __future__ import annotations

import io
import json
import struct
import unicodedata
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from click.testing import Result
from PIL import Image

from pipeline.input.volumes import page_id_for
from pipeline.layout import SAFE_ID
from tests.conftest import BASE_URL, assert_clean_exit
from tests.conftest import invoke as invoke_cli

W, H = 240, 180


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working folder: nothing of the repository's config/ is read."""
    monkeypatch.chdir(tmp_path)


def invoke(tmp_path: Path, *args: str) -> Result:
    """The CLI on tmp_path/scans -> tmp_path/out with OCR off."""
    return invoke_cli(tmp_path, *args, env={"PIPELINE_OCR__ENABLED": "false"})


# -- generated images -----------------------------------------------------------------------------
def grey(width: int = W, height: int = H) -> pyvips.Image:
    xyz = pyvips.Image.xyz(width, height)
    return ((xyz[0] * 3 + xyz[1] * 5) % 256).cast("uchar")


def rgb(width: int = W, height: int = H) -> pyvips.Image:
    g = grey(width, height)
    return g.bandjoin([(255 - g).cast("uchar"), ((g * 2) % 256).cast("uchar")]).copy(
        interpretation="srgb"
    )


def save(image: pyvips.Image, path: Path, **options: object) -> None:
    image.write_to_file(str(path), **options)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def tiff_strips_first(path: Path) -> bytes:
    """A TIFF whose directory precedes the pixel data (as many scanners write), via Pillow."""
    buf = io.BytesIO()
    Image.frombytes("L", (W, H), grey().write_to_memory()).save(buf, format="TIFF")
    return buf.getvalue()


def tiff_header_only(path: Path, width: int, height: int) -> None:
    """A 139-byte TIFF whose header declares width x height px (a decompression bomb)."""
    strip = zlib.compress(b"\0" * 1024)
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 8), (262, 3, 1),
               (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, len(strip))]  # fmt: skip
    data_at = 8 + 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\0" + struct.pack("<IH", 8, len(entries)))
    for tag, kind, value in entries:
        value = data_at if tag == 273 else value
        out += struct.pack("<HHIHH" if kind == 3 else "<HHII", tag, kind, 1, value, *(
            (0,) if kind == 3 else ()))  # fmt: skip
    path.write_bytes(bytes(out) + struct.pack("<I", 0) + strip)


def png_header_only(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def multi_page(path: Path) -> None:
    pages = grey().join(grey(), "vertical").copy()
    pages.set_type(pyvips.GValue.gint_type, "page-height", H)
    pages.tiffsave(str(path))


def rotated_jpeg(path: Path) -> None:
    image = rgb(W, H).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    image.jpegsave(str(path))


def mismatched(path: Path) -> None:
    save(rgb(), path.with_suffix(".jpg"))
    path.with_suffix(".jpg").rename(path)


# -- failing pages ------------------------------------------------------------------------------
Maker = Callable[[Path], None]

PAGE_FAILURES = [
    pytest.param("p02.tif", lambda p: p.write_bytes(b""), "empty file (0 bytes)", id="zero-byte"),
    pytest.param(
        "p02.tif",
        lambda p: p.write_bytes(truncated(tiff_strips_first(p))),
        "image data is damaged or incomplete",
        id="truncated-tiff",
    ),
    pytest.param(
        "p02.tif",
        lambda p: (save(grey(), p), p.write_bytes(truncated(p.read_bytes()))),
        "cannot read image",
        id="truncated-tiff-directory",
    ),
    pytest.param(
        "p02.jpg",
        lambda p: (save(rgb(), p, Q=90), p.write_bytes(truncated(p.read_bytes()))),
        "image data is damaged or incomplete: VipsJpeg: premature end of JPEG image",
        id="truncated-jpeg",
    ),
    pytest.param(
        "p02.png",
        lambda p: (save(rgb(), p), p.write_bytes(truncated(p.read_bytes()))),
        "image data is damaged or incomplete",
        id="truncated-png",
    ),
    pytest.param(
        "p02.tif",
        lambda p: p.write_text("scan of page 2 to follow\n", encoding="utf-8"),
        "not an image: the file holds text ('scan of page 2 to follow')",
        id="text-named-tif",
    ),
    pytest.param(
        "p02.tif",
        lambda p: p.write_bytes(bytes(range(7, 256)) * 3),
        "not an image in a format we take: unrecognised content; expected TIFF, JPEG, PNG",
        id="binary-junk",
    ),
    pytest.param(
        "p02.gif", lambda p: save(grey(), p), "unsupported format: the file is a GIF", id="gif"
    ),
    pytest.param(
        "p02.tif",
        lambda p: mismatched_gif(p),
        "unsupported format: the file is a GIF",
        id="gif-as-tif",
    ),
    pytest.param(
        "p02.webp",
        lambda p: save(rgb(), p),
        "unsupported format: the file is a WebP image; expected TIFF, JPEG, PNG, JPEG 2000 "
        "(convert it to TIFF)",
        id="webp",
    ),
    pytest.param(
        "p02.pdf",
        lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n"),
        "unsupported format: the file is a PDF document",
        id="pdf",
    ),
    pytest.param(
        "p02.jp2",
        lambda p: p.write_bytes(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\0" * 64),
        "cannot read image: bad JPEG 2000 header (Invalid header length)",
        id="jpeg2000-bad-header",
    ),
    pytest.param(
        "p02.tif",
        multi_page,
        "multi-page file (2 pages, page 2 is 240 x 180 px): split it",
        id="multi-page",
    ),
    pytest.param(
        "p02.png",
        lambda p: save(pyvips.Image.black(1, 1), p),
        "image is 1 x 1 px, smaller than ingest.min_side",
        id="one-pixel",
    ),
    pytest.param(
        "p02.tif",
        lambda p: tiff_header_only(p, 100_000, 100_000),
        "image declares 100000 x 100000 px (10,000 Mpx), over the limit",
        id="bomb-tiff",
    ),
    pytest.param(
        "p02.png",
        lambda p: png_header_only(p, 100_000, 100_000),
        "image declares 100000 x 100000 px",
        id="bomb-png",
    ),
    pytest.param(
        "p02.tif",
        lambda p: p.symlink_to(p.parent / "elsewhere.tif"),
        "file not found (a broken link)",
        id="broken-link",
    ),
]


def mismatched_gif(path: Path) -> None:
    save(grey(), path.with_suffix(".gif"))
    path.with_suffix(".gif").rename(path)


@pytest.mark.parametrize(("name", "make", "reason"), PAGE_FAILURES)
def test_bad_page_fails_alone_with_one_line(
    tmp_path: Path, name: str, make: Maker, reason: str
) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(grey(), folder / "p01.tif")
    make(folder / name)
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest")
    assert_clean_exit(result, 1)
    line = f"error: vol-1/{name} [ingest]: {reason}"
    assert line in result.output, result.output
    assert "done: 1 ok, 1 failed" in result.output

    status = invoke(tmp_path, "status")
    assert_clean_exit(status, 1)
    assert "ingest            1 done     1 failed" in status.output
    assert f"    {name}: {reason}" in status.output
    report = json.loads((tmp_path / "out" / ".pipeline" / "reports" / "vol-1.json").read_text())
    assert [(f["file"], f["stage"]) for f in report["failures"]] == [(name, "ingest")]
    assert (tmp_path / "out" / ".pipeline" / "reports" / "vol-1.html").is_file()


def test_jpeg2000_left_out_of_ingest_formats_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(grey(), folder / "p01.tif")
    (folder / "p02.jp2").write_bytes(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\0" * 64)
    result = invoke_cli(
        tmp_path,
        "run", "--quiet", "--stages", "ingest",
        env={"PIPELINE_OCR__ENABLED": "false", "PIPELINE_INGEST__FORMATS": '["tiff"]'},
    )  # fmt: skip
    assert_clean_exit(result, 1)
    assert (
        "error: vol-1/p02.jp2 [ingest]: unsupported format: the file is JPEG 2000; expected TIFF "
        "(convert it to TIFF or add 'jp2k' to ingest.formats)"
    ) in result.output, result.output


def test_default_decoding_hides_truncation_but_ingest_does_not(tmp_path: Path) -> None:
    """Why ingest decodes with fail_on: libvips' defaults pass a truncated file as an image."""
    path = tmp_path / "cut.tif"
    path.write_bytes(truncated(tiff_strips_first(path)))
    assert pyvips.Image.new_from_file(str(path), access="sequential").min() == 0  # grey tail
    bomb = tmp_path / "bomb.tif"
    tiff_header_only(bomb, 100_000, 100_000)
    assert bomb.stat().st_size < 200
    assert pyvips.Image.new_from_file(str(bomb)).width == 100_000  # opens without complaint


def test_status_json_prints_the_report_and_html_renders_it(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(rgb().colourspace("cmyk"), folder / "p01.tif")
    (folder / "p03.tif").write_text("<html>not a scan</html>", encoding="utf-8")
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest,tiles")
    assert_clean_exit(result, 1)
    status = invoke(tmp_path, "status", "--json")
    assert_clean_exit(status, 1)
    reports = tmp_path / "out" / ".pipeline" / "reports"
    saved = json.loads((reports / "vol-1.json").read_text(encoding="utf-8"))
    shown = json.loads(status.stdout)["volumes"][0]
    for data in (saved, shown):
        data.pop("generated")
    assert shown == saved
    assert saved["input"]["numbering_gaps"] == []
    assert saved["colour_conversions"]["CMYK -> sRGB"] == ["p01"]
    assert saved["tiles"]["pages"] == 1 and saved["tiles"]["files"] > 1
    html = (reports / "vol-1.html").read_text(encoding="utf-8")
    assert "p03.tif [ingest]: not an image: the file holds text" in html
    assert "&lt;html&gt;" in html and "<html>not" not in html  # escaped
    assert "<script" not in html


def test_a_listed_page_that_is_missing_fails_alone(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(grey(), folder / "p01.tif")
    (folder / "volume.toml").write_text('pages = ["p01.tif", "p02.tif"]\n', encoding="utf-8")
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest")
    assert_clean_exit(result, 1)
    assert "error: vol-1/p02.tif [ingest]: file not found (listed in volume.toml?)" in result.output
    status = invoke(tmp_path, "status")
    assert "missing: p02.tif is listed in volume.toml" in status.output


# -- broken volumes -------------------------------------------------------------------------------
VOLUME_FAILURES = [
    pytest.param({"volume.toml": "label = \n"}, "volume.toml: not valid TOML", id="malformed-toml"),
    pytest.param(
        {"volume.toml": 'lable = "x"\n'}, "volume.toml: lable: unknown key", id="unknown-key"
    ),
    pytest.param({"volume.toml": 'pages = "p01.tif"\n'}, "volume.toml: pages", id="wrong-type"),
    pytest.param(
        {"volume.toml": '[[ranges]]\nlabel = "Life of Ri"\nfirst = "p01"\nlast = "p07"\n'},
        "ranges[1]: last = 'p07' is not a page id of this volume",
        id="range-to-missing-page",
    ),
    pytest.param(
        {"volume.toml": 'pages = ["p01.tif", "../vol-2/p01.tif"]\n'},
        "pages: '../vol-2/p01.tif' must be a file name inside the volume folder",
        id="traversal-in-pages",
    ),
    pytest.param(
        {"volume.toml": 'pages = ["/etc/hostname"]\n'},
        "pages: '/etc/hostname' must be a file name inside the volume folder",
        id="absolute-path-in-pages",
    ),
    pytest.param(
        {"p01.jpg": "image"}, "both give page id 'p01'; rename one", id="duplicate-page-id"
    ),
    pytest.param({"P01.tif": "image"}, "differ only in case", id="case-duplicate"),
    pytest.param(
        {"volume.toml": 'pages = ["p01.tif", "p01.tif"]\n'},
        "'p01.tif' is listed twice",
        id="listed-twice",
    ),
]


@pytest.mark.parametrize(("extra", "reason"), VOLUME_FAILURES)
def test_broken_volume_fails_alone(tmp_path: Path, extra: dict[str, str], reason: str) -> None:
    bad = tmp_path / "scans" / "vol-1"
    good = tmp_path / "scans" / "vol-2"
    for folder in (bad, good):
        folder.mkdir(parents=True)
        save(grey(), folder / "p01.tif")
    for name, content in extra.items():
        if content == "image":
            save(grey(), bad / name)
        else:
            (bad / name).write_text(content, encoding="utf-8")
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest")
    assert_clean_exit(result, 1)
    assert "error: vol-1 [ingest]: " in result.output and reason in result.output, result.output
    assert "done: 1 ok, 1 failed" in result.output  # vol-2 went on
    status = invoke(tmp_path, "status")
    assert f"vol-1: error: {bad}" in status.output and reason in status.output
    assert "vol-2 (1 page)" in status.output


@pytest.mark.parametrize("name", ["MS 0042", "인물전기"])
def test_unsafe_volume_folder_is_refused(tmp_path: Path, name: str) -> None:
    for vid in (name, "vol-2"):
        (tmp_path / "scans" / vid).mkdir(parents=True)
        save(grey(), tmp_path / "scans" / vid / "p01.tif")
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest")
    assert_clean_exit(result, 1)
    assert f"error: {name} [ingest]: " in result.output
    assert "rename the folder" in result.output
    status = invoke(tmp_path, "status")
    assert_clean_exit(status, 1)
    assert f"{name}: error: " in status.output and "report: " in status.output


# -- unusual but valid: all the way through ----------------------------------------------------
GOOD = [
    pytest.param(
        "p02.tif", lambda p: save(rgb().colourspace("cmyk"), p), ["CMYK -> sRGB"], id="cmyk-tiff"
    ),
    pytest.param(
        "p02.jpg", lambda p: save(rgb().colourspace("cmyk"), p), ["CMYK -> sRGB"], id="cmyk-jpeg"
    ),
    pytest.param(
        "p02.tif",
        lambda p: save((rgb().cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16"), p),
        ["16-bit -> 8-bit"],
        id="rgb-16bit-tiff",
    ),
    pytest.param(
        "p02.png",
        lambda p: save(
            (grey().cast("ushort") * 257).cast("ushort").copy(interpretation="grey16"), p
        ),
        ["16-bit -> 8-bit"],
        id="grey-16bit-png",
    ),
    pytest.param(
        "p02.png",
        lambda p: save(rgb(), p, palette=True),
        ["palette -> full colour"],
        id="palette-png",
    ),
    pytest.param(
        "p02.png",
        lambda p: save(rgb().bandjoin(grey()), p),
        ["transparency flattened onto white"],
        id="rgba-png",
    ),
    pytest.param(
        "p02.png",
        lambda p: save(grey().bandjoin(grey()).copy(interpretation="b-w"), p),
        ["transparency flattened onto white"],
        id="grey-alpha-png",
    ),
    pytest.param(
        "p02.tif",
        lambda p: save(grey() > 128, p, bitdepth=1),
        ["1-bit -> 8-bit grey"],
        id="bilevel-tiff",
    ),
    pytest.param(
        "p02.tif",
        lambda p: save(rgb(), p, tile=True, pyramid=True, tile_width=64, tile_height=64),
        [],
        id="pyramidal-tiff",
    ),
    pytest.param("p02.tif", mismatched, [], id="jpeg-named-tif"),
]


def _run_through(tmp_path: Path) -> tuple[Result, dict[str, object]]:
    result = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest,tiles,manifest")
    report = json.loads((tmp_path / "out" / ".pipeline" / "reports" / "vol-1.json").read_text())
    return result, report


@pytest.mark.parametrize(("name", "make", "converted"), GOOD)
def test_unusual_images_go_all_the_way(
    tmp_path: Path, name: str, make: Maker, converted: list[str]
) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(grey(), folder / "p01.tif")
    make(folder / name)
    result, report = _run_through(tmp_path)
    assert_clean_exit(result, 0)
    page = report["pages"][1]  # type: ignore[index]
    assert page["status"] == "ok", page
    for what in converted:
        assert what in page["conversions"], page["conversions"]
    info = json.loads((tmp_path / "out" / "vol-1" / "images" / "p02" / "info.json").read_text())
    assert (info["width"], info["height"]) == (W, H)


def test_a_misnamed_jpeg_succeeds_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    mismatched(folder / "p01.tif")
    result, report = _run_through(tmp_path)
    assert_clean_exit(result, 0)
    warning = "p01.tif: the name ends in .tif but the content is JPEG"
    assert report["input"]["warnings"] == [warning]  # type: ignore[index]
    assert f"warning: {warning}" in invoke(tmp_path, "status").output


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    rotated_jpeg(folder / "p01.jpg")
    result, report = _run_through(tmp_path)
    assert_clean_exit(result, 0)
    info = json.loads((tmp_path / "out" / "vol-1" / "images" / "p01" / "info.json").read_text())
    assert (info["width"], info["height"]) == (H, W)  # upright: orientation 6 swaps the sides
    manifest = json.loads((tmp_path / "out" / "vol-1" / "manifest.json").read_text())
    assert (manifest["items"][0]["width"], manifest["items"][0]["height"]) == (H, W)
    assert "rotated upright (EXIF orientation 6)" in report["pages"][0]["conversions"]  # type: ignore[index]


NAMES = [
    pytest.param("page 1.tif", id="space"),
    pytest.param("쪽 1.tif", id="hangul"),
    pytest.param(unicodedata.normalize("NFD", "력사 2.tif"), id="hangul-nfd"),
    pytest.param("p#1?&=%20.tif", id="url-reserved"),
    pytest.param("scan[3].tif", id="brackets"),
    pytest.param("p'1\"(x).tif", id="quotes"),
]


@pytest.mark.parametrize("name", NAMES)
def test_odd_file_names_get_safe_stable_ids(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    save(grey(), folder / name)
    result, report = _run_through(tmp_path)
    assert_clean_exit(result, 0)
    pid = page_id_for(name)
    assert SAFE_ID.match(pid)
    assert report["pages"][0]["page"] == pid  # type: ignore[index]
    manifest = json.loads((tmp_path / "out" / "vol-1" / "manifest.json").read_text())
    canvas = manifest["items"][0]["id"]
    assert canvas == f"{BASE_URL}vol-1/canvas/{pid}"
    assert (tmp_path / "out" / "vol-1" / "images" / pid / "info.json").is_file()
    # Derived once: a second run keeps every id and rebuilds nothing.
    again = invoke(tmp_path, "run", "-j", "1", "--quiet", "--stages", "ingest,tiles,manifest")
    assert_clean_exit(again, 0)
    assert "0 ok" in again.output, again.output


def test_an_unlisted_image_is_reported_not_lost(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    for name in ("p01.tif", "p02.tif"):
        save(grey(), folder / name)
    (folder / "volume.toml").write_text('pages = ["p01.tif"]\n', encoding="utf-8")
    result, report = _run_through(tmp_path)
    assert_clean_exit(result, 0)
    assert report["input"]["unlisted_files"] == ["p02.tif"]  # type: ignore[index]
    assert "warning: p02.tif is not listed in volume.toml" in invoke(tmp_path, "status").output
