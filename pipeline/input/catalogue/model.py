"""A catalogue's entries, one per volume, and their merging with each folder's ``volume.toml``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.input.descriptor import DESCRIPTOR, Descriptor, load_descriptor


@dataclass(frozen=True)
class CatalogueEntry:
    """What the catalogue says about one volume (or the collection).

    Attributes:
        key: The folder it names (a sheet) or the value it is matched by (a MARC record).
        where: The file and row (or record) it comes from, as messages name it.
        data: ``volume.toml`` keys and values (not yet checked).
        columns: The columns (or MARC fields) behind each key, as messages name them.
        duplicate: Where another entry for the same volume is (then neither is used).
        part: What ``columns`` name: a sheet's ``column`` or a record's MARC ``field``.
    """

    key: str
    where: str
    data: dict[str, Any]
    columns: dict[str, list[str]] = field(default_factory=dict)
    duplicate: str | None = None
    part: str = "column"


@dataclass(frozen=True)
class Catalogue:
    """A batch sheet or a file of MARC records, read.

    Attributes:
        path: The file.
        entries: Each volume's entry, by the key it is matched with.
        collection: The collection's row, if the sheet has one.
        errors: Entries that cannot be used (a row with no folder, a record with no title and
            no volume), one line each.
        warnings: What reading it had to say (an encoding, an unlinked 880), one line each.
    """

    path: Path
    entries: dict[str, CatalogueEntry]
    collection: CatalogueEntry | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def entry_for(self, volume_id: str) -> CatalogueEntry | None:
        """The entry of a volume: the one naming its folder in the form :func:`match_key` gives."""
        return self.entries.get(match_key(volume_id))

    def unmatched(self, volume_ids: list[str]) -> list[CatalogueEntry]:
        """The entries matching none of ``volume_ids`` (in the catalogue's order)."""
        found = {match_key(v) for v in volume_ids}
        return [e for k, e in self.entries.items() if k not in found]


def match_key(value: str) -> str:
    """The form a call number and a folder name are matched in: ``MS 42`` and ``MS-42`` agree."""
    text = unicodedata.normalize("NFC", value).strip()
    return re.sub(r"[^\w.]+", "-", text).strip("-.").casefold()


def add_entry(entries: dict[str, CatalogueEntry], entry: CatalogueEntry) -> None:
    """Add an entry; a second one for the same volume marks it as a duplicate."""
    key = match_key(entry.key)
    first = entries.get(key)
    if first is None:
        entries[key] = entry
    elif first.duplicate is None:
        entries[key] = replace(first, duplicate=entry.where)


@dataclass(frozen=True)
class Described:
    """A volume's descriptor and, per key, where its value came from."""

    descriptor: Descriptor
    sources: dict[str, str]  # key -> catalogue row/record, or "volume.toml" where it won


def entry_error(entry: CatalogueEntry, exc: ValidationError) -> ConfigError:
    """Every value of an entry that is not valid, one per line naming the row and column."""
    lines = []
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        cols = ", ".join(repr(c) for c in entry.columns.get(key, [key]))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{entry.where}, {entry.part} {cols}: {msg}")
    return ConfigError("\n".join(dict.fromkeys(lines)))


def _validated(entry: CatalogueEntry) -> Descriptor:
    """The entry as a descriptor.

    Raises:
        ConfigError: See :func:`entry_error`.
    """
    try:
        return Descriptor.model_validate(entry.data)
    except ValidationError as exc:
        raise entry_error(entry, exc) from None


def describe(folder: Path, entry: CatalogueEntry | None) -> Described:
    """A volume's descriptor: its catalogue entry, with ``volume.toml`` winning key by key.

    Free-form metadata is the exception: the file's entries come first, then the catalogue's
    whose label the file does not use.

    Args:
        folder: The volume folder (its ``volume.toml`` is read when present).
        entry: Its catalogue entry, if any.

    Returns:
        The merged descriptor and where each of its keys came from.

    Raises:
        ConfigError: The descriptor or the entry is invalid, or two entries describe the volume.
    """
    own = load_descriptor(folder)
    if entry is None:
        return Described(own, {})
    if entry.duplicate is not None:
        raise ConfigError(
            f"{entry.where} and {entry.duplicate} both describe {folder.name!r}: keep one"
        )
    row = _validated(entry)
    mine = own.model_fields_set
    update = {key: getattr(own, key) for key in mine}
    if "metadata" in mine:
        labels = [m.label for m in own.metadata]
        update["metadata"] = own.metadata + [m for m in row.metadata if m.label not in labels]
    sources = {key: entry.where for key in row.model_fields_set}
    sources.update({key: DESCRIPTOR for key in mine & row.model_fields_set})
    return Described(row.model_copy(update=update), sources)
