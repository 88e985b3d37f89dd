"""hOCR and ALTO parsing and rewriting: lines, spacing, confidences, canvas coordinates."""

from __future__ import annotations

import unicodedata

import pytest
from lxml import etree

from pipeline.input.transcripts.schemas import load
from pipeline.ocr import alto, hocr
from pipeline.ocr.geometry import Affine

HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head><title></title>
  <meta name='ocr-system' content='tesseract 5.3.0' />
 </head>
 <body>
  <div class='ocr_page' id='page_1' title='image "/tmp/x/ocr-p1-abc/page.png"; bbox 0 0 1240 1754; ppageno 0; scan_res 150 150'>
   <div class='ocr_carea' id='block_1_1' title="bbox 100 100 700 300">
    <p class='ocr_par' id='par_1_1' lang='kor' title="bbox 100 100 400 140">
     <span class='ocr_line' id='line_1_1' title="bbox 100 100 400 140; baseline 0.010 -5; x_size 30; x_descenders 6; x_ascenders 7">
      <span class='ocrx_word' id='word_1_1' title='bbox 100 100 130 140; x_wconf 93'>인</span>
      <span class='ocrx_word' id='word_1_2' title='bbox 140 100 170 140; x_wconf 91'>물</span>
      <span class='ocrx_word' id='word_1_3' title='bbox 180 100 240 140; x_wconf 87'>전기</span>
      <span class='ocrx_word' id='word_1_4' title='bbox 280 100 310 140; x_wconf 90'>제</span>
      <span class='ocrx_word' id='word_1_5' title='bbox 320 100 400 140; x_wconf 89'>1권</span>
     </span>
    </p>
    <p class='ocr_par' id='par_1_2' lang='kor' title="bbox 100 200 700 300">
     <span class='ocr_line' id='line_1_2' title="bbox 100 200 700 240; baseline 0 -4; x_size 31">
      <span class='ocrx_word' id='word_1_6' title='bbox 100 200 300 240; x_wconf 60'>로동자</span>
      <span class='ocrx_word' id='word_1_7' title='bbox 320 200 700 240; x_wconf 40'>력사</span>
     </span>
     <span class='ocr_line' id='line_1_3' title="bbox 100 260 300 300; baseline 0 -4; x_size 31">
      <span class='ocrx_word' id='word_1_8' title='bbox 100 260 300 300; x_wconf 95'> </span>
     </span>
    </p>
   </div>
  </div>
 </body>
</html>
"""  # noqa: E501
TXT = "인물전기 제1권\n\n로동자 력사\n\f"


def test_properties_split_title() -> None:
    props = hocr.properties('bbox 1 2 3 4; x_wconf 93; image "a b.png"')
    assert props == {"bbox": "1 2 3 4", "x_wconf": "93", "image": '"a b.png"'}


def test_parse_reads_lines_words_confidences() -> None:
    page = hocr.parse(HOCR)
    assert (page.width, page.height) == (1240, 1754)
    assert len(page.lines) == 2  # the line holding only white space is dropped
    first, second = page.lines
    assert [w.text for w in first.words] == ["인", "물", "전기", "제", "1권"]
    assert first.bbox == (100, 100, 400, 140)
    assert [w.confidence for w in second.words] == [60.0, 40.0]
    assert first.paragraph == "par_1_1" and second.paragraph == "par_1_2"
    assert len(page.words) == 7


def test_line_text_takes_tesseract_spacing_not_word_boxes() -> None:
    page = hocr.line_texts(hocr.parse(HOCR), TXT)
    assert [ln.text for ln in page.lines] == ["인물전기 제1권", "로동자 력사"]


def test_line_text_falls_back_to_words_when_outputs_disagree() -> None:
    page = hocr.line_texts(hocr.parse(HOCR), "something else entirely\n")
    assert [ln.text for ln in page.lines] == ["인 물 전기 제 1권", "로동자 력사"]


def test_line_text_is_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "인물전기 제1권")  # conjoining jamo
    assert nfd != "인물전기 제1권"
    page = hocr.line_texts(hocr.parse(HOCR), f"{nfd}\n로동자 력사\n")
    assert page.lines[0].text == "인물전기 제1권"


def test_parse_refuses_garbage() -> None:
    with pytest.raises(hocr.HocrError):
        hocr.parse("<html><body><p>not hocr")
    with pytest.raises(hocr.HocrError, match="ocr_page"):
        hocr.parse('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>')


def test_map_box_scales_offsets_and_clamps() -> None:
    t = Affine(c=10, f=20).then(Affine(a=4.0, e=4.0))  # crop at (10, 20), then 4x up
    assert hocr.map_box((0, 0, 10, 5), t, (1000, 1000)) == (40, 80, 80, 100)
    assert hocr.map_box((0, 0, 500, 500), t, (1000, 1000)) == (40, 80, 1000, 1000)


def test_rewrite_maps_every_box_and_names_the_master() -> None:
    out = hocr.rewrite(
        HOCR, Affine(a=4.0, e=4.0), width=4960, height=7016, image="f017r.tif", dpi=600
    )
    assert "/tmp/" not in out and "page.png" not in out
    page = hocr.parse(out)
    assert (page.width, page.height) == (4960, 7016)
    assert page.lines[0].bbox == (400, 400, 1600, 560)
    assert page.lines[0].words[2].bbox == (720, 400, 960, 560)
    root = etree.fromstring(out.encode())
    titles = [e.get("title") for e in root.iter() if e.get("title")]
    page_title = hocr.properties(titles[0])
    assert page_title["image"] == '"f017r.tif"'
    assert page_title["scan_res"] == "600 600"
    line = hocr.properties(next(t for t in titles if "x_size" in t))
    assert float(line["x_size"]) == 120.0
    assert line["baseline"] == "0.010 -20"


def test_rewrite_is_deterministic() -> None:
    a = hocr.rewrite(HOCR, Affine(a=2, e=2), width=2480, height=3508, image="p.tif", dpi=300)
    b = hocr.rewrite(HOCR, Affine(a=2, e=2), width=2480, height=3508, image="p.tif", dpi=300)
    assert a == b


ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/standards/alto/ns-v3# http://www.loc.gov/alto/v3/alto-3-0.xsd">
	<Description>
		<MeasurementUnit>pixel</MeasurementUnit>
		<sourceImageInformation>
			<fileName>/tmp/x/ocr-p1-abc/page.png</fileName>
		</sourceImageInformation>
		<OCRProcessing ID="OCR_0">
			<ocrProcessingStep>
				<processingSoftware>
					<softwareName>tesseract 5.3.0</softwareName>
				</processingSoftware>
			</ocrProcessingStep>
		</OCRProcessing>
	</Description>
	<Layout>
		<Page WIDTH="1240" HEIGHT="1754" PHYSICAL_IMG_NR="0" ID="page_0">
			<PrintSpace HPOS="0" VPOS="0" WIDTH="1240" HEIGHT="1754">
				<TextBlock ID="block_0" HPOS="100" VPOS="100" WIDTH="300" HEIGHT="40">
					<TextLine ID="line_0" HPOS="100" VPOS="100" WIDTH="300" HEIGHT="40">
						<String ID="string_0" HPOS="100" VPOS="100" WIDTH="70" HEIGHT="40" WC="0.93" CONTENT="인물"/><SP WIDTH="-5" VPOS="100" HPOS="170"/>
						<String ID="string_1" HPOS="165" VPOS="100" WIDTH="75" HEIGHT="40" WC="0.87" CONTENT="전기"/>
					</TextLine>
				</TextBlock>
			</PrintSpace>
		</Page>
	</Layout>
</alto>
"""  # noqa: E501


