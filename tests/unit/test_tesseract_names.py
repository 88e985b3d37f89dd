"""OCR languages: a language tag (``ko``) for a tesseract model is refused, naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.input.volumes import load_volume
from pipeline.ocr.languages import debian_package


def _config(tmp_path: Path, languages: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f"[ocr]\nlanguages = {languages}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        pytest.param(
            '["ko"]',
            "ocr.languages: 'ko' is a language tag; tesseract's model for it is 'kor': "
            "write 'kor' (Debian: tesseract-ocr-kor)",
            id="ko",
        ),
        pytest.param(
            '["kor+ru"]',
            "'ru' is a language tag; tesseract's model for it is 'rus': write 'kor+rus' "
            "(Debian: tesseract-ocr-rus)",
            id="joined",
        ),
        pytest.param(
            '["ko+ru"]',
            "'ko', 'ru' are language tags; tesseract's models for them are 'kor', 'rus': "
            "write 'kor+rus' (Debian: tesseract-ocr-kor, tesseract-ocr-rus)",
            id="both-joined",
        ),
        pytest.param('["zh-Hant"]', "write 'chi_tra' (Debian: tesseract-ocr-chi-tra)", id="hant"),
        pytest.param('["zh-TW"]', "write 'chi_tra' (Debian: tesseract-ocr-chi-tra)", id="tw"),
        pytest.param('["zh-Hans"]', "write 'chi_sim' (Debian: tesseract-ocr-chi-sim)", id="hans"),
        pytest.param('["zh"]', "'zh' does not say which Chinese script", id="zh-ambiguous"),
        pytest.param('["ja"]', "write 'jpn' (Debian: tesseract-ocr-jpn)", id="ja"),
        pytest.param('["de"]', "write 'deu' (Debian: tesseract-ocr-deu)", id="de"),
        pytest.param('["fr"]', "write 'fra' (Debian: tesseract-ocr-fra)", id="fr"),
        pytest.param('["en"]', "write 'eng' (Debian: tesseract-ocr-eng)", id="en"),
        pytest.param('["ko-KP"]', "write 'kor' (Debian: tesseract-ocr-kor)", id="region"),
        pytest.param(
            '["ko_vert"]', "write 'kor_vert' (Debian: tesseract-ocr-kor-vert)", id="vertical"
        ),
    ],
)
def test_a_language_tag_in_the_config_names_the_model_and_package(
    tmp_path: Path, languages: str, expected: str
) -> None:
    path = _config(tmp_path, languages)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert expected in str(info.value)
    assert str(info.value).startswith(f"{path}: ocr.languages")


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        pytest.param('"kor"', ["kor"], id="plain-string"),
        pytest.param('"kor+rus"', ["kor+rus"], id="joined-string"),
        pytest.param('["kor", "rus"]', ["kor", "rus"], id="list"),
        pytest.param('["kor_vert"]', ["kor_vert"], id="vertical-model"),
        pytest.param('["chi_tra_vert+kor"]', ["chi_tra_vert+kor"], id="vertical-joined"),
        pytest.param('["Hangul"]', ["Hangul"], id="script-model"),
    ],
)
def test_model_names_are_taken_as_written(
    tmp_path: Path, languages: str, expected: list[str]
) -> None:
    assert load_config(_config(tmp_path, languages), environ={}).ocr.languages == expected


def _volume(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "vol"
    folder.mkdir()
    for name in ("p1.tif", "p2.tif"):
        (folder / name).write_bytes(b"placeholder")
    (folder / "volume.toml").write_text(toml, encoding="utf-8")
    return folder


def test_a_language_tag_in_a_descriptor_is_refused_naming_the_key(tmp_path: Path) -> None:
    folder = _volume(
        tmp_path,
        'ocr_languages = ["ko"]\n'
        '[[pages]]\nfile = "p1.tif"\n'
        '[[pages]]\nfile = "p2.tif"\nocr_languages = ["kor+ru"]\n',
    )
    with pytest.raises(ConfigError) as info:
        load_volume(folder, ["kor"])
    path = folder / "volume.toml"
    assert sorted(str(info.value).splitlines()) == [
        f"{path}: ocr_languages: 'ko' is a language tag; tesseract's model for it is 'kor': "
        "write 'kor' (Debian: tesseract-ocr-kor)",
        f"{path}: pages.1.ocr_languages: 'ru' is a language tag; tesseract's model for it is "
        "'rus': write 'kor+rus' (Debian: tesseract-ocr-rus)",
    ]


def test_a_descriptor_may_give_its_languages_as_one_string(tmp_path: Path) -> None:
    folder = _volume(
        tmp_path,
        'ocr_languages = "kor+rus"\n'
        '[[pages]]\nfile = "p1.tif"\n'
        '[[pages]]\nfile = "p2.tif"\nocr_languages = "kor_vert"\n',
    )
    volume = load_volume(folder, ["kor"])
    assert [p.ocr_languages for p in volume.pages] == [("kor+rus",), ("kor_vert",)]


@pytest.mark.parametrize(
    ("model", "package"),
    [
        pytest.param("kor", "tesseract-ocr-kor", id="language"),
        pytest.param("kor_vert", "tesseract-ocr-kor-vert", id="vertical"),
        pytest.param("chi_tra", "tesseract-ocr-chi-tra", id="script-suffix"),
        pytest.param("Hangul", "tesseract-ocr-script-hang", id="script-model"),
        pytest.param("Hangul_vert", "tesseract-ocr-script-hang-vert", id="vertical-script-model"),
    ],
)
def test_missing_models_are_named_with_their_debian_package(model: str, package: str) -> None:
    assert debian_package(model) == package
