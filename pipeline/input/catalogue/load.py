"""Reading a catalogue file: a batch sheet (CSV, XLSX) or MARC records (MARCXML, binary)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.input.catalogue.columns import COLLECTION_ROW, FOLDER, column_of, row_data
from pipeline.input.catalogue.marc import read_marc
from pipeline.input.catalogue.model import Catalogue, CatalogueEntry, add_entry
from pipeline.input.catalogue.sheet import read_sheet

MARC_SUFFIXES = frozenset({".xml", ".marcxml", ".mrc", ".marc"})


def configured_catalogue(cfg: Config) -> Catalogue | None:
    """Read the catalogue the configuration names (``site.catalogue``), if any.

    Raises:
        ConfigError: It cannot be read at all.
    """
    if cfg.site.catalogue is None:
        return None
    return load_catalogue(
        cfg.site.catalogue, sheet=cfg.site.catalogue_sheet, match=cfg.site.catalogue_match
    )


def entry_of(catalogue: Catalogue | None, volume_id: str) -> CatalogueEntry | None:
    """A volume's catalogue entry, when there is a catalogue."""
    return catalogue.entry_for(volume_id) if catalogue is not None else None


def load_catalogue(
    path: Path, *, sheet: str | None = None, match: str = "call_number"
) -> Catalogue:
    """Read the catalogue a job's volumes are described by.

    Args:
        path: A CSV or XLSX batch sheet, or a file of MARC records (``.xml``, ``.mrc``).
        sheet: The worksheet of an XLSX file (default: the first).
        match: What a MARC record is matched to a folder by: ``call_number`` or a field
            (``001``, ``035a``).

    Returns:
        The entries, with the problems of those that cannot be used.

    Raises:
        ConfigError: The file cannot be read at all, or a sheet has no ``folder`` column.
    """
    if path.suffix.lower() in MARC_SUFFIXES:
        return read_marc(path, match)
    return _sheet_catalogue(path, sheet)


def _sheet_catalogue(path: Path, sheet_name: str | None) -> Catalogue:
    """A batch sheet's entries: a row per volume, named by its ``folder`` cell."""
    sheet = read_sheet(path, sheet_name)
    folder_header = next((h for h in sheet.headers if column_of(h).key == FOLDER), None)
    if folder_header is None:
        hint = "" if path.suffix.lower() == ".csv" else " (or name its sheet: site.catalogue_sheet)"
        raise ConfigError(f"{path}: no {FOLDER!r} column in the first row{hint}")
    entries: dict[str, CatalogueEntry] = {}
    collection: CatalogueEntry | None = None
    errors: list[str] = []
    for row in sheet.rows:
        folder = row.cells.get(folder_header, "")
        where = f"{path}: row {row.number}"
        if not folder:
            what = "name the volume folder it describes"
            errors.append(f"{where}, column {folder_header!r}: empty: {what}")
            continue
        data = row_data(row.cells)
        entry = CatalogueEntry(folder, where, data.data, data.columns)
        if folder == COLLECTION_ROW:
            collection = collection or entry
        else:
            add_entry(entries, entry)
    return Catalogue(path, entries, collection, tuple(errors), sheet.notes)
