"""Find volumes under the scans folder and read their ``volume.toml`` descriptors."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from pipeline.config import LangMap, Section, _lang_map, describe_validation_error, read_toml
from pipeline.errors import ConfigError, JobInputError
from pipeline.layout import SAFE_ID
from pipeline.records import PageItem

DESCRIPTOR = "volume.toml"
IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".jpx"})


class MetadataEntry(Section):
    """One label/value pair shown by viewers."""

    label: LangMap
    value: LangMap

    _maps = field_validator("label", "value", mode="before")(_lang_map)


class RangeEntry(Section):
    """A structural range (e.g. one biography): a title and its first and last page ids."""

    label: LangMap
    first: str | None = None
    last: str | None = None
    ranges: list[RangeEntry] = Field(default_factory=list)

    _maps = field_validator("label", mode="before")(_lang_map)


class PageEntry(Section):
    """One page listed explicitly: its file and optional label and OCR languages."""

    file: str
    label: LangMap | None = None
    ocr_languages: list[str] | None = None

    _maps = field_validator("label", mode="before")(_lang_map)


class Descriptor(Section):
    """The optional ``volume.toml`` of a volume folder; every key is optional."""

    label: LangMap | None = None
    summary: LangMap | None = None
    viewing_direction: Literal["left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top"] = (
        "left-to-right"
    )
    nav_date: str | None = None
    ocr_languages: list[str] | None = None
    metadata: list[MetadataEntry] = Field(default_factory=list)
    ranges: list[RangeEntry] = Field(default_factory=list)
    pages: list[str | PageEntry] | None = None

    _maps = field_validator("label", "summary", mode="before")(_lang_map)


@dataclass(frozen=True)
class Volume:
    """A volume ready to run: its id, folder, descriptor and ordered pages."""

    id: str
    folder: Path
    descriptor: Descriptor
    pages: tuple[PageItem, ...]
    unlisted: tuple[str, ...] = ()


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``p2`` before ``p10``."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def page_id_for(file_name: str) -> str:
    """Derive a URL-safe, stable page id from a file name (its stem when already safe).

    Unsafe stems (spaces, Hangul, punctuation) keep their safe characters and gain a short hash
    of the original stem, so two different names never collide.
    """
    stem = unicodedata.normalize("NFC", Path(file_name).stem)
    if SAFE_ID.match(stem):
        return stem
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:100]
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else f"p-{digest}"


def load_descriptor(folder: Path) -> Descriptor:
    """Read ``folder/volume.toml``, or return the defaults when it is absent.

    Raises:
        ConfigError: Malformed TOML, unknown key or wrong type, naming the file and key.
    """
    path = folder / DESCRIPTOR
    if not path.exists():
        return Descriptor()
    try:
        return Descriptor.model_validate(read_toml(path))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(path), exc)) from None


def _check_ranges(path: Path, ranges: list[RangeEntry], ids: set[str]) -> None:
    for entry in ranges:
        for key in ("first", "last"):
            ref = getattr(entry, key)
            if ref is not None and ref not in ids:
                raise ConfigError(f"{path}: ranges: {key} = {ref!r} is not a page of this volume")
        if (entry.first is None) != (entry.last is None):
            raise ConfigError(f"{path}: ranges: give both 'first' and 'last' (or neither)")
        _check_ranges(path, entry.ranges, ids)


def _listed_file(folder: Path, name: str) -> Path:
    """Resolve a file named in the descriptor, refusing anything outside the volume folder."""
    rel = Path(name)
    if rel.is_absolute() or len(rel.parts) != 1 or name in {".", ".."}:
        raise ConfigError(
            f"{folder / DESCRIPTOR}: pages: {name!r} must be a file name inside the volume folder"
        )
    return folder / rel


def load_volume(folder: Path, default_languages: list[str]) -> Volume:
    """Read one volume folder: descriptor, page files, their order and ids.

    Args:
        folder: ``scans/<volume-id>/``.
        default_languages: OCR languages when neither the page nor the descriptor names any.

    Returns:
        The volume.

    Raises:
        ConfigError: The descriptor is invalid or names a missing page.
        JobInputError: Two files map to the same page id, or the folder name is unsafe.
    """
    vid = folder.name
    if not SAFE_ID.match(vid):
        raise JobInputError(
            f"{folder}: volume folder names become URLs: use only letters, digits, '.', '_', '-'"
        )
    desc = load_descriptor(folder)
    found = sorted(
        (p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=natural_key,
    )
    entries: list[PageEntry]
    if desc.pages is None:
        entries = [PageEntry(file=name) for name in found]
        unlisted: tuple[str, ...] = ()
    else:
        entries = [PageEntry(file=e) if isinstance(e, str) else e for e in desc.pages]
        for entry in entries:
            if not _listed_file(folder, entry.file).is_file():
                raise ConfigError(f"{folder / DESCRIPTOR}: pages: {entry.file!r} does not exist")
        listed = {e.file for e in entries}
        unlisted = tuple(n for n in found if n not in listed)
    seen: dict[str, str] = {}
    pages: list[PageItem] = []
    base_langs = desc.ocr_languages or default_languages
    for index, entry in enumerate(entries):
        pid = page_id_for(entry.file)
        if pid in seen:
            raise JobInputError(
                f"{folder}: {seen[pid]!r} and {entry.file!r} both give page id {pid!r}; rename one"
            )
        seen[pid] = entry.file
        pages.append(
            PageItem(
                volume=vid,
                page=pid,
                source=str((folder / entry.file).absolute()),
                index=index,
                label=entry.label or {"none": [str(index + 1)]},
                ocr_languages=tuple(entry.ocr_languages or base_langs),
            )
        )
    _check_ranges(folder / DESCRIPTOR, desc.ranges, set(seen))
    return Volume(id=vid, folder=folder, descriptor=desc, pages=tuple(pages), unlisted=unlisted)


def find_volumes(scans: Path, selected: tuple[str, ...] = ()) -> list[Path]:
    """List the volume folders under ``scans`` (all, or the selected ids), in natural order.

    Raises:
        JobInputError: The scans folder is missing or empty, or a selected volume is missing.
        ConfigError: A selected volume id is not a plain folder name.
    """
    if not scans.is_dir():
        raise JobInputError(f"{scans}: scans folder not found (set site.scans or --scans)")
    for vid in selected:
        if not SAFE_ID.match(vid):
            raise ConfigError(f"volume {vid!r}: not a volume id (a folder name under {scans})")
        if not (scans / vid).is_dir():
            raise JobInputError(f"{scans / vid}: volume folder not found")
    if selected:
        return [scans / vid for vid in selected]
    folders = sorted(
        (p for p in scans.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: natural_key(p.name),
    )
    if not folders:
        raise JobInputError(f"{scans}: no volume folders found (run 'pipeline samples {scans}')")
    return folders
