"""Jobs described by a catalogue: manifests from a sheet, reruns by row, bad rows (no OCR)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from pipeline.config import Config
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from pipeline.state import StateStore
from tests.conftest import assert_clean_exit, invoke

pytestmark = pytest.mark.slow

HEADER = ["Folder", "label.ko", "label.en", "date", "call number", "Donor"]
ROWS = [
    ["vol-1", "인물전기 제1권", "Biographies, vol. 1", "1962", "MS 1", "Lee family"],
    ["vol-2", "인물전기 제2권", "Biographies, vol. 2", "1963-05", "MS 2", ""],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


@pytest.fixture
def scans(make_scan: Callable[..., Path], tmp_path: Path) -> Path:
    for vol in ("vol-1", "vol-2"):
        for page in ("p001", "p002"):
            make_scan(f"{vol}/{page}.tif", 300, 420)
    return tmp_path / "scans"


def _cfg(make_cfg: Callable[..., Config], sheet: Path, out: str = "out") -> Config:
    site = {"catalogue": str(sheet), "out": str(sheet.parent / out)}
    return make_cfg(ocr={"enabled": False}, site=site)


def test_csv_and_xlsx_sheets_give_identical_manifests(
    scans: Path, tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    csv_cfg = _cfg(make_cfg, write_csv(tmp_path / "batch.csv", ROWS), "out-csv")
    book = openpyxl.Workbook()
    for row in [HEADER, *ROWS]:
        book.active.append([v or None for v in row])
    book.save(tmp_path / "batch.xlsx")
    xlsx_cfg = _cfg(make_cfg, tmp_path / "batch.xlsx", "out-xlsx")
    for cfg in (csv_cfg, xlsx_cfg):
        report = run_job(cfg)
        assert not report.failures and not report.input_errors, [f.error for f in report.failures]
    for vol in ("vol-1", "vol-2"):
        a = (csv_cfg.site.out / vol / "manifest.json").read_bytes()
        assert a == (xlsx_cfg.site.out / vol / "manifest.json").read_bytes()
    manifest = json.loads((csv_cfg.site.out / "vol-1" / "manifest.json").read_text("utf-8"))
    assert manifest["label"] == {"ko": ["인물전기 제1권"], "en": ["Biographies, vol. 1"]}
    assert manifest["navDate"] == "1962-01-01T00:00:00Z"
    shown = {json.dumps(m["label"], ensure_ascii=False): m["value"] for m in manifest["metadata"]}
    assert shown['{"none": ["Donor"]}'] == {"none": ["Lee family"]}
    assert any(v == {"none": ["MS 1"]} for v in shown.values())


def _fingerprints(cfg: Config) -> dict[tuple[str, str, str], str]:
    with StateStore(layout_for(cfg).state_db) as state:
        return {(r.volume, r.page, r.stage): r.fingerprint for r in state.records()}


def test_a_changed_row_reruns_that_volumes_manifest_only(
    scans: Path, tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    sheet = write_csv(tmp_path / "batch.csv", ROWS)
    cfg = _cfg(make_cfg, sheet)
    assert not run_job(cfg).failures
    before = _fingerprints(cfg)
    changed = [ROWS[0], [*ROWS[1][:2], "Biographies, volume 2", *ROWS[1][3:]]]
    write_csv(sheet, changed)
    assert not run_job(cfg).failures
    after = _fingerprints(cfg)
    fresh = {key for key, fp in after.items() if before.get(key) != fp}
    assert ("vol-2", "", "manifest") in fresh
    assert not any(v == "vol-1" or page for v, page, _ in fresh), fresh
    manifest = json.loads((cfg.site.out / "vol-2" / "manifest.json").read_text("utf-8"))
    assert manifest["label"]["en"] == ["Biographies, volume 2"]


def test_bad_rows_fail_their_volume_or_are_named_and_the_rest_goes_on(
    scans: Path, tmp_path: Path
) -> None:
    rows = [["", "이름 없음", "", "", "", ""], ["vol-1", "x", "", "someday", "", ""]]
    sheet = write_csv(tmp_path / "batch.csv", rows)
    result = invoke(tmp_path, "run", "--quiet", "--stages", "ingest,tiles,manifest",
                    "--catalogue", str(sheet))  # fmt: skip
    assert_clean_exit(result, 1)
    assert f"{sheet}: row 2, column 'Folder': empty" in result.output
    assert f"{sheet}: row 3, column 'date': 'someday' is not a date" in result.output
    assert f"{sheet}: no row or record describes volume 'vol-2'" in result.output
    assert (tmp_path / "out" / "vol-2" / "manifest.json").is_file()
    assert not (tmp_path / "out" / "vol-1" / "manifest.json").exists()


def test_status_says_where_the_description_came_from(scans: Path, tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "batch.csv", ROWS)
    (scans / "vol-1" / "volume.toml").write_text('label = "From the folder"\n', encoding="utf-8")
    result = invoke(tmp_path, "status", "--catalogue", str(sheet))
    assert_clean_exit(result, 0)
    assert f"  described by {sheet}: row 2\n" in result.output
    assert "  volume.toml wins over the catalogue for: label\n" in result.output


def test_the_collection_row_names_the_collection(
    scans: Path, tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    sheet = write_csv(tmp_path / "batch.csv", [*ROWS, ["*", "인물전기", "Biographies", "", "", ""]])
    lines = sheet.read_text(encoding="utf-8").splitlines()
    lines[0] += ",provider,provider_url"
    lines[-1] += ",Example Library,https://library.example/"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke(tmp_path, "run", "--quiet", "--catalogue", str(sheet),
                    env={"PIPELINE_OCR__ENABLED": "false"})  # fmt: skip
    assert_clean_exit(result, 0)
    assert "[collection]" not in result.output  # neither default title nor missing provider
    coll = json.loads((tmp_path / "out" / "collection.json").read_text("utf-8"))
    assert coll["label"] == {"ko": ["인물전기"], "en": ["Biographies"]}
    assert coll["provider"][0]["id"] == "https://library.example/"
    assert coll["provider"][0]["label"] == {"none": ["Example Library"]}


def test_a_collection_left_default_is_warned_about(scans: Path, tmp_path: Path) -> None:
    result = invoke(tmp_path, "run", "--quiet", "--stages", "ingest,tiles,manifest,collection",
                    env={"PIPELINE_OCR__ENABLED": "false"})  # fmt: skip
    assert_clean_exit(result, 0)
    assert "WARNING: [collection] collection.label is the default title 'Collection'" in (
        result.output
    )
    assert "WARNING: [collection] collection.provider is not set" in result.output
