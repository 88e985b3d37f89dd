"""The transcription stage: files onto the canvas, precedence, provenance, published text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from iiif_prezi3 import AnnotationPage
from lxml import etree

from pipeline.errors import TranscriptError
from pipeline.input.descriptor import Descriptor
from pipeline.input.transcripts.read import read_transcript
from pipeline.input.transcripts.schemas import validate
from pipeline.layout import Layout
from pipeline.ocr.chosen import chosen_lines
from pipeline.records import PageItem, TranscriptFile
from pipeline.results import IngestResult, OcrResult, TextKind
from pipeline.stages import annotations, text, transcription
from pipeline.stages.spec import PageInput, Upstream, VolumeInput
from tests.conftest import BASE_URL

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"
PAGE19 = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}"
DEFAULT = transcription.TranscriptionSettings(
    precedence=["human", "htr", "ocr"], machine_layer=False
)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(out=tmp_path / "out", base_url=BASE_URL)


def page_input(
    file: Path | None,
    size: tuple[int, int],
    *,
    orientation: int = 1,
    ocr: OcrResult | None = None,
    override: dict[str, str] | None = None,
    page: str = "p1",
) -> PageInput:
    found = TranscriptFile(path=str(file), name=file.name, **(override or {})) if file else None
    item = PageItem(
        volume="vol",
        page=page,
        source=f"/scans/vol/{page}.tif",
        index=0,
        label={"none": ["1"]},
        ocr_languages=("kor",),
        transcript=found,
    )
    ingest = IngestResult(width=size[0], height=size[1], orientation=orientation)
    return PageInput(item=item, upstream=Upstream(ingest=ingest, ocr=ocr))


def run(inp: PageInput, layout: Layout, settings: Any = DEFAULT) -> PageInput:
    """Run the stage; return the input the annotations stage gets (its result upstream)."""
    rec = transcription.run(inp, settings, layout)
    assert rec.status == "ok"
    up = inp.upstream.model_copy(update={"transcription": rec.result})
    return PageInput(item=inp.item, upstream=up)


def annotation_doc(inp: PageInput, layout: Layout) -> dict[str, Any]:
    rec = annotations.run(inp, annotations.AnnotationSettings(base_url=BASE_URL), layout)
    data: dict[str, Any] = json.loads(layout.path(rec.data["annotations"]).read_text("utf-8"))
    AnnotationPage(**data)
    return data


def xywh(target: str) -> tuple[int, int, int, int]:
    x, y, w, h = (int(v) for v in target.rsplit("#xywh=", 1)[1].split(","))
    return x, y, x + w, y + h


def _bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    return (
        min(p[0] for p in points),
        min(p[1] for p in points),
        max(p[0] for p in points),
        max(p[1] for p in points),
    )


def file_boxes(path: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each text line's id and box as the file states it, read with plain XPath."""
    root = etree.parse(str(path)).getroot()
    found = []
    for line in root.iter("{*}TextLine"):
        coords = line.find("{*}Coords")
        if coords is not None:
            pairs = [p.split(",") for p in str(coords.get("points")).split()]
            box = _bounds([(float(x), float(y)) for x, y in pairs])
        else:
            x, y = float(line.get("HPOS", 0)), float(line.get("VPOS", 0))
            box = (x, y, x + float(line.get("WIDTH", 0)), y + float(line.get("HEIGHT", 0)))
        found.append((str(line.get("id") or line.get("ID")), box))
    return found


def near(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = 2.0) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


