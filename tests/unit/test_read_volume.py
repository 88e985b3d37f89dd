"""read_volume: a volume as a run reads it, with its catalogue entry and transcription files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import JobInputError
from pipeline.input.catalogue import load_catalogue
from pipeline.input.configured import read_volume
from tests.conftest import config_at


def _catalogue(path: Path, languages: str) -> Path:
    path.write_text(f"folder,OCR languages\nMS-0001,{languages}\n", encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "scans" / "MS-0001"
    folder.mkdir(parents=True)
    for name in ("p001.tif", "p002.tif", "p003.tif"):
        (folder / name).write_bytes(b"")
    texts = tmp_path / "transcriptions" / "MS-0001"
    texts.mkdir(parents=True)
    for name in ("p001.txt", "p002.txt", "p002.xml"):
        (texts / name).write_text("글\n", encoding="utf-8")
    return tmp_path


def test_the_catalogue_entry_and_transcriptions_reach_the_pages(root: Path) -> None:
    sheet = _catalogue(root / "batch.csv", "kor+rus")
    volume = read_volume(config_at(root, site={"catalogue": str(sheet)}), "MS-0001")
    assert [p.ocr_languages for p in volume.pages] == [("kor+rus",)] * 3
    assert [p.transcript.name if p.transcript else None for p in volume.pages] == [
        "p001.txt",
        None,
        None,
    ]
    assert volume.transcript_conflicts == {"p002": ("p002.txt", "p002.xml")}
    assert any("page p002: 2 transcription files" in line for line in volume.transcript_problems)


def test_a_catalogue_read_once_is_the_one_used(root: Path) -> None:
    cfg = config_at(root, site={"catalogue": str(_catalogue(root / "batch.csv", "kor"))})
    other = load_catalogue(_catalogue(root / "other.csv", "rus"))
    volume = read_volume(cfg, "MS-0001", catalogue=other)
    assert volume.pages[0].ocr_languages == ("rus",)


def test_without_a_catalogue_the_configured_languages_apply(root: Path) -> None:
    volume = read_volume(config_at(root, ocr={"languages": ["kor_vert"]}), "MS-0001")
    assert volume.pages[0].ocr_languages == ("kor_vert",)


def test_a_missing_volume_folder_is_named(root: Path) -> None:
    with pytest.raises(JobInputError, match="MS-0002: volume folder not found"):
        read_volume(config_at(root), "MS-0002")
