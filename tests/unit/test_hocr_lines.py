"""Lines of another script: which lines are doubtful, and their new words in hOCR and ALTO."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.ocr import alto, hocr
from pipeline.ocr import lines as ocr_lines
from pipeline.ocr.preprocess import Affine
from tests.unit.test_hocr import ALTO, HOCR, alto_schema

# What the kor model made of Cyrillic lines on generated pages (tesseract 5.3.0).
KOR_ON_CYRILLIC = (
    "비0980606040",
    "1962 ㄷ. 072ㅁ6ㅇ67ㅅ08 822ㅁ008",
    "1965 202ㅁㅠ.",
    "763048686800므.",
)
KOREAN = ("박영호는 1929년 9월 21일", "그는 1996년 11월 해주에서", "세상을 떠났다.", "1958년 그는")


def line(text: str, confidence: float, y: int = 100) -> hocr.Line:
    word = hocr.Word(text=text, bbox=(100, y, 400, y + 40), confidence=confidence)
    return hocr.Line(bbox=(100, y, 400, y + 40), words=(word,), paragraph="par_1", text=text)


def test_script_share_counts_dates_with_their_hangul_but_not_long_digit_runs() -> None:
    for text in KOREAN:
        assert ocr_lines.script_share(text, "HANGUL") > 0.8, text
    for text in KOR_ON_CYRILLIC:
        assert ocr_lines.script_share(text, "HANGUL") < 0.2, text
    assert ocr_lines.script_share("", "HANGUL") == 0.0


def test_letter_share_ignores_digits_and_punctuation() -> None:
    assert ocr_lines.letter_share("1965 году.", "CYRILLIC") == 1.0
    assert ocr_lines.letter_share("1965 rony.", "CYRILLIC") == 0.0
    assert ocr_lines.letter_share("1965.", "LATIN") == 0.0


def test_doubtful_lines_are_unconfident_and_not_in_the_page_script() -> None:
    page = hocr.Page(
        width=1240,
        height=1754,
        lines=(
            line(KOREAN[0], 93),
            line(KOR_ON_CYRILLIC[0], 12),
            line(KOR_ON_CYRILLIC[2], 71),
            line(KOR_ON_CYRILLIC[2], 85),  # confident: kept, whatever its script
            line(KOREAN[2], 30),  # Korean read poorly is still Korean
        ),
    )
    assert ocr_lines.doubtful(page, "kor") == [1, 2]
    assert ocr_lines.doubtful(page, "kor+rus") == [1, 2]
    assert ocr_lines.doubtful(page, "xyz") == []  # a model whose script we do not know


def test_a_page_spec_names_the_scripts_of_its_known_models() -> None:
    assert ocr_lines.page_scripts("kor") == {"HANGUL"}
    assert ocr_lines.page_scripts("kor+rus+xyz") == {"HANGUL", "CYRILLIC"}
    assert ocr_lines.page_scripts("xyz") == set()
    assert ocr_lines.line_confidence(line(KOREAN[0], 93)) == 93


WORDS = (
    hocr.Word("Копия", (100, 200, 300, 240), 94),
    hocr.Word("верна.", (330, 200, 700, 240), 96),
)
READING = (("ru", WORDS),)


def test_hocr_replace_lines_swaps_words_and_tags_the_line() -> None:
    out = hocr.replace_lines(HOCR, {(100, 200, 700, 240): READING[0]})
    page = hocr.line_texts(hocr.parse(out), "인물전기 제1권\n\nКопия верна.\n")
    assert [ln.text for ln in page.lines] == ["인물전기 제1권", "Копия верна."]
    assert [w.confidence for w in page.lines[1].words] == [94, 96]
    root = etree.fromstring(out.encode())
    tagged = [e for e in root.iter("{*}span") if e.get("lang")]
    assert [e.get("id") for e in tagged] == ["line_1_2"]
    ids = [e.get("id") for e in root.iter("{*}span")]
    assert len(ids) == len(set(ids)) and "word_1_2_1" in ids
    assert hocr.replace_lines(HOCR, {}) == hocr.replace_lines(HOCR, {})
    assert hocr.parse(hocr.replace_lines(HOCR, {})) == hocr.parse(HOCR)
    # A box that is no line changes nothing.
    assert hocr.replace_lines(HOCR, {(1, 2, 3, 4): READING[0]}) == hocr.replace_lines(HOCR, {})


def test_alto_replace_lines_swaps_strings_tags_the_line_and_stays_valid() -> None:
    reading = ("ru", READING[0][1])
    out = alto.replace_lines(ALTO, {(100, 100, 400, 140): reading})
    root = etree.fromstring(out.encode())
    line_el = root.find(".//{*}TextLine")
    assert line_el is not None and line_el.get("LANG") == "ru"
    strings = [(s.get("CONTENT"), s.get("WC"), s.get("HPOS")) for s in line_el.iter("{*}String")]
    assert strings == [("Копия", "0.94", "100"), ("верна.", "0.96", "330")]
    gap = line_el.find("{*}SP")
    assert gap is not None and (gap.get("HPOS"), gap.get("WIDTH")) == ("300", "30")
    for version, xsd in ((3, "alto-3-0.xsd"), (4, "alto-4-4.xsd")):
        mapped = alto.rewrite(
            out, Affine(), width=1240, height=1754, image="p.tif", version=version
        )
        schema = alto_schema(xsd)
        assert schema.validate(etree.fromstring(mapped.encode())), schema.error_log
    assert alto.replace_lines(ALTO, {(0, 0, 1, 1): reading}) == alto.replace_lines(ALTO, {})


def test_apply_replaces_words_and_text_of_chosen_lines_only() -> None:
    page = hocr.Page(width=1240, height=1754, lines=(line(KOREAN[0], 93), line("비0980", 0, 200)))
    reading = ocr_lines.Reading(lang="rus", tag="ru", words=READING[0][1])
    new = ocr_lines.apply(page, {1: reading})
    assert new.lines[0] == page.lines[0]
    assert new.lines[1].text == "Копия верна." and new.lines[1].bbox == page.lines[1].bbox
    assert reading.confidence == 95
    assert ocr_lines.by_box(page, {1: reading}) == {page.lines[1].bbox: ("ru", READING[0][1])}


def test_line_languages_setting_takes_one_model_per_entry() -> None:
    def line_languages(value: object) -> list[str]:
        cfg = load_config(None, overrides={"ocr": {"line_languages": value}}, environ={})
        return cfg.ocr.line_languages

    assert load_config(None, environ={}).ocr.line_languages == ["rus", "eng"]
    assert line_languages("rus") == ["rus"] and line_languages([]) == []
    with pytest.raises(ConfigError, match="'rus\\+eng': one model per entry"):
        line_languages(["rus+eng"])
    with pytest.raises(ConfigError, match="write 'rus'"):
        line_languages(["ru"])


def test_no_lines_to_read_runs_no_tesseract(tmp_path: Path) -> None:
    # Tesseract given an empty list of images fails: nothing to read is nothing read.
    image = tmp_path / "page.png"
    assert ocr_lines.read_lines(image, [], lang="rus", work=tmp_path, dpi=150, timeout_s=1) == []
    assert list(tmp_path.iterdir()) == []
