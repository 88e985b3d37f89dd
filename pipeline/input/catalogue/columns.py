"""The columns of a batch sheet: a row's cells -> the ``volume.toml`` keys they give."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The column naming the volume folder; ``*`` in it makes the row the collection's (whose
#: ``provider`` and ``provider_url`` columns name the institution holding the volumes).
FOLDER = "folder"
COLLECTION_ROW = "*"

# Columns holding a language map: ``label.ko``, ``label.ko-Latn``, ``summary`` (no language).
_LANG_FIELDS = frozenset(
    {
        "label", "summary", "title", "creator", "compiler", "language", "subject",
        "physical_description", "identifier", "source_collection", "provider",
    }
)  # fmt: skip
# Other names of a column, as sheets and catalogues spell them.
_ALIASES = {
    "call_number": "identifier",
    "subjects": "subject",
    "volume": FOLDER,
    "direction": "viewing_direction",
    "languages": "ocr_languages",
    "ocr_language": "ocr_languages",
    "behaviour": "behavior",
    "attribution": "required_statement",
}
# Cells holding several values: subjects by ';' (as catalogues list them), lists by ',' or space.
_SPLIT = {"subject": re.compile(r"\s*;\s*")}
_LIST_SPLIT = re.compile(r"[\s,]+")
_LIST_FIELDS = frozenset({"ocr_languages", "behavior"})
_PLAIN_FIELDS = frozenset(
    {"rights", "homepage", "viewing_direction", "required_statement", "provider_url"}
)
_ATTRIBUTION = {"en": ["Attribution"], "ko": ["출처 표시"]}


@dataclass(frozen=True)
class Column:
    """A header as read: the ``volume.toml`` key it gives and the language, if any."""

    header: str
    key: str | None  # None: not a descriptor key (shown as a metadata entry)
    lang: str = "none"


def column_of(header: str) -> Column:
    """Read a header: ``Call number`` -> identifier, ``label.ko-Latn`` -> label in ko-Latn.

    The part before the first ``.`` is matched without case, spaces or hyphens; the part after
    it is a language tag, kept as written.
    """
    base, _, lang = header.strip().partition(".")
    name = re.sub(r"[\s-]+", "_", base.strip().casefold())
    name = _ALIASES.get(name, name)
    if name == FOLDER and not lang:
        return Column(header, FOLDER)
    if name == "date" and not lang:
        return Column(header, "date")
    if name in _LANG_FIELDS:
        return Column(header, name, lang or "none")
    if (name in _LIST_FIELDS or name in _PLAIN_FIELDS) and not lang:
        return Column(header, name)
    return Column(header, None)


@dataclass
class RowData:
    """What a row gives: ``volume.toml`` keys and their values, and the columns behind each."""

    data: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    def put(self, key: str, value: Any, header: str) -> None:
        """Set a key (from one column)."""
        self.data[key] = value
        self.columns.setdefault(key, []).append(header)


def row_data(cells: Mapping[str, str]) -> RowData:
    """Turn a row's non-empty cells (header -> text) into ``volume.toml`` keys.

    A ``date`` gives both the shown date and ``nav_date`` (checked when the descriptor is
    validated); a column that is no descriptor key becomes a metadata entry labelled with
    its header. The folder column is left out.
    """
    out = RowData()
    for header, text in cells.items():
        col = column_of(header)
        if col.key == FOLDER or not text:
            continue
        if col.key is None:
            entry = {"label": {"none": [col.header.strip()]}, "value": {"none": [text]}}
            out.data.setdefault("metadata", []).append(entry)
            out.columns.setdefault("metadata", []).append(header)
        elif col.key == "date":
            out.put("date", {"none": [text]}, header)
            out.put("nav_date", text, header)
        elif col.key in _LANG_FIELDS:
            values = _SPLIT[col.key].split(text) if col.key in _SPLIT else [text]
            out.data.setdefault(col.key, {})[col.lang] = [v for v in values if v]
            out.columns.setdefault(col.key, []).append(header)
        elif col.key in _LIST_FIELDS:
            out.put(col.key, [v for v in _LIST_SPLIT.split(text) if v], header)
        elif col.key == "required_statement":
            out.put(col.key, {"label": _ATTRIBUTION, "value": {"none": [text]}}, header)
        else:
            out.put(col.key, text, header)
    return out
