"""MARC records (MARCXML and binary MARC 21) -> volume descriptors: labels, names, dates, errors."""

from __future__ import annotations

from pathlib import Path

import pymarc
import pytest

from pipeline.input.catalogue import describe, load_catalogue

RECORDS = Path(__file__).parents[1] / "data" / "catalogue" / "records.xml"


def test_title_and_name_with_linked_880_give_hangul_and_romanized_forms(tmp_path: Path) -> None:
    cat = load_catalogue(RECORDS)
    (tmp_path / "MS-0001").mkdir()
    desc = describe(tmp_path / "MS-0001", cat.entry_for("MS-0001")).descriptor
    assert desc.label == {"ko-Latn": ["Inmul chŏn'gi. Che 1-kwŏn"], "ko": ["인물 전기. 제1권"]}
    assert desc.creator == {
        "ko-Latn": ["Kim, Ch'ŏl-su, 1921-1988", "Pak, Yŏng-hŭi"],
        "ko": ["김철수, 1921-1988"],
    }
    assert desc.date == {"none": ["1962"]}
    assert desc.nav_date == "1962-01-01T00:00:00Z"
    assert desc.subject == {
        "en": ["Teachers -- Korea (North) -- Biography", "Korea (North) -- History -- 1945-"]
    }
    assert desc.summary == {
        "en": ["Short biographies of village teachers, with a Russian heading on some leaves"]
    }
    assert [(m.label, m.value) for m in desc.metadata] == [
        ({"en": ["Note"]}, {"en": ["Handwritten in ink on ruled paper"]})
    ]
    assert desc.identifier == {"none": ["MS-0001"]}
    assert desc.homepage is not None
    assert desc.homepage.id == "https://catalogue.example/record/900000001"
    assert desc.language == {"en": ["Korean", "Russian"]}


def test_a_russian_record_matched_by_its_lc_call_number() -> None:
    cat = load_catalogue(RECORDS)
    entry = cat.entry_for("CT1789-.Z4-1963")
    assert entry is not None
    assert entry.data["label"] == {
        "ru-Latn": ["Zhizneopisaniia uchitelei"],
        "ru": ["Жизнеописания учителей"],
    }
    assert entry.data["nav_date"] == "1963"
    assert entry.data["identifier"] == {"none": ["CT1789 .Z4 1963"]}


def test_no_245_is_an_error_and_an_unlinked_880_a_warning() -> None:
    cat = load_catalogue(RECORDS)
    assert cat.errors == (f"{RECORDS}: record 3 (001 900000003): no 245 (title field): left out",)
    assert cat.warnings == (
        f"{RECORDS}: record 4 (001 900000004): 880 '리영호' links to no field ($6 100-05/$1): "
        "left out",
    )
    assert cat.entry_for("MS-0003") is None
    entry = cat.entry_for("MS-4")  # call number "MS 4"
    assert entry is not None and entry.data["label"] == {"ko": ["인물전기 제4권"]}


def test_matched_by_a_configured_field() -> None:
    cat = load_catalogue(RECORDS, match="001")
    assert cat.entry_for("900000002") is not None
    assert cat.entry_for("MS-0001") is None


def test_binary_marc_reads_as_marcxml(tmp_path: Path) -> None:
    path = tmp_path / "records.mrc"
    with path.open("wb") as fh:
        writer = pymarc.MARCWriter(fh)
        for record in pymarc.parse_xml_to_array(str(RECORDS)):
            record.leader = record.leader[:9] + "a" + record.leader[10:]  # UTF-8
            writer.write(record)
    xml = {k: e.data for k, e in load_catalogue(RECORDS).entries.items()}
    binary = load_catalogue(path)
    assert {k: e.data for k, e in binary.entries.items()} == xml
    assert len(binary.errors) == 1 and "no 245" in binary.errors[0]


def test_not_marc_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    path = tmp_path / "records.xml"
    path.write_text("<collection><record>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"records\.xml: not a file of MARC records"):
        load_catalogue(path)


def test_a_bad_value_in_a_record_names_the_record_and_field(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    text = RECORDS.read_text(encoding="utf-8").replace(
        "https://catalogue.example/record/900000001", "catalogue.example/record/900000001"
    )
    path = tmp_path / "records.xml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "MS-0001").mkdir()
    with pytest.raises(ConfigError) as bad:
        describe(tmp_path / "MS-0001", load_catalogue(path).entry_for("MS-0001"))
    assert str(bad.value).startswith(
        f"{path}: record 1 (001 900000001), field '856': 'catalogue.example/record/900000001' "
        "is not an http(s) URL"
    )
