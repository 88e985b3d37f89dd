"""Reading a batch sheet: CSV (any delimiter, BOM, line ends) or XLSX (a sheet, merged cells)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from pipeline.errors import ConfigError

# Encodings tried after UTF-8, in order: what Excel writes for "CSV" on Korean Windows
# (cp949, a superset of EUC-KR). Anything else is refused rather than guessed.
_FALLBACK_ENCODINGS = ("cp949",)


@dataclass(frozen=True)
class SheetRow:
    """One row of the sheet: its number as the spreadsheet shows it, and its non-empty cells."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    """A batch sheet as read: its rows and what reading it had to say (one line each)."""

    headers: tuple[str, ...]
    rows: tuple[SheetRow, ...]
    notes: tuple[str, ...] = ()


def read_sheet(path: Path, sheet_name: str | None = None) -> Sheet:
    """Read a CSV or XLSX batch sheet: the first row is the header.

    Args:
        path: The file (``.xlsx``/``.xlsm``: a workbook; anything else: CSV or TSV).
        sheet_name: The worksheet of a workbook to read (default: the first).

    Returns:
        The rows, each numbered as a spreadsheet numbers it (the header is row 1).

    Raises:
        ConfigError: The file cannot be read, is not a workbook or text, or has no such sheet.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet_name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the catalogue ({exc.strerror})") from None
    text, note = _decode(path, raw)
    return _read_csv(text, (note,) if note else ())


def _decode(path: Path, raw: bytes) -> tuple[str, str | None]:
    """The text of a CSV file, and a note when it is not UTF-8.

    A byte order mark (UTF-8 or UTF-16, as Excel writes "Unicode text") chooses the encoding.

    Raises:
        ConfigError: It is neither UTF-8 nor one of the encodings tried after it.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), None
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    for encoding in _FALLBACK_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, f"{path}: not UTF-8; read as {encoding} (save it as UTF-8 CSV to be sure)"
    raise ConfigError(
        f"{path}: not UTF-8 (nor {', '.join(_FALLBACK_ENCODINGS)}): save it as UTF-8 CSV"
    )


def _read_csv(text: str, notes: tuple[str, ...]) -> Sheet:
    """Rows of CSV text; the delimiter (comma, semicolon or tab) is found from the header."""
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _sheet(list(reader), notes)


def _read_xlsx(path: Path, sheet_name: str | None) -> Sheet:
    """Rows of a worksheet: formulas give their cached values, merged cells their one value."""
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise ConfigError(f"{path}: catalogue not found") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        if sheet_name is None:
            ws = book.worksheets[0]
        elif sheet_name in book.sheetnames:
            ws = book[sheet_name]
        else:
            names = ", ".join(repr(n) for n in book.sheetnames)
            raise ConfigError(
                f"{path}: no sheet {sheet_name!r} (site.catalogue_sheet); it has {names}"
            )
        grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        for merged in ws.merged_cells.ranges:
            value = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                for c in range(merged.min_col - 1, merged.max_col):
                    grid[r][c] = value
    finally:
        book.close()
    return _sheet(grid)


def _cell_text(value: Any) -> str:
    """A cell's value as text: whole numbers without ``.0``, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _sheet(grid: list[list[str]], notes: tuple[str, ...] = ()) -> Sheet:
    """The header, and the rows under it as header -> stripped text (blank cells, rows dropped)."""
    if not grid:
        return Sheet((), (), notes)
    headers = [h.strip() for h in grid[0]]
    rows = []
    for n, row in enumerate(grid[1:], start=2):
        cells = {h: v.strip() for h, v in zip(headers, row, strict=False) if h and v.strip()}
        if cells:
            rows.append(SheetRow(n, cells))
    return Sheet(tuple(h for h in headers if h), tuple(rows), notes)
