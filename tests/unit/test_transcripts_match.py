"""Transcription files matched to pages by name or by the image they declare."""

from __future__ import annotations

import unicodedata

from pipeline.input.transcripts.match import Matching, match_files

PAGES = [("0001", "0001.tif"), ("0002", "0002.tif"), ("f017r", "F017R.TIF")]


def test_files_match_by_page_id_master_stem_or_declared_image() -> None:
    files: dict[str, str | None] = {
        "0001.xml": None,  # page id
        "F017R.txt": None,  # master stem, another case
        "page/export_0002.xml": "C:\\Users\\scan\\0002.JPG",  # declared image, another case
    }
    assert match_files(files, PAGES) == Matching(
        pages={"0001.xml": "0001", "F017R.txt": "f017r", "page/export_0002.xml": "0002"},
        problems=(),
    )


def test_names_are_compared_after_nfc_normalisation() -> None:
    pages = [("인물전기-001", "인물전기-001.tif")]
    name = unicodedata.normalize("NFD", "인물전기-001.xml")
    assert match_files({name: None}, pages).pages == {name: "인물전기-001"}


def test_an_abbyy_double_suffix_matches_its_page() -> None:
    pages = [("PPN750717092-00000780", "PPN750717092-00000780.tif")]
    assert match_files({"PPN750717092-00000780.ocr.xml": None}, pages).pages == {
        "PPN750717092-00000780.ocr.xml": "PPN750717092-00000780"
    }


def test_unmatched_conflicting_and_doubled_files_are_left_out_one_line_each() -> None:
    files: dict[str, str | None] = {
        "0001.txt": None,
        "0001.xml": None,
        "0002.xml": "0001.jpg",
        "notes.txt": None,
        "other.xml": "9999.jpg",
        "f017r.hocr": None,
    }
    matching = match_files(files, PAGES)
    assert matching.pages == {"f017r.hocr": "f017r"}
    assert matching.problems == (
        "0002.xml: named for page 0002 but declares image 0001.jpg of page 0001"
        " (rename the file or correct the image name inside it)",
        "notes.txt: no page of this volume matches its name",
        "other.xml: no page of this volume matches its name or its declared image 9999.jpg",
        "page 0001: 2 transcription files (0001.txt, 0001.xml); keep one, the page keeps its"
        " OCR meanwhile",
    )


def test_pages_whose_ids_differ_only_in_case_are_not_guessed_between() -> None:
    pages = [("A1", "A1.tif"), ("a1", "a1.tif")]
    matching = match_files({"a1.xml": None}, pages)
    assert matching.pages == {}
    assert matching.problems == (
        "a1.xml: more than one page has the name a1 (page ids differ only in case)",
    )
