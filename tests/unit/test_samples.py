"""The synthetic sample generator: determinism, files written, descriptor, ground truth."""

from __future__ import annotations

import ast
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import ExitCode, MissingDependencyError
from pipeline.samples import (
    CONDITIONS,
    DEFAULT_CONDITIONS,
    FONTS,
    HEADER_PHRASE,
    FontMissingError,
    SamplePage,
    find_font,
    generate_volume,
    lines_per_page,
    render_page,
)
from pipeline.samples.descriptor import render_toml
from pipeline.samples.text import PEOPLE, PEOPLE_SETS, RUSSIAN_PASSAGES
from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("nanum_fonts")

# Small pages keep the tests fast; the geometry scales with the width.
W, H = 310, 438
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _volume(dest: Path, **kwargs: object) -> list[SamplePage]:
    args: dict[str, object] = {"pages": 3, "seed": 0, "width": W, "height": H}
    args.update(kwargs)
    return generate_volume(dest, **args)  # type: ignore[arg-type]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    _volume(tmp_path / "a", pages=4, seed=5)
    _volume(tmp_path / "b", pages=4, seed=5)
    a = _files(tmp_path / "a" / "sample-001")
    b = _files(tmp_path / "b" / "sample-001")
    assert sorted(a) == [
        "ground-truth/p001.txt",
        "ground-truth/p002.txt",
        "ground-truth/p003.txt",
        "ground-truth/p004.txt",
        "p001.tif",
        "p002.tif",
        "p003.tif",
        "p004.tif",
        "volume.toml",
    ]
    assert a == b


def test_different_seed_gives_different_pages(tmp_path: Path) -> None:
    first = _volume(tmp_path / "a", seed=1)
    second = _volume(tmp_path / "b", seed=2)
    for page in first:
        one = (tmp_path / "a" / "sample-001" / page.file).read_bytes()
        two = (tmp_path / "b" / "sample-001" / page.file).read_bytes()
        assert one != two
    assert [p.text for p in first] != [p.text for p in second]


def test_render_page_is_deterministic_and_seeded() -> None:
    lines = ["인물전기 제1권", "로동자 김철민", "력사와 리론을 공부하였다."]
    kwargs = {"text_lines": lines, "font": "hand", "condition": "degraded", "width": W, "height": H}
    one = render_page(seed=3, **kwargs)  # type: ignore[arg-type]
    two = render_page(seed=3, **kwargs)  # type: ignore[arg-type]
    other = render_page(seed=4, **kwargs)  # type: ignore[arg-type]
    assert one.mode == "L" and one.size == (W, H)
    assert one.tobytes() == two.tobytes()
    assert one.tobytes() != other.tobytes()


def _columns(image: Image.Image) -> list[float]:
    """Mean grey of each column."""
    w, h = image.size
    data = image.tobytes()
    return [sum(data[x::w]) / h for x in range(w)]


def test_aged_pages_are_deterministic_and_carry_their_damage() -> None:
    lines = [
        "인물전기 제1권",
        "로동자 김철민",
        "력사와 리론을 공부하였다.",
        "1965년 그는 의사가 되였다.",
    ]
    kwargs = {"text_lines": lines, "font": "print", "width": 620, "height": 877}
    one = render_page(seed=3, condition="aged", **kwargs)  # type: ignore[arg-type]
    two = render_page(seed=3, condition="aged", **kwargs)  # type: ignore[arg-type]
    other = render_page(seed=4, condition="aged", **kwargs)  # type: ignore[arg-type]
    clean = render_page(seed=3, condition="clean", **kwargs)  # type: ignore[arg-type]
    assert one.tobytes() == two.tobytes()
    assert one.tobytes() != other.tobytes()
    # The gutter's shadow: one edge of the leaf much darker than its middle (a clean page is even).
    for page, shadowed in ((one, True), (other, True), (clean, False)):
        cols = _columns(page)
        edge = min(sum(cols[:6]), sum(cols[-6:])) / 6
        middle = sum(cols[300:320]) / 20
        assert (edge < 0.75 * middle) is shadowed


def test_aged_is_not_among_the_default_conditions(tmp_path: Path) -> None:
    assert "aged" in CONDITIONS and "aged" not in DEFAULT_CONDITIONS
    pages = _volume(tmp_path, pages=9)
    assert {p.condition for p in pages} == set(DEFAULT_CONDITIONS)
    aged = _volume(tmp_path / "aged", pages=2, fonts=["print", "gothic"], conditions=["aged"])
    assert [(p.font, p.condition) for p in aged] == [("print", "aged"), ("gothic", "aged")]


