"""OCR lines -> IIIF AnnotationPage, page text, volume text and the review list."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from iiif_prezi3 import AnnotationPage

from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.ocr import page_text, tesseract
from pipeline.ocr.annotations import annotation_page
from pipeline.ocr.chosen import PageText, line_language, ocr_text
from pipeline.ocr.hocr import Line, Word
from pipeline.records import PageItem
from pipeline.results import OcrResult
from pipeline.stages import text
from pipeline.stages.spec import PageInput, Upstream, VolumeInput
from tests.conftest import BASE_URL, SCHEMAS


def line(text_: str, bbox: tuple[int, int, int, int], paragraph: str = "par_1") -> Line:
    return Line(bbox=bbox, words=(Word(text_, bbox, 90.0),), paragraph=paragraph, text=text_)


def ocr_page(
    lines: list[Line], lang: str, confidence: float | None = None, *, needs_review: bool = False
) -> PageText:
    result = OcrResult(
        language=lang,
        engine="tesseract 5.3.0",
        confidence=confidence,
        needs_review=needs_review,
        line_boxes=[(ln.text, ln.bbox) for ln in lines],
        txt="vol-1/ocr/p001.txt",
    )
    return ocr_text(result)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(out=tmp_path / "out", base_url=BASE_URL)


def test_annotation_page_is_valid_iiif_with_one_line_per_annotation(layout: Layout) -> None:
    lines = [
        line("인물전기 제1권", (516, 760, 1392, 892)),
        line("Личное дело", (500, 1000, 1500, 1100)),
    ]
    data = annotation_page(ocr_page(lines, "kor+rus"), volume="vol-1", page="p001", layout=layout)
    schema = json.loads((SCHEMAS / "presentation-3.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(data)
    AnnotationPage(**data)  # round-trips through the prezi3 model
    assert data["id"] == "https://example.org/iiif/vol-1/annotations/p001.json"
    assert "Machine-generated" in data["label"]["en"][0]
    flagged = annotation_page(
        ocr_page(lines[:1], "kor", 74.5, needs_review=True),
        volume="vol-1",
        page="p001",
        layout=layout,
    )
    assert "74.5" in flagged["label"]["en"][0] and "not reviewed" in flagged["label"]["en"][0]
    first, second = data["items"]
    assert first["motivation"] == "supplementing"
    assert first["target"] == "https://example.org/iiif/vol-1/canvas/p001#xywh=516,760,876,132"
    assert first["body"] == {
        "type": "TextualBody",
        "value": "인물전기 제1권",
        "format": "text/plain",
        "language": "ko",
    }
    assert second["body"]["language"] == "ru"
    assert first["creator"]["type"] == "Software"
    assert "tesseract 5.3.0" in first["creator"]["name"]
    assert first["id"] != second["id"]


def test_language_tags_and_line_language() -> None:
    assert tesseract.language_tags("kor") == ["ko"]
    assert tesseract.language_tags("kor+Hangul") == ["ko"]
    assert tesseract.language_tags("kor+rus") == ["ko", "ru"]
    assert tesseract.language_tags("chi_tra") == ["zh-Hant"]
    assert tesseract.language_tags("xyz") == ["und"]
    assert line_language("로동 1990", ["ko", "ru"]) == "ko"
    assert line_language("Копия верна", ["ko", "ru"]) == "ru"
    assert line_language("1990", ["ko", "ru"]) == "ko"


def test_plain_text_separates_paragraphs() -> None:
    lines = [
        line("인물전기 제1권", (0, 0, 1, 1), "par_1"),
        line("로동자", (0, 0, 1, 1), "par_2"),
        line("력사", (0, 0, 1, 1), "par_2"),
    ]
    assert page_text.plain_text(lines) == "인물전기 제1권\n\n로동자\n력사\n"
    assert page_text.plain_text([]) == ""


def page_input(page: str, index: int, ocr_data: dict[str, object]) -> PageInput:
    item = PageItem(
        volume="vol-1",
        page=page,
        source=f"/scans/vol-1/{page}.tif",
        index=index,
        label={"none": [str(index + 1)]},
        ocr_languages=("kor",),
    )
    return PageInput(item=item, upstream=Upstream.model_validate({"ocr": ocr_data}))


def test_volume_text_keeps_every_page_marker(layout: Layout) -> None:
    txt = layout.ocr_path("vol-1", "p001", "txt")
    txt.parent.mkdir(parents=True)
    txt.write_text("인물전기 제1권\n로동자\n", encoding="utf-8")
    pages = (
        page_input("p001", 0, {"txt": layout.rel(txt), "published": True, "blank": False}),
        page_input("p002", 1, {"txt": "x", "published": False, "confidence": 41.5}),
        page_input("p004", 3, {"txt": "y", "published": True, "blank": True}),
    )
    inp = VolumeInput(
        volume="vol-1",
        descriptor=Descriptor(),
        pages=pages,
        missing=("p003",),
        order=("p001", "p002", "p003", "p004"),
    )
    rec = text.run(inp, text.TextSettings(enabled=True), layout)
    assert rec.data["text"] == "vol-1/vol-1.txt"
    assert rec.data["withheld"] == ["p002"] and rec.data["missing"] == ["p003"]
    body = layout.text_path("vol-1").read_text(encoding="utf-8")
    assert body.index("=== p001 (1) ===") < body.index("=== p002 (2) ===") < body.index("p003")
    assert "인물전기 제1권\n로동자\n" in body
    assert "withheld" in body and "41.5" in body
    assert "OCR of this page failed" in body
    assert "[blank page" in body
    assert body.startswith("Machine-generated OCR text")


def test_volume_text_is_absent_without_ocr(layout: Layout) -> None:
    inp = VolumeInput(volume="vol-1", descriptor=Descriptor(), pages=(page_input("p001", 0, {}),))
    rec = text.run(inp, text.TextSettings(enabled=True), layout)
    assert rec.data == {"text": None} and not rec.outputs
    assert not layout.text_path("vol-1").exists()