def alto_schema(name: str = "alto-3-0.xsd") -> etree.XMLSchema:
    """The ALTO XSD the package ships (``pipeline/input/transcripts/schemas``), offline."""
    return load(name)


def test_alto_rewrite_maps_coordinates_and_stays_valid() -> None:
    out = alto.rewrite(ALTO, Affine(a=4.0, e=4.0), width=4960, height=7016, image="f017r.tif")
    root = etree.fromstring(out.encode())
    ns = {"a": alto.ALTO3}
    assert root.findtext(".//a:fileName", namespaces=ns) == "f017r.tif"
    page = root.find(".//a:Page", ns)
    assert page is not None and (page.get("WIDTH"), page.get("HEIGHT")) == ("4960", "7016")
    s0 = root.find(".//a:String", ns)
    assert s0 is not None
    assert [s0.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["400", "400", "280", "160"]
    sp = root.find(".//a:SP", ns)
    assert sp is not None and (sp.get("HPOS"), sp.get("WIDTH")) == ("680", "-20")
    schema = alto_schema()
    assert schema.validate(root), schema.error_log


@pytest.mark.parametrize(("version", "xsd"), [(3, "alto-3-0.xsd"), (4, "alto-4-4.xsd")])
def test_alto_records_preprocessing_and_validates(version: int, xsd: str) -> None:
    out = alto.rewrite(
        ALTO,
        Affine(a=4.0, e=4.0),
        width=4960,
        height=7016,
        image="f017r.tif",
        steps=["source 600 dpi", "resampled to 150 dpi", "binarised (Wolf-Jolion)"],
        software=("pipeline", "0.1.0"),
        settings="-l kor --psm 4 --dpi 150",
        version=version,
    )
    root = etree.fromstring(out.encode())
    ns = {"a": alto.PROFILES[version]}
    assert root.tag == f"{{{alto.PROFILES[version]}}}alto"
    schema = alto_schema(xsd)
    assert schema.validate(root), schema.error_log
    descriptions = root.xpath("//a:processingStepDescription/text()", namespaces=ns)
    assert descriptions == ["source 600 dpi", "resampled to 150 dpi", "binarised (Wolf-Jolion)"]
    assert root.xpath("//a:processingStepSettings/text()", namespaces=ns) == [
        "-l kor --psm 4 --dpi 150"
    ]
    names = root.xpath("//a:softwareName/text()", namespaces=ns)
    assert names == ["pipeline", "tesseract 5.3.0"]
    if version == 4:
        assert not root.xpath("//a:OCRProcessing", namespaces=ns)
        assert root.xpath("//a:Processing/@ID", namespaces=ns) == ["OCR_0_0", "OCR_0"]
        assert alto.ALTO4_XSD in root.get(f"{{{alto.XSI}}}schemaLocation")
    string = root.find(".//a:String", ns)
    assert string is not None and string.get("HPOS") == "400" and string.get("CONTENT") == "인물"


def test_alto_rewrite_refuses_other_documents() -> None:
    with pytest.raises(alto.AltoError):
        alto.rewrite("<x/>", Affine(), width=1, height=1, image="a")
    with pytest.raises(alto.AltoError):
        alto.rewrite("<x", Affine(), width=1, height=1, image="a")