def test_pages_images_and_ground_truth(tmp_path: Path) -> None:
    pages = _volume(tmp_path, pages=5)
    folder = tmp_path / "sample-001"
    assert [p.page_id for p in pages] == ["p001", "p002", "p003", "p004", "p005"]
    for page in pages:
        assert page.file == f"{page.page_id}.tif"
        assert (page.width, page.height) == (W, H)
        assert page.font in FONTS and page.condition in CONDITIONS
        with Image.open(folder / page.file) as im:
            assert im.format == "TIFF" and im.mode == "L" and im.size == (W, H)
            assert im.info["compression"] in {"tiff_adobe_deflate", "tiff_deflate", "tiff_lzw"}
            assert im.info["dpi"] == pytest.approx((38, 38), abs=1)  # 310 px wide A4
            assert 306 not in im.tag_v2  # DateTime would break reproducibility
        raw = (folder / "ground-truth" / f"{page.page_id}.txt").read_bytes()
        text = raw.decode("utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
        assert text[:-1] == page.text
        assert unicodedata.is_normalized("NFC", text)
        lines = page.text.split("\n")
        assert lines[0].startswith(HEADER_PHRASE)
        assert 2 <= len(lines) <= lines_per_page(width=W, height=H)
        assert not CYRILLIC.search(page.text)  # default pages are Korean only


def test_default_fonts_and_conditions_cycle(tmp_path: Path) -> None:
    pages = _volume(tmp_path, pages=3)
    assert [(p.font, p.condition) for p in pages] == [
        ("print", "clean"),
        ("hand", "degraded"),
        ("gothic", "faded"),
    ]
    many = _volume(tmp_path / "many", pages=9, fonts=["print", "hand2", "gothic"])
    combos = {(p.font, p.condition) for p in many}
    assert len(combos) == 9  # every font meets every condition


def test_descriptor_keys_and_ranges(tmp_path: Path) -> None:
    pages = _volume(tmp_path, pages=6, volume_id="vol-002")
    data = tomllib.loads((tmp_path / "vol-002" / "volume.toml").read_text(encoding="utf-8"))
    assert set(data) == {
        "label",
        "summary",
        "viewing_direction",
        "ocr_languages",
        "metadata",
        "ranges",
    }
    assert set(data["label"]) == {"ko", "ko-Latn", "en"}
    assert data["label"]["ko"] == f"{HEADER_PHRASE} 제2권"
    assert set(data["summary"]) == {"ko", "en"}
    assert data["viewing_direction"] == "left-to-right"
    assert data["ocr_languages"] == ["kor"]
    labels = [m["label"]["en"] for m in data["metadata"]]
    for wanted in (
        "Compiler",
        "Date",
        "Language",
        "Subject",
        "Physical description",
        "Identifier",
        "Source collection",
    ):
        assert wanted in labels
    for entry in data["metadata"]:
        assert entry["label"]["ko"] and entry["value"]["ko"] and entry["value"]["en"]

    ids = [p.page_id for p in pages]
    ranges = data["ranges"]
    assert 2 <= len(ranges) <= 3
    covered: list[str] = []
    for entry in ranges:
        assert set(entry) == {"label", "first", "last"}
        assert entry["label"]["en"].startswith("Biography of ")
        start, end = ids.index(entry["first"]), ids.index(entry["last"])
        assert start <= end
        covered += ids[start : end + 1]
        # The biography's title line (role and name) opens its first page.
        assert pages[start].text.split("\n")[1] == entry["label"]["ko"].removesuffix(" 전기")
    assert covered == ids  # consecutive, no gaps or overlaps


def test_north_korean_spelling(tmp_path: Path) -> None:
    pages = _volume(tmp_path, pages=12, seed=3)
    text = "\n".join(p.text for p in pages)
    for southern in ("역사", "노동", "이론", "여성", "양심", "내일"):
        assert southern not in text
    assert any(word in text for word in ("력사", "로동", "리론", "녀성", "년로"))


def test_mixed_style_puts_russian_passages_among_the_korean_lines(tmp_path: Path) -> None:
    pages = _volume(tmp_path, pages=4, fonts=["mixed", "print"])
    for page in pages:
        lines = page.text.split("\n")
        russian = [n for n, line in enumerate(lines) if CYRILLIC.search(line)]
        if page.font != "mixed":
            assert not russian
            continue
        # The heading and three passages of one to three lines, each between Korean lines.
        assert 4 <= len(russian) <= 10
        assert sum(1 for n in russian if n > 1 and not CYRILLIC.search(lines[n - 1])) >= 3
        assert re.search(r"\d{4}", " ".join(lines[n] for n in russian))
    data = tomllib.loads((tmp_path / "sample-001" / "volume.toml").read_text(encoding="utf-8"))
    assert data["ocr_languages"] == ["kor"]  # nothing says which pages have Russian
    assert "Russian" in str(data)


def test_held_out_russian_passages_differ_from_the_tuning_ones(tmp_path: Path) -> None:
    tuning = RUSSIAN_PASSAGES["tuning"]
    held_out = RUSSIAN_PASSAGES["held-out"]
    assert not set(tuning) & set(held_out)
    pages = _volume(tmp_path, pages=3, fonts=["mixed"], russian_set="held-out", seed=4)
    text = " ".join(" ".join(p.text.split()) for p in pages)
    assert any(s in text for s in held_out) and not any(s in text for s in tuning)
    with pytest.raises(ValueError, match="unknown Russian set"):
        _volume(tmp_path / "x", fonts=["mixed"], russian_set="other")


def test_held_out_biographies_differ_from_the_tuning_ones(tmp_path: Path) -> None:
    tuning, held_out = PEOPLE_SETS["tuning"], PEOPLE_SETS["held-out"]
    assert not set(tuning) & set(held_out) and set(tuning) | set(held_out) == set(PEOPLE)
    # Five pages hold three biographies: a set of two repeats one.
    pages = _volume(tmp_path, pages=5, people_set="held-out", seed=4)
    text = "".join("".join(p.text.split()) for p in pages)
    assert all(person.name_ko in text for person in held_out)
    assert not any(person.name_ko in text for person in tuning)
    with pytest.raises(ValueError, match="unknown people set"):
        _volume(tmp_path / "x", people_set="other")


@pytest.mark.parametrize(("image_format", "pil_format"), [("jpg", "JPEG"), ("png", "PNG")])
def test_other_image_formats(tmp_path: Path, image_format: str, pil_format: str) -> None:
    pages = _volume(tmp_path, pages=2, image_format=image_format, write_descriptor=False)
    folder = tmp_path / "sample-001"
    assert not (folder / "volume.toml").exists()
    for page in pages:
        assert page.file == f"{page.page_id}.{image_format}"
        with Image.open(folder / page.file) as im:
            assert im.format == pil_format and im.mode == "L"


def test_geometry_scales_with_width() -> None:
    assert lines_per_page(width=1240, height=1754) == lines_per_page(width=2480, height=3508)


def test_font_missing_names_the_package(tmp_path: Path) -> None:
    empty = tmp_path / "fonts"
    empty.mkdir()
    with pytest.raises(FontMissingError, match=r"NanumPen\.ttf.*fonts-nanum-extra"):
        find_font("hand", font_dirs=[empty])
    with pytest.raises(FontMissingError, match=r"NanumMyeongjo\.ttf.*fonts-nanum\b"):
        find_font("NanumMyeongjo.ttf", font_dirs=[empty])
    with pytest.raises(FontMissingError):
        generate_volume(tmp_path / "out", pages=1, width=W, height=H, font_dirs=[empty])
    assert not (tmp_path / "out").exists()  # nothing written before the check


def test_the_command_without_fonts_exits_3_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without the Nanum fonts: one line naming the package, no traceback."""
    empty = tmp_path / "fonts"
    empty.mkdir()
    assert issubclass(FontMissingError, MissingDependencyError)
    # The command passes no font folders: give the function's default ones an empty folder.
    assert generate_volume.__kwdefaults__ is not None
    monkeypatch.setitem(generate_volume.__kwdefaults__, "font_dirs", (empty,))
    args = ["samples", str(tmp_path / "out"), "--width", str(W), "--height", str(H)]
    result = run_cli(*args)
    assert result.exit_code == ExitCode.MISSING_DEPENDENCY, result.output
    assert f"error: font file 'NanumMyeongjo.ttf' not found in {empty}" in result.output
    assert "(apt-get install fonts-nanum)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_descriptor_toml_reads_back_and_keeps_its_one_line_maps() -> None:
    values = {
        "label": {"ko": "제1권", "ko-Latn": "che 1 kwŏn", "en": 'say "hi" \\ 1'},
        "viewing_direction": "left-to-right",
        "ocr_languages": ["kor", "rus"],
    }
    tables = {"ranges": [{"label": {"en": "a"}, "first": "p001"}, {"first": "p2"}]}
    text = render_toml(values, tables, comment="# a sample")
    assert tomllib.loads(text) == {**values, **tables}
    assert text.splitlines() == [
        "# a sample",
        'label = { ko = "제1권", "ko-Latn" = "che 1 kwŏn", en = "say \\"hi\\" \\\\ 1" }',
        'viewing_direction = "left-to-right"',
        'ocr_languages = ["kor", "rus"]',
        "",
        "[[ranges]]",
        'label = { en = "a" }',
        'first = "p001"',
        "",
        "[[ranges]]",
        'first = "p2"',
    ]


def test_the_generator_imports_nothing_of_the_pipeline_but_errors() -> None:
    """The samples package is the top layer but one: it stands apart from the pipeline."""
    package = Path(__file__).parents[2] / "pipeline" / "samples"
    imported: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    outside = {m for m in imported if m.split(".")[0] == "pipeline"}
    outside = {m for m in outside if not m.startswith("pipeline.samples")}
    assert outside == {"pipeline.errors"}


def test_find_font_default_dirs() -> None:
    assert find_font("print").name == "NanumMyeongjo.ttf"


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="condition"):
        render_page(text_lines=["x"], font="print", condition="wet", seed=0, width=W, height=H)
    with pytest.raises(ValueError, match="font style"):
        render_page(text_lines=["x"], font="comic", condition="clean", seed=0, width=W, height=H)
    too_many = ["가"] * (lines_per_page(width=W, height=H) + 1)
    with pytest.raises(ValueError, match="do not fit"):
        render_page(text_lines=too_many, font="print", condition="clean", seed=0, width=W, height=H)
    with pytest.raises(ValueError, match="format"):
        _volume(tmp_path, image_format="bmp")
    with pytest.raises(ValueError, match="volume_id"):
        _volume(tmp_path, volume_id="../escape")
