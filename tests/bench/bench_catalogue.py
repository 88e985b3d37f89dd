"""Reading catalogues: a 1,000-row XLSX batch sheet and 1,000 MARCXML records, ours vs the library.

In the same run, on the same files:

- sheet, ours: :func:`pipeline.input.catalogue.load_catalogue` (cells, merged ranges, columns to
  ``volume.toml`` keys) and every row checked into a descriptor; the peer: openpyxl's
  ``load_workbook(data_only=True)`` and ``iter_rows(values_only=True)`` and nothing else;
- MARC, ours: :func:`load_catalogue` on the records (245/880 pairs, names, dates, subjects,
  notes, call numbers) and every record checked into a descriptor; the peer:
  ``pymarc.parse_xml_to_array`` alone.

Target: a batch's catalogue adds well under a second to a job of 1,000 volumes' manifests.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pymarc

from pipeline.input.catalogue import describe, load_catalogue
from tests.bench.common import Row, timed

ROWS = 1000
RECORDS = Path(__file__).resolve().parents[1] / "data" / "catalogue" / "records.xml"
HEADER = ["folder", "label.ko", "label.ko-Latn", "label.en", "date", "call number", "subjects",
          "rights", "Donor"]  # fmt: skip


def _sheet(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER)
    for n in range(1, ROWS + 1):
        ws.append([f"MS-{n:04d}", f"인물전기 제{n}권", f"Inmul chŏn'gi che {n}-kwŏn",
                   f"Biographies, vol. {n}", f"{1950 + n % 40}", f"MS {n}",
                   "Teachers; Korea (North) -- Biography",
                   "http://rightsstatements.org/vocab/InC/1.0/", "Lee family"])  # fmt: skip
    book.save(path)
    return path


def _records(path: Path) -> Path:
    """The first test record 1,000 times, each with its own call number."""
    record = pymarc.parse_xml_to_array(str(RECORDS))[0]
    with path.open("wb") as fh:
        writer = pymarc.XMLWriter(fh)
        for n in range(1, ROWS + 1):
            for field in record.get_fields("099"):
                field.subfields[0] = pymarc.Subfield("a", f"MS-{n:04d}")
            writer.write(record)
        writer.close()
    return path


def _ours(path: Path, folder: Path) -> int:
    cat = load_catalogue(path)
    for entry in cat.entries.values():
        describe(folder, entry)
    return len(cat.entries)


def run(workdir: Path) -> list[Row]:
    folder = workdir / "MS-0001"  # no volume.toml: every entry is checked on its own
    folder.mkdir()
    sheet = _sheet(workdir / "batch.xlsx")
    marc = _records(workdir / "records.xml")

    def peer_sheet() -> int:
        book = openpyxl.load_workbook(sheet, data_only=True)
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))

    peer_s, _ = timed(peer_sheet)
    ours_s, n = timed(lambda: _ours(sheet, folder))
    assert n == ROWS
    peer_m, _ = timed(lambda: pymarc.parse_xml_to_array(str(marc)))
    ours_m, n = timed(lambda: _ours(marc, folder))
    assert n == ROWS
    return [
        Row(f"read a {ROWS}-row XLSX batch sheet", ours_s, peer_s, "s",
            peer_name="openpyxl load_workbook + iter_rows", target="< 1 s over the peer",
            note=f"{(ours_s - peer_s) / ROWS * 1000:.2f} ms per row over openpyxl"),
        Row(f"read {ROWS} MARCXML records", ours_m, peer_m, "s",
            peer_name="pymarc.parse_xml_to_array", target="< 1 s over the peer",
            note=f"{(ours_m - peer_m) / ROWS * 1000:.2f} ms per record over pymarc"),
    ]  # fmt: skip