REAL = {
    "transkribus-page2013-0002.xml": ("human", "TrHtr 0.0.5"),
    "escriptorium-page2019-0003.xml": ("human", "escriptorium"),
    "escriptorium-alto4-0003.xml": ("human", "escriptorium"),
    "abbyy-alto2-PPN750717092-00000780.xml": ("ocr", "ABBYY FineReader Engine 11"),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_a_real_export_lands_on_a_master_of_its_size(name: str, layout: Layout) -> None:
    path = DATA / name
    size = read_transcript(path).image_size
    assert size is not None
    inp = run(page_input(path, size), layout)
    found = inp.upstream.transcription
    assert found is not None and found.chosen and found.file == name
    kind, software = REAL[name]
    assert found.provenance is not None
    assert (found.provenance.kind, found.provenance.software) == (kind, software)
    doc = annotation_doc(inp, layout)
    assert [a["body"]["value"] for a in doc["items"]] == [
        line.text for line in read_transcript(path).lines
    ]
    # Every box where the file puts it (same size: the same pixels), by an independent reading.
    # (Every line of these files has text, so the lines and annotations pair up in order.)
    stated = file_boxes(path)
    assert len(stated) == len(doc["items"])
    for (line_id, box), annotation in zip(stated, doc["items"], strict=True):
        assert near(xywh(annotation["target"]), box), line_id
    label = doc["label"]["en"][0]
    assert label == ("Transcription" if kind == "human" else f"OCR: {software}, machine-generated")


def test_the_transkribus_page_names_its_model_and_date(layout: Layout) -> None:
    path = DATA / "transkribus-page2013-0002.xml"
    inp = run(page_input(path, (2923, 3605)), layout)
    first = annotation_doc(inp, layout)["items"][0]
    assert first["generator"] == {"type": "Software", "name": "TrHtr 0.0.5 44522"}
    assert first["created"] == "2022-11-08T13:38:02.902+01:00"
    assert "creator" not in first  # a person corrected it, and the file does not say who


def test_escriptorium_is_software_not_a_person(layout: Layout) -> None:
    path = DATA / "escriptorium-page2019-0003.xml"
    first = annotation_doc(run(page_input(path, (5680, 4180)), layout), layout)["items"][0]
    assert first["generator"]["name"] == "escriptorium" and "creator" not in first


def test_volume_toml_overrides_say_who_and_when(layout: Layout) -> None:
    path = DATA / "escriptorium-page2019-0003.xml"
    override = {"creator": "Kim Yong-su", "date": "2025-03-01"}
    inp = run(page_input(path, (5680, 4180), override=override), layout)
    first = annotation_doc(inp, layout)["items"][0]
    assert first["creator"] == {"type": "Person", "name": "Kim Yong-su"}
    assert first["created"] == "2025-03-01"
    htr = run(page_input(path, (5680, 4180), override={"kind": "htr", "creator": "NLK"}), layout)
    doc = annotation_doc(htr, layout)
    assert doc["items"][0]["creator"] == {"type": "Organization", "name": "NLK"}
    assert doc["label"]["en"] == ["HTR: escriptorium"]


def _scaled_copy(source: Path, target: Path, factor: float, size: tuple[int, int]) -> None:
    """The eScriptorium PAGE file as if transcribed on a copy ``factor`` times the size."""
    tree = etree.parse(str(source))
    page = tree.getroot().find(f"{PAGE19}Page")
    assert page is not None
    page.set("imageWidth", str(size[0]))
    page.set("imageHeight", str(size[1]))
    for element in tree.getroot().iter(f"{PAGE19}Coords", f"{PAGE19}Baseline"):
        pairs = [p.split(",") for p in str(element.get("points")).split()]
        element.set(
            "points",
            " ".join(f"{round(float(x) * factor)},{round(float(y) * factor)}" for x, y in pairs),
        )
    tree.write(str(target), xml_declaration=True, encoding="UTF-8")


def test_a_copy_transcribed_at_half_size_lands_on_the_full_canvas(
    layout: Layout, tmp_path: Path
) -> None:
    source = DATA / "escriptorium-page2019-0003.xml"
    half = tmp_path / "0003.xml"
    _scaled_copy(source, half, 0.5, (2840, 2090))
    doc = annotation_doc(run(page_input(half, (5680, 4180)), layout), layout)
    stated = [box for _, box in file_boxes(source)]
    boxes = [xywh(a["target"]) for a in doc["items"]]
    assert len(boxes) == 19
    for box, expected in zip(boxes, stated, strict=True):
        assert near(box, expected), (box, expected)


def test_a_file_of_the_stored_pixels_of_an_exif_rotated_master_is_turned_upright(
    layout: Layout,
) -> None:
    # Stored 5680 x 4180, EXIF orientation 6 (turn 90 degrees clockwise to stand upright):
    # kraken and tesseract see the stored pixels, the canvas is 4180 x 5680.
    source = DATA / "escriptorium-page2019-0003.xml"
    stored_w, stored_h = 5680, 4180
    doc = annotation_doc(
        run(page_input(source, (stored_h, stored_w), orientation=6), layout), layout
    )
    for (_, (x0, y0, x1, y1)), annotation in zip(file_boxes(source), doc["items"], strict=True):
        # Upright (x', y') = (stored height - y, x): corners give the box.
        expected = (stored_h - y1, x0, stored_h - y0, x1)
        assert near(xywh(annotation["target"]), expected)


def test_polygons_are_kept_on_the_canvas(layout: Layout, tmp_path: Path) -> None:
    source = DATA / "escriptorium-page2019-0003.xml"
    half = tmp_path / "0003.xml"
    _scaled_copy(source, half, 0.5, (2840, 2090))
    found = run(page_input(half, (5680, 4180)), layout).upstream.transcription
    assert found is not None
    first = found.lines[0]
    assert first.points and first.box
    xs = [x for x, _ in first.points]
    assert near((min(xs), max(xs)), (first.box[0], first.box[2]))


def ocr_result(lines: list[tuple[str, tuple[int, int, int, int]]], **extra: Any) -> OcrResult:
    return OcrResult(
        language="kor",
        engine="tesseract 5.3.0",
        confidence=extra.pop("confidence", 80.0),
        line_boxes=lines,
        txt="vol/ocr/p1.txt",
        alto="vol/ocr/p1.alto.xml",
        hocr="vol/ocr/p1.hocr",
        **extra,
    )


OCR_LINES = [("인물전기 제1권", (10, 20, 300, 60)), ("로동자", (10, 80, 200, 120))]


def test_plain_text_borrows_the_ocr_boxes_when_the_counts_agree(
    layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("인물전기 제1권\n로동자\n", encoding="utf-8")
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout)
    found = inp.upstream.transcription
    assert found is not None and "borrowed from the OCR" in found.note
    doc = annotation_doc(inp, layout)
    assert [xywh(a["target"]) for a in doc["items"]] == [box for _, box in OCR_LINES]
    path.write_text("인물전기 제1권\n로동자\n력사\n", encoding="utf-8")
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout)
    assert inp.upstream.transcription is not None
    assert "whole page" in inp.upstream.transcription.note
    doc = annotation_doc(inp, layout)
    assert {a["target"] for a in doc["items"]} == {f"{BASE_URL}vol/canvas/p1"}


