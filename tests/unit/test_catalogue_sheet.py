"""Batch sheets (CSV, XLSX): reading what staff save, rows -> descriptors, errors by row/column."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.config import CollectionConfig
from pipeline.errors import ConfigError
from pipeline.input.catalogue import describe, load_catalogue
from pipeline.input.catalogue.collection import collection_settings
from pipeline.input.volumes import load_volume

RIGHTS = "http://rightsstatements.org/vocab/InC/1.0/"
HEADER = [
    "folder", "label.ko", "label.ko-Latn", "label.en", "summary.en", "creator", "date",
    "call number", "subjects", "rights", "required statement", "homepage", "OCR languages",
    "behavior", "viewing direction", "Donor",
]  # fmt: skip
ROWS = [
    [
        "MS-0001", "인물전기 제1권", "Inmul chŏngi che 1-kwŏn", "Biographies, vol. 1",
        "Handwritten biographies.", "김철수", "1962-03", "MS 1", "Biography; Korea -- History",
        RIGHTS, "Example Library",
        "https://catalogue.example/MS-0001", "kor+rus", "paged", "right-to-left", "Lee family",
    ],
    ["MS-0002", "인물전기 제2권", "", "", "", "", "1963", "MS 2", "", "", "", "", "", "", "", ""],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], *, sep: str = ",", end: str = "\n",
              encoding: str = "utf-8") -> Path:  # fmt: skip
    def cell(v: str) -> str:
        return f'"{v}"' if sep in v or '"' in v else v

    text = end.join(sep.join(cell(v) for v in row) for row in [HEADER, *rows]) + end
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]], *, first: str | None = None) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    if first is not None:  # another sheet in front of the volumes'
        ws.title = first
        ws.append(["not", "the", "batch"])
        ws = book.create_sheet("volumes")
    ws.append(HEADER)
    for row in rows:
        ws.append([v or None for v in row])
    book.save(path)
    return path


def entries(path: Path, **kw: str) -> dict[str, dict[str, object]]:
    cat = load_catalogue(path, **kw)
    return {e.key: e.data for e in cat.entries.values()}


def test_csv_and_xlsx_give_the_same_entries(tmp_path: Path) -> None:
    csv_entries = entries(write_csv(tmp_path / "batch.csv", ROWS))
    xlsx_entries = entries(write_xlsx(tmp_path / "batch.xlsx", ROWS))
    assert csv_entries == xlsx_entries
    data = csv_entries["MS-0001"]
    assert data["label"] == {
        "ko": ["인물전기 제1권"],
        "ko-Latn": ["Inmul chŏngi che 1-kwŏn"],
        "en": ["Biographies, vol. 1"],
    }
    assert data["subject"] == {"none": ["Biography", "Korea -- History"]}
    assert data["identifier"] == {"none": ["MS 1"]}
    assert data["ocr_languages"] == ["kor+rus"]
    assert data["metadata"] == [{"label": {"none": ["Donor"]}, "value": {"none": ["Lee family"]}}]


def test_row_becomes_a_valid_descriptor(tmp_path: Path) -> None:
    cat = load_catalogue(write_csv(tmp_path / "batch.csv", ROWS))
    folder = tmp_path / "MS-0001"
    folder.mkdir()
    desc = describe(folder, cat.entry_for("MS-0001")).descriptor
    assert desc.nav_date == "1962-03-01T00:00:00Z"
    assert desc.date == {"none": ["1962-03"]}
    assert desc.viewing_direction == "right-to-left"
    assert desc.behavior == ["paged"]
    assert desc.homepage is not None and desc.homepage.id == "https://catalogue.example/MS-0001"
    assert desc.required_statement is not None
    assert desc.required_statement.value == {"none": ["Example Library"]}


@pytest.mark.parametrize(
    ("sep", "end", "bom"),
    [
        pytest.param(";", "\r\n", True, id="semicolon-crlf-bom"),
        pytest.param("\t", "\n", False, id="tab"),
        pytest.param(",", "\r\n", True, id="comma-crlf-bom"),
    ],
)
def test_what_spreadsheet_programs_save_reads_the_same(
    tmp_path: Path, sep: str, end: str, bom: bool
) -> None:
    plain = entries(write_csv(tmp_path / "plain.csv", ROWS))
    odd = write_csv(tmp_path / "odd.csv", ROWS, sep=sep, end=end, encoding="utf-8")
    if bom:
        odd.write_bytes(b"\xef\xbb\xbf" + odd.read_bytes())
    assert entries(odd) == plain


def test_a_korean_windows_csv_is_read_and_said_not_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "batch.csv", ROWS[1:], encoding="cp949")
    cat = load_catalogue(path)
    assert cat.entry_for("MS-0002") is not None
    assert cat.entry_for("MS-0002").data["label"] == {"ko": ["인물전기 제2권"]}  # type: ignore[union-attr]
    assert cat.warnings == (f"{path}: not UTF-8; read as cp949 (save it as UTF-8 CSV to be sure)",)


def test_an_undecodable_csv_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_bytes(b"folder,label\n\x80\xff\x80,x\n")
    with pytest.raises(ConfigError, match=r"batch\.csv: not UTF-8 \(nor cp949\)"):
        load_catalogue(path)


def test_xlsx_first_sheet_or_the_configured_one(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "batch.xlsx", ROWS, first="notes")
    assert "MS-0001" in entries(path, sheet="volumes")
    with pytest.raises(ConfigError, match=r"no 'folder' column .*site\.catalogue_sheet"):
        load_catalogue(path)  # the first sheet is not the volumes'
    with pytest.raises(ConfigError, match=r"no sheet 'vols' .*'notes', 'volumes'"):
        load_catalogue(path, sheet="vols")


def test_xlsx_merged_cells_and_formula_values(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "batch.xlsx", ROWS)
    book = openpyxl.load_workbook(path)
    ws = book.active
    ws["J3"] = None
    ws.merge_cells("J2:J3")  # one rights statement for both volumes
    ws["D3"] = '=CONCATENATE("Biographies, vol. ", 2)'
    book.save(path)
    # What a spreadsheet program saves: the formula with its last computed value.
    with zipfile.ZipFile(path) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(
        r'(<c r="D3"[^>]*?)(?: t="[^"]*")?>(<f>.*?</f>)(<v>.*?</v>|<v */>)?</c>',
        r'\1 t="str">\2<v>Biographies, vol. 2</v></c>',
        sheet,
    )
    assert "<v>Biographies, vol. 2</v>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    got = entries(path)["MS-0002"]
    assert got["rights"] == RIGHTS
    assert got["label"] == {"ko": ["인물전기 제2권"], "en": ["Biographies, vol. 2"]}


def test_bad_rows_are_named_by_row_and_column(tmp_path: Path) -> None:
    rows = [
        ["", "이름 없는 행", *[""] * 14],
        ["MS-0003", "x", "", "", "", "", "sometime", "", "", f"https{RIGHTS[4:]}", *[""] * 6],
        ROWS[1],
        ["ms-0002", "again", *[""] * 14],
    ]  # fmt: skip
    path = write_csv(tmp_path / "batch.csv", rows)
    cat = load_catalogue(path)
    assert cat.errors == (
        f"{path}: row 2, column 'folder': empty: name the volume folder it describes",
    )
    for vid in ("MS-0003", "MS-0002"):
        (tmp_path / vid).mkdir()
    with pytest.raises(ConfigError) as bad:
        describe(tmp_path / "MS-0003", cat.entry_for("MS-0003"))
    lines = str(bad.value).splitlines()
    assert lines[0].startswith(f"{path}: row 3, column 'date': 'sometime' is not a date")
    assert lines[1].startswith(f"{path}: row 3, column 'rights': ")
    assert "http:// form" in lines[1]
    with pytest.raises(ConfigError, match=r"row 4 and .*row 5 both describe 'MS-0002': keep one"):
        describe(tmp_path / "MS-0002", cat.entry_for("MS-0002"))


def test_volume_toml_wins_key_by_key(tmp_path: Path, make_scan: object) -> None:
    make_scan("MS-0001/p001.tif", 200, 300)  # type: ignore[operator]
    folder = tmp_path / "scans" / "MS-0001"
    (folder / "volume.toml").write_text(
        'label = { en = "Biographies (volume.toml)" }\nocr_languages = ["kor"]\n'
        '[[metadata]]\nlabel = "Donor"\nvalue = "the toml says"\n',
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "batch.csv", ROWS)
    volume = load_volume(folder, ["eng"], load_catalogue(path).entry_for("MS-0001"))
    desc = volume.descriptor
    assert desc.label == {"en": ["Biographies (volume.toml)"]}
    assert desc.nav_date == "1962-03-01T00:00:00Z"  # from the row
    assert volume.pages[0].ocr_languages == ("kor",)
    assert [m.value for m in desc.metadata] == [{"none": ["the toml says"]}]
    sources = dict(volume.sources)
    assert sources["label"] == sources["ocr_languages"] == sources["metadata"] == "volume.toml"
    assert sources["nav_date"] == f"{path}: row 2"


def test_collection_row_fills_what_the_config_leaves_default(tmp_path: Path) -> None:
    rows = [["*", "인물전기", "", "Biographies", "", "", "", "", "", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "batch.csv", rows)
    text = path.read_text(encoding="utf-8").replace("Donor", "provider")
    path.write_text(text.rstrip("\n") + "Example Library\n", encoding="utf-8")
    cat = load_catalogue(path)
    assert not cat.entries
    coll = collection_settings(CollectionConfig(), cat.collection)
    assert coll.label == {"ko": ["인물전기"], "en": ["Biographies"]}
    assert coll.provider is not None and coll.provider.label == {"none": ["Example Library"]}
    mine = CollectionConfig(label={"en": ["Configured"]})
    assert collection_settings(mine, cat.collection).label == {"en": ["Configured"]}
