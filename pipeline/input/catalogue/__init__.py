"""Catalogue records in: a batch sheet (CSV, XLSX) or MARC records describing the volumes.

``sheet`` reads a sheet's rows, ``columns`` turns a row into ``volume.toml`` keys, ``marc``
and ``marc_fields`` do the same for MARC records, ``model`` merges an entry with a folder's
own ``volume.toml`` (which wins key by key), ``collection`` fills the collection's settings
from the sheet's ``*`` row, and ``load`` picks the reader by the file's suffix.
"""

from __future__ import annotations

from pipeline.input.catalogue.load import configured_catalogue, entry_of, load_catalogue
from pipeline.input.catalogue.model import Catalogue, CatalogueEntry, Described, describe

__all__ = [
    "Catalogue",
    "CatalogueEntry",
    "Described",
    "configured_catalogue",
    "describe",
    "entry_of",
    "load_catalogue",
]