@pytest.mark.parametrize(
    ("kind", "precedence", "chosen"),
    [
        pytest.param("human", ["human", "htr", "ocr"], True, id="human-over-ocr"),
        pytest.param("htr", ["human", "htr", "ocr"], True, id="htr-over-ocr"),
        pytest.param("htr", ["human", "ocr", "htr"], False, id="ocr-over-htr"),
        pytest.param("human", ["ocr", "human"], False, id="ocr-first"),
        pytest.param("htr", ["human", "ocr"], False, id="htr-not-listed"),
        pytest.param("ocr", ["human", "htr", "ocr"], True, id="an-ocr-file-over-our-ocr"),
        pytest.param("human", ["human"], True, id="ocr-not-listed"),
    ],
)
def test_precedence_decides_which_text_the_page_shows(
    kind: TextKind, precedence: list[TextKind], chosen: bool, layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("사람이 쓴 글\n두째 줄\n", encoding="utf-8")
    settings = transcription.TranscriptionSettings(precedence=precedence, machine_layer=False)
    inp = page_input(path, (600, 800), ocr=ocr_result(OCR_LINES), override={"kind": kind})
    inp = run(inp, layout, settings)
    shown = chosen_lines(inp.upstream.ocr, inp.upstream.transcription)
    assert shown is not None and shown.transcribed is chosen
    texts = [a["body"]["value"] for a in annotation_doc(inp, layout)["items"]]
    assert texts == (["사람이 쓴 글", "두째 줄"] if chosen else [t for t, _ in OCR_LINES])
    assert layout.transcription_path("vol", "p1", "alto").exists() is chosen


def test_withheld_ocr_loses_to_any_listed_kind(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("사람이 쓴 글\n", encoding="utf-8")
    settings = transcription.TranscriptionSettings(precedence=["ocr", "human"], machine_layer=False)
    withheld = ocr_result(OCR_LINES, published=False, needs_review=True)
    inp = run(page_input(path, (600, 800), ocr=withheld), layout, settings)
    assert inp.upstream.transcription is not None and inp.upstream.transcription.chosen


def test_the_machine_layer_is_published_only_when_configured(
    layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("사람이 쓴 글\n두째 줄\n", encoding="utf-8")
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout)
    settings = annotations.AnnotationSettings(base_url=BASE_URL)
    assert annotations.run(inp, settings, layout).data.get("machine") is None
    assert not layout.annotations_path("vol", "p1", "ocr").exists()
    both = transcription.TranscriptionSettings(precedence=["human", "ocr"], machine_layer=True)
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout, both)
    rec = annotations.run(inp, settings, layout)
    assert rec.data["machine"] == "vol/annotations/ocr/p1.json"
    machine = json.loads(layout.path(rec.data["machine"]).read_text("utf-8"))
    assert [a["body"]["value"] for a in machine["items"]] == [t for t, _ in OCR_LINES]
    assert "Machine-generated OCR" in machine["label"]["en"][0]
    assert machine["id"] == f"{BASE_URL}vol/annotations/ocr/p1.json"


def test_an_empty_transcription_leaves_no_machine_layer_behind(
    layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("", encoding="utf-8")
    both = transcription.TranscriptionSettings(precedence=["human", "ocr"], machine_layer=True)
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout, both)
    rec = annotations.run(inp, annotations.AnnotationSettings(base_url=BASE_URL), layout)
    # A blank page: no annotations, and no unrecorded OCR layer that would still be published.
    assert rec.data.get("annotations") is None and not rec.outputs
    assert not layout.annotations_path("vol", "p1", "ocr").exists()


def test_the_published_alto_and_hocr_hold_the_chosen_text(layout: Layout) -> None:
    path = DATA / "escriptorium-page2019-0003.xml"
    run(page_input(path, (5680, 4180)), layout)
    lines = read_transcript(path).lines
    alto = layout.transcription_path("vol", "p1", "alto")
    assert validate(etree.parse(str(alto)).getroot()) == []
    for written in (alto, layout.transcription_path("vol", "p1", "hocr")):
        back = read_transcript(written)
        assert [line.text for line in back.lines] == [line.text for line in lines]
        for got, want in zip(back.lines, lines, strict=True):
            assert got.box is not None and want.box is not None
            assert near(got.box, want.box)
    txt = layout.transcription_path("vol", "p1", "txt").read_text("utf-8")
    assert txt.splitlines() == [line.text for line in lines]


def test_no_file_means_an_empty_result_and_no_stale_files(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("사람이 쓴 글\n", encoding="utf-8")
    run(page_input(path, (600, 800)), layout)
    assert layout.transcription_path("vol", "p1", "txt").exists()
    rec = transcription.run(page_input(None, (600, 800)), DEFAULT, layout)
    assert rec.data == {} and not rec.outputs
    assert not layout.transcription_path("vol", "p1", "txt").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            b'<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
            b"<Page>",
            "malformed XML",
            id="malformed",
        ),
        pytest.param(b"<PcGts><Page/></PcGts>", "root element PcGts", id="no-namespace"),
        pytest.param("é\n".encode("latin-1"), "not UTF-8", id="latin-1"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(
    content: bytes, reason: str, layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.xml"
    path.write_bytes(content)
    with pytest.raises(TranscriptError) as caught:
        transcription.run(page_input(path, (600, 800)), DEFAULT, layout)
    message = str(caught.value)
    assert message.startswith("p1.xml: ") and reason in message and "\n" not in message


def test_an_empty_transcription_is_a_blank_page(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("\n\n", encoding="utf-8")
    inp = run(page_input(path, (600, 800), ocr=ocr_result(OCR_LINES)), layout)
    found = inp.upstream.transcription
    assert found is not None and found.chosen and found.lines == []
    assert any("empty transcription" in w for w in found.warnings)
    rec = annotations.run(inp, annotations.AnnotationSettings(base_url=BASE_URL), layout)
    assert rec.data["annotations"] is None


def test_the_volume_text_says_per_page_what_it_is(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "p1.txt"
    path.write_text("사람이 쓴 글\n", encoding="utf-8")
    transcribed = run(
        page_input(path, (600, 800), ocr=ocr_result(OCR_LINES), override={"creator": "Kim"}),
        layout,
    )
    ocr_txt = layout.ocr_path("vol", "p2", "txt")
    ocr_txt.parent.mkdir(parents=True, exist_ok=True)
    ocr_txt.write_text("기계가 읽은 글\n", encoding="utf-8")
    machine = ocr_result(OCR_LINES).model_copy(update={"txt": layout.rel(ocr_txt)})
    other = page_input(None, (600, 800), ocr=machine, page="p2")
    inp = VolumeInput(
        volume="vol", descriptor=Descriptor(), pages=(transcribed, other), order=("p1", "p2")
    )
    rec = text.run(inp, text.TextSettings(enabled=True), layout)
    assert rec.data["transcribed"] == ["p1"]
    body = layout.text_path("vol").read_text("utf-8")
    assert not body.startswith("Machine-generated")
    assert "=== p1 (1) ===\n[transcription by Kim]\n사람이 쓴 글\n" in body
    assert "=== p2 (1) ===\n[machine-generated OCR]\n기계가 읽은 글\n" in body


# hOCR as tesseract 5 writes it (XHTML, ocr_carea/ocr_par/ocr_line/ocrx_word, x_wconf), for a
# copy of the page at half the master's size: 300 x 400 for a 600 x 800 master.
TESSERACT_HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract 5.3.0' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
  <div class='ocr_page' id='page_1' title='image "p1_half.png"; bbox 0 0 300 400; ppageno 0; scan_res 150 150'>
   <div class='ocr_carea' id='block_1_1' title="bbox 20 30 260 90">
    <p class='ocr_par' id='par_1_1' lang='kor' title="bbox 20 30 260 90">
     <span class='ocr_line' id='line_1_1' title="bbox 20 30 260 50; baseline 0 -4; x_size 20; x_descenders 4; x_ascenders 5">
      <span class='ocrx_word' id='word_1_1' title='bbox 20 30 120 50; x_wconf 91'>인물전기</span>
      <span class='ocrx_word' id='word_1_2' title='bbox 130 30 260 50; x_wconf 88'>제1권</span>
     </span>
     <span class='ocr_line' id='line_1_2' title="bbox 20 70 160 90; baseline 0 -3; x_size 20; x_descenders 4; x_ascenders 5">
      <span class='ocrx_word' id='word_1_3' title='bbox 20 70 160 90; x_wconf 85'>로동자</span>
     </span>
    </p>
   </div>
  </div>
 </body>
</html>
"""  # noqa: E501 (tesseract's lines, as it writes them)


def test_tesseract_hocr_of_a_half_size_copy_is_ocr_on_the_full_canvas(
    layout: Layout, tmp_path: Path
) -> None:
    path = tmp_path / "p1.hocr"
    path.write_text(TESSERACT_HOCR, encoding="utf-8")
    inp = run(page_input(path, (600, 800)), layout)
    found = inp.upstream.transcription
    assert found is not None and found.provenance is not None
    assert (found.provenance.kind, found.provenance.software) == ("ocr", "tesseract 5.3.0")
    doc = annotation_doc(inp, layout)
    assert [a["body"]["value"] for a in doc["items"]] == ["인물전기 제1권", "로동자"]
    assert [xywh(a["target"]) for a in doc["items"]] == [(40, 60, 520, 100), (40, 140, 320, 180)]
    assert [a["body"]["language"] for a in doc["items"]] == ["ko", "ko"]
    assert doc["label"]["en"] == ["OCR: tesseract 5.3.0, machine-generated"]
    assert doc["items"][0]["creator"]["type"] == "Software"
