"""The descriptor keys the manifest reads: every key optional, every error one line naming it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.input.descriptor import load_descriptor
from pipeline.input.volumes import load_volume


def _write(folder: Path, text: str, pages: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "volume.toml").write_text(text, encoding="utf-8")
    for i in range(pages):
        (folder / f"p{i + 1:03d}.tif").write_bytes(b"not read here")
    return folder


def test_every_key_is_optional(tmp_path: Path) -> None:
    desc = load_descriptor(_write(tmp_path / "v", ""))
    assert desc.title is None and desc.rights is None and desc.see_also == []
    assert desc.behavior is None and desc.start is None


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param("1995", "1995-01-01T00:00:00Z", id="year"),
        pytest.param("1995", "1995-01-01T00:00:00Z", id="year-number"),
        pytest.param('"1995-03"', "1995-03-01T00:00:00Z", id="month"),
        pytest.param("1995-03-12", "1995-03-12T00:00:00Z", id="toml-date"),
        pytest.param('"1995-03-12T10:00:00+09:00"', "1995-03-12T01:00:00Z", id="datetime-tz"),
    ],
)
def test_nav_date_forms(tmp_path: Path, value: str, stored: str) -> None:
    desc = load_descriptor(_write(tmp_path / "v", f"nav_date = {value}\n"))
    assert desc.nav_date == stored


def test_catalogue_fields_accept_strings_and_maps(tmp_path: Path) -> None:
    text = 'identifier = "MS-1"\nsubject = { ko = ["력사", "인물"], en = "History" }\n'
    desc = load_descriptor(_write(tmp_path / "v", text))
    assert desc.identifier == {"none": ["MS-1"]}
    assert desc.subject == {"ko": ["력사", "인물"], "en": ["History"]}


def test_homepage_as_a_string(tmp_path: Path) -> None:
    desc = load_descriptor(_write(tmp_path / "v", 'homepage = "https://cat.example/r/1"\n'))
    assert desc.homepage is not None and desc.homepage.id == "https://cat.example/r/1"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        pytest.param('nav_date = "spring 1995"', "nav_date", "not a date", id="nav-date"),
        pytest.param(
            'rights = "https://rightsstatements.org/vocab/InC/1.0/"',
            "rights",
            "http:// form",
            id="rights-https",
        ),
        pytest.param(
            'rights = "http://example.org/license"', "rights", "not a rightsstatements", id="rights"
        ),
        pytest.param(
            'behavior = ["paged", "continuous"]', "behavior", "exclude each other", id="behavior"
        ),
        pytest.param(
            'behavior = ["multi-part"]', "behavior.0", "Input should be", id="not-manifest"
        ),
        pytest.param(
            'homepage = "catalogue/1"', "homepage.id", "not an http(s) URL", id="homepage"
        ),
        pytest.param(
            'see_also = [{ id = "https://x.org/1", format = "MARC" }]',
            "see_also.0.format",
            "not a media type",
            id="see-also-format",
        ),
        pytest.param('title = { "es-419" = "x" }', "title", "not a language tag", id="lang-digits"),
        pytest.param(
            'homepage = { id = "https://x.org/", language = ["ko_KR"] }',
            "homepage.language",
            "not a language tag",
            id="homepage-language",
        ),
        pytest.param(
            'required_statement = { label = "Attribution", value = "<img src=\'logo.png\'>" }',
            "required_statement.value",
            "nothing left after removing HTML the IIIF spec does not allow",
            id="required-statement-emptied",
        ),
        pytest.param("start = 3", "start", "valid string", id="start-type"),
        pytest.param('thumbnail_page = "p1"', "thumbnail_page", "unknown key", id="unknown-key"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    folder = _write(tmp_path / "v", text + "\n")
    with pytest.raises(ConfigError) as err:
        load_descriptor(folder)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{folder / 'volume.toml'}: {key}: "), message
    assert reason in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param('label = { en = "<script>alert(1)</script>" }', "label", id="label"),
        pytest.param(
            '[[ranges]]\nlabel = { en = "<script>x()</script>" }', "ranges.0.label", id="range"
        ),
        pytest.param('[[pages]]\nfile = "p001.tif"\nlabel = "<b></b>"', "pages.0.label", id="page"),
        pytest.param(
            'see_also = [{ id = "https://x.org/1", label = "<!-- MARC -->" }]',
            "see_also.0.label",
            id="see-also",
        ),
        pytest.param(
            'homepage = { id = "https://x.org/", label = "<style>x</style>" }',
            "homepage.label",
            id="homepage",
        ),
    ],
)
def test_a_label_that_markup_removal_empties_is_an_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    folder = _write(tmp_path / "v", text + "\n")
    with pytest.raises(ConfigError) as err:
        load_descriptor(folder)
    assert str(err.value).startswith(
        f"{folder / 'volume.toml'}: {key}: nothing left after removing HTML"
    ), err.value
    assert "labels are plain text" in str(err.value)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        pytest.param({"label": {"en": "<script>alert(1)</script>"}}, "collection.label", id="coll"),
        pytest.param(
            {"provider": {"label": {"en": "<iframe>x</iframe>"}}},
            "collection.provider.label",
            id="provider",
        ),
        pytest.param(
            {"parent": {"id": "https://x.org/c.json", "label": "<b></b>"}},
            "collection.parent.label",
            id="parent",
        ),
    ],
)
def test_a_config_label_that_markup_removal_empties_is_an_error(
    section: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^command line: {re.escape(key)}: nothing left"):
        load_config(None, overrides={"collection": section}, environ={})


@pytest.mark.parametrize("key", ["start", "thumbnail"])
def test_page_references_must_exist(tmp_path: Path, key: str) -> None:
    folder = _write(tmp_path / "v", f'{key} = "p009"\n', pages=2)
    with pytest.raises(ConfigError, match=rf"volume.toml: {key}: 'p009' is not a page id"):
        load_volume(folder, ["kor"])
    _write(folder, f'{key} = "p002"\n')
    assert getattr(load_volume(folder, ["kor"]).descriptor, key) == "p002"


@pytest.mark.parametrize(
    ("section", "reason"),
    [
        pytest.param({"manifest": {"behavior": ["together"]}}, "Input should be", id="manifest"),
        pytest.param({"collection": {"behavior": ["paged", "individuals"]}}, "exclude", id="coll"),
        pytest.param(
            {"collection": {"rights": "http://creativecommons.org/licenses/by/4.0"}},
            "end with '/'",
            id="rights-slash",
        ),
        pytest.param(
            {"collection": {"parent": {"id": "manuscripts.json", "label": {"en": "M"}}}},
            "not an http(s) URL",
            id="parent",
        ),
        pytest.param(
            {"collection": {"provider": {"logo": "logo.png"}}}, "not an http(s) URL", id="logo"
        ),
        pytest.param(
            {"collection": {"required_statement": {"label": "Credit", "value": "<img src=x>"}}},
            "collection.required_statement.value: nothing left after removing HTML",
            id="required-statement-emptied",
        ),
        pytest.param(
            {"collection": {"required_statement": {"label": " ", "value": "Courtesy"}}},
            "collection.required_statement.label: no text given",
            id="required-statement-blank-label",
        ),
    ],
)
def test_config_errors(section: dict[str, object], reason: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(reason)):
        load_config(None, overrides=section, environ={})
