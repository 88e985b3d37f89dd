"""The pdf stage's choices: which derivative, which lines, which title, which bookmarks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from pipeline.config import load_config
from pipeline.errors import MissingDependencyError, PdfError
from pipeline.fsio import sha256_file
from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.ocr import tesseract
from pipeline.pdf.image import Derivative, choose_derivative, page_image
from pipeline.records import PageItem
from pipeline.results import IngestResult, OcrResult, TranscriptionResult
from pipeline.stages import pdf as stage
from pipeline.stages.spec import PageInput, Upstream, VolumeInput
from tests.conftest import require

FULL = Derivative("full/max/0/default.jpg", 1448, 2048)
SIZES = [
    Derivative("full/181,256/0/default.jpg", 181, 256),
    Derivative("full/724,1024/0/default.jpg", 724, 1024),
]
LAYOUT = Layout(Path("out"), "https://example.org/iiif/")


@pytest.mark.parametrize(
    ("max_side", "chosen"),
    [
        pytest.param(1024, SIZES[1], id="a listed size of exactly that side"),
        pytest.param(1000, SIZES[1], id="the smallest one at least that large"),
        pytest.param(1500, FULL, id="full/max when only it is large enough"),
        pytest.param(4000, FULL, id="never scaled up: the largest"),
        pytest.param(0, FULL, id="0: the largest"),
    ],
)
def test_the_derivative_chosen(max_side: int, chosen: Derivative) -> None:
    assert choose_derivative([FULL, *SIZES], max_side) == chosen


def _jpeg(path: Path, width: int = 400, height: int = 600, quality: int = 85) -> bytes:
    image = (pyvips.Image.xyz(width, height)[0] % 256).cast("uchar")
    data: bytes = image.jpegsave_buffer(Q=quality, optimize_coding=True, keep="none")
    path.write_bytes(data)
    return data


def test_a_derivative_of_the_right_size_and_quality_goes_in_as_it_is(tmp_path: Path) -> None:
    data = _jpeg(tmp_path / "a.jpg")
    kept = page_image(tmp_path / "a.jpg", max_side=600, quality=85, keep_bytes=True)
    assert (kept.jpeg, kept.width, kept.height, kept.bands) == (data, 400, 600, 1)
    again = page_image(tmp_path / "a.jpg", max_side=600, quality=40, keep_bytes=False)
    assert again.jpeg != data and len(again.jpeg) < len(data)
    assert (again.width, again.height) == (400, 600)


def test_a_larger_derivative_is_scaled_down_to_the_side_asked_for(tmp_path: Path) -> None:
    _jpeg(tmp_path / "a.jpg")
    image = page_image(tmp_path / "a.jpg", max_side=300, quality=85, keep_bytes=True)
    assert (image.width, image.height) == (200, 300)
    assert pyvips.Image.new_from_buffer(image.jpeg, "").height == 300


def test_a_missing_or_damaged_derivative_is_a_pdf_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match=r"gone\.jpg: missing \(run the tiles stage again\)"):
        page_image(tmp_path / "gone.jpg", max_side=0, quality=85, keep_bytes=True)
    data = _jpeg(tmp_path / "cut.jpg")
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(PdfError, match=r"cut\.jpg: not a readable JPEG"):
        page_image(tmp_path / "cut.jpg", max_side=0, quality=85, keep_bytes=True)


KO = ("인물전기 제1권", (10, 10, 200, 40))
RU = ("Биография", (10, 50, 200, 80))


@pytest.mark.parametrize(
    ("ocr", "expected"),
    [
        pytest.param(None, [], id="no OCR record"),
        pytest.param(OcrResult(), [], id="OCR off"),
        pytest.param(
            OcrResult(line_boxes=[KO], bcp47="ko", published=False), [], id="withheld for review"
        ),
        pytest.param(
            OcrResult(line_boxes=[KO, RU], language="kor", txt="vol/ocr/p1.txt"),
            [(*KO, "ko"), (*RU, "ko")],
            id="published",
        ),
        pytest.param(
            OcrResult(line_boxes=[KO, RU], language="kor+rus", txt="vol/ocr/p1.txt"),
            [(*KO, "ko"), (*RU, "ru")],
            id="each line in the language of its script",
        ),
    ],
)
def test_the_lines_of_a_page(ocr: OcrResult | None, expected: list[tuple[object, ...]]) -> None:
    item = PageItem("vol", "p1", "p1.tif", 0, {}, ("kor",))
    lines = stage.page_lines(PageInput(item, Upstream(ocr=ocr)))
    assert [(line.text, line.box, line.lang) for line in lines] == expected


def test_a_chosen_transcription_is_the_text_layer() -> None:
    item = PageItem("vol", "p1", "p1.tif", 0, {}, ("kor",))
    ocr = OcrResult(line_boxes=[KO], language="kor", txt="vol/ocr/p1.txt")
    transcription = TranscriptionResult.model_validate(
        {
            "file": "p1.txt",
            "provenance": {"kind": "human"},
            "lines": [{"text": "첫 줄", "language": "ko"}, {"text": "둘째 줄", "language": "ko"}],
            "chosen": True,
        }
    )
    ingest = IngestResult(width=1000, height=1500)
    upstream = Upstream(ingest=ingest, ocr=ocr, transcription=transcription)
    lines = stage.page_lines(PageInput(item, upstream))
    # Lines without boxes (plain text) lie over the page in equal bands, in reading order.
    assert [(line.text, line.box) for line in lines] == [
        ("첫 줄", (0, 0, 1000, 750)),
        ("둘째 줄", (0, 750, 1000, 1500)),
    ]


def _settings(**pdf: object) -> stage.PdfSettings:
    return stage.settings(load_config(None, overrides={"pdf": pdf}, environ={}))


def test_title_author_subjects_language_and_direction_from_the_descriptor() -> None:
    desc = Descriptor.model_validate(
        {
            "label": {"en": "Biographies 1", "ko": "인물전기 제1권"},
            "creator": {"ko-Latn": "Kim", "ko": "김철수"},
            "subject": {"ko": ["전기", "의사"]},
            "viewing_direction": "right-to-left",
        }
    )
    info = stage.document_info(desc, "vol", _settings())
    assert (info.title, info.author, info.keywords) == ("인물전기 제1권", "김철수", "전기; 의사")
    assert (info.lang, info.right_to_left) == ("ko", True)
    russian = Descriptor.model_validate({"ocr_languages": ["rus+kor"]})
    info = stage.document_info(russian, "vol-9", _settings())
    assert (info.title, info.author, info.lang, info.right_to_left) == ("vol-9", "", "ru", False)


def test_bookmarks_follow_the_ranges_over_the_pages_in_the_pdf() -> None:
    desc = Descriptor.model_validate(
        {
            "ranges": [
                {
                    "label": {"en": "Physician", "ko": "의사"},
                    "first": "p1",
                    "last": "p3",
                    "ranges": [{"label": {"ko": "어린 시절"}, "first": "p2", "last": "p3"}],
                },
                {"label": {"en": "Worker"}, "first": "p4", "last": "p5"},
                {"label": {"ko": "빈 범위"}, "first": "p6", "last": "p6"},
            ]
        }
    )
    order = ("p1", "p2", "p3", "p4", "p5", "p6")
    inp = VolumeInput(volume="vol", descriptor=desc, pages=(), order=order, missing=("p1", "p6"))
    marks = stage.bookmarks(inp, ["p2", "p3", "p4", "p5"], LAYOUT, "ko")
    assert [(m.title, m.page) for m in marks] == [("의사", 0), ("Worker", 2)]
    assert [(c.title, c.page) for c in marks[0].children] == [("어린 시절", 0)]


def test_a_volume_with_failed_pages_has_no_pdf_unless_partial(tmp_path: Path) -> None:
    layout = Layout(tmp_path, "https://example.org/iiif/")
    stale = layout.pdf_path("vol")
    stale.parent.mkdir()
    stale.write_bytes(b"%PDF of an earlier run")
    inp = VolumeInput(volume="vol", descriptor=Descriptor(), pages=(), missing=("p2",))
    waits = stage.run(inp, _settings(), layout)
    # Not a second failure: the manifest says the volume failed, the PDF waits for it.
    assert waits.status == "ok" and waits.data == {"pdf": None, "missing": ["p2"]}
    assert not stale.exists()
    partial = load_config(None, overrides={"manifest": {"allow_partial": True}}, environ={})
    with pytest.raises(PdfError, match="no page of this volume has tiles"):
        stage.run(inp, stage.settings(partial), layout)
    off = stage.run(inp, _settings(enabled=False), layout)
    assert off.status == "ok" and off.data == {"pdf": None}


@pytest.fixture
def tessdata_without_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real tesseract reading an empty tessdata folder (its cached answers forgotten)."""
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    folder = tmp_path / "tessdata"
    folder.mkdir()
    monkeypatch.setenv("TESSDATA_PREFIX", str(folder))
    tesseract.glyphless_font.cache_clear()
    yield folder
    tesseract.glyphless_font.cache_clear()


def test_a_missing_font_stops_the_job_before_it_starts_unless_there_is_no_text(
    tessdata_without_font: Path,
) -> None:
    with pytest.raises(MissingDependencyError, match=r"pdf\.ttf .* is not in .*tessdata"):
        stage.SPEC.preflight(_settings())
    ocr_off = load_config(None, overrides={"ocr": {"enabled": False}}, environ={})
    assert stage.SPEC.preflight(stage.settings(ocr_off)) == {}
    assert stage.SPEC.preflight(_settings(enabled=False)) == {}


def test_the_font_is_tesseracts_own() -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    found = stage.SPEC.preflight(_settings())
    assert found == {"pdf.ttf": sha256_file(tesseract.glyphless_font())[:16]}
    assert tesseract.glyphless_font().parent.name == "tessdata"
