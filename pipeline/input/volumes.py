"""Find volumes under the scans folder and read their ``volume.toml`` descriptors."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from pipeline.config import (
    HomepageConfig,
    LabelValue,
    LangMap,
    ManifestBehavior,
    Section,
    _lang_map,
    check_behaviors,
    check_http_url,
    check_ocr_languages,
    check_rights,
    describe_validation_error,
    ocr_language_list,
    read_toml,
)
from pipeline.errors import ConfigError, JobInputError
from pipeline.iiif.text import check_plain_label
from pipeline.layout import SAFE_ID
from pipeline.records import PageItem

DESCRIPTOR = "volume.toml"
IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".jpx"})
# Files that look like page images we do not take. They still become pages, which fail at
# ingest with the reason, so that a page in an unexpected format never vanishes silently.
OTHER_IMAGE_SUFFIXES = frozenset(
    {
        ".gif", ".bmp", ".webp", ".heic", ".heif", ".avif", ".jxl", ".jpf", ".jfif", ".jpe",
        ".pdf", ".psd", ".svg", ".tga", ".pcx", ".ppm", ".pgm", ".pbm", ".pnm",
        ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".raf", ".rw2", ".raw",
    }
)  # fmt: skip
PAGE_SUFFIXES = IMAGE_SUFFIXES | OTHER_IMAGE_SUFFIXES


class MetadataEntry(Section):
    """One label/value pair shown by viewers."""

    label: LangMap
    value: LangMap

    _maps = field_validator("label", "value", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)


class RangeEntry(Section):
    """A structural range (e.g. one biography): a title and its first and last page ids."""

    label: LangMap
    first: str | None = None
    last: str | None = None
    ranges: list[RangeEntry] = Field(default_factory=list)

    _maps = field_validator("label", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)


class PageEntry(Section):
    """One page listed explicitly: its file and optional label and OCR languages."""

    file: str
    label: LangMap | None = None
    ocr_languages: list[str] | None = None

    _maps = field_validator("label", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _lang_list = field_validator("ocr_languages", mode="before")(ocr_language_list)
    _langs = field_validator("ocr_languages")(lambda v: v if v is None else check_ocr_languages(v))


class LinkEntry(Section):
    """A machine-readable description elsewhere (``seeAlso``), e.g. the MARC or MODS record."""

    id: str
    format: str | None = None
    profile: str | None = None
    label: LangMap | None = None

    _maps = field_validator("label", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _url = field_validator("id")(check_http_url)

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z]+/\S+$", value):
            raise ValueError(f"{value!r} is not a media type such as 'application/marcxml+xml'")
        return value


# Catalogue fields a descriptor may give; the manifest shows them as metadata pairs, in this
# order, before any free-form [[metadata]] entries.
CATALOGUE_FIELDS = (
    "title",
    "creator",
    "compiler",
    "date",
    "language",
    "subject",
    "physical_description",
    "identifier",
    "source_collection",
)


def _nav_date(value: Any) -> Any:
    """Accept 1995, "1995", "1995-03", 1995-03-12 (TOML date) or a date-time; store ISO 8601 UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        text = str(value).strip()
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
        try:
            if match:
                y, m, d = (int(g) if g else 1 for g in match.groups())
                moment = datetime(y, m, d, tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date such as 1995, 1995-03 or 1995-03-12"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Descriptor(Section):
    """The optional ``volume.toml`` of a volume folder; every key is optional."""

    label: LangMap | None = None
    summary: LangMap | None = None
    viewing_direction: Literal[
        "left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top"
    ] = "left-to-right"
    nav_date: str | None = None
    ocr_languages: list[str] | None = None
    metadata: list[MetadataEntry] = Field(default_factory=list)
    ranges: list[RangeEntry] = Field(default_factory=list)
    # A plain string is shorthand for {file = "..."}; read as such, errors in a page entry
    # name its key (pages.3.ocr_languages) instead of both readings of a union.
    pages: list[PageEntry] | None = None
    # Catalogue description (CATALOGUE_FIELDS), each a language map or a plain string.
    title: LangMap | None = None
    creator: LangMap | None = None
    compiler: LangMap | None = None
    date: LangMap | None = None
    language: LangMap | None = None
    subject: LangMap | None = None
    physical_description: LangMap | None = None
    identifier: LangMap | None = None
    source_collection: LangMap | None = None
    # Presentation of this volume, overriding the collection's settings.
    rights: str | None = None
    required_statement: LabelValue | None = None
    homepage: HomepageConfig | None = None
    see_also: list[LinkEntry] = Field(default_factory=list)
    behavior: list[ManifestBehavior] | None = None
    start: str | None = None
    thumbnail: str | None = None

    _maps = field_validator("label", "summary", *CATALOGUE_FIELDS, mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _date = field_validator("nav_date", mode="before")(_nav_date)
    _lang_list = field_validator("ocr_languages", mode="before")(ocr_language_list)
    _behaviors = field_validator("behavior")(lambda v: v if v is None else check_behaviors(v))
    _langs = field_validator("ocr_languages")(lambda v: v if v is None else check_ocr_languages(v))

    @field_validator("rights")
    @classmethod
    def _rights(cls, value: str | None) -> str | None:
        return None if value is None else check_rights(value)

    @field_validator("pages", mode="before")
    @classmethod
    def _page_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{"file": item} if isinstance(item, str) else item for item in value]

    @field_validator("homepage", mode="before")
    @classmethod
    def _homepage(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value


def _check_page_refs(path: Path, desc: Descriptor, order: list[str], problems: list[str]) -> None:
    """``start`` and ``thumbnail`` name pages of this volume (else a problem naming the key)."""
    for key in ("start", "thumbnail"):
        ref = getattr(desc, key)
        if ref is not None and ref not in order:
            problems.append(f"{path}: {key}: {ref!r} is not a page id of this volume")


@dataclass(frozen=True)
class Volume:
    """A volume ready to run: its id, folder, descriptor and ordered pages."""

    id: str
    folder: Path
    descriptor: Descriptor
    pages: tuple[PageItem, ...]
    unlisted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``p2`` before ``p10``."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def sort_key(name: str) -> tuple[list[Any], str]:
    """Natural order with ties (``p01``/``p1``, ``A``/``a``) broken by the name itself.

    Without the tie-break, names that ``natural_key`` treats as equal would keep the order the
    file system lists them in, which differs between machines and copies of a folder.
    """
    return natural_key(name), name


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
        ConfigError: Malformed TOML, unknown keys or wrong types: every problem of the file,
            one per line, naming the file and key (and the closest known key).
    """
    path = folder / DESCRIPTOR
    if not path.exists():
        return Descriptor()
    try:
        return Descriptor.model_validate(read_toml(path))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(path), exc, Descriptor)) from None


def _check_ranges(
    path: Path,
    ranges: list[RangeEntry],
    order: list[str],
    files: dict[str, str],
    problems: list[str],
    where: str = "",
) -> None:
    """Every range names existing page ids, both ends or neither, first not after last.

    Each range that does not is a line in ``problems``, naming the range and the key.
    """
    for n, entry in enumerate(ranges, start=1):
        here = f"{where}{n}"
        known = True
        for key in ("first", "last"):
            ref = getattr(entry, key)
            if ref is None or ref in order:
                continue
            known = False
            hint = ""
            by_name = files.get(unicodedata.normalize("NFC", ref)) or files.get(
                unicodedata.normalize("NFC", Path(ref).stem)
            )
            if by_name:
                hint = f" (that is a file name: its page id is {by_name!r})"
            problems.append(
                f"{path}: ranges[{here}]: {key} = {ref!r} is not a page id of this volume{hint}"
            )
        if (entry.first is None) != (entry.last is None):
            problems.append(f"{path}: ranges[{here}]: give both 'first' and 'last' (or neither)")
        elif (
            known
            and entry.first is not None
            and entry.last is not None
            and order.index(entry.last) < order.index(entry.first)
        ):
            problems.append(
                f"{path}: ranges[{here}]: last = {entry.last!r} comes before "
                f"first = {entry.first!r} in page order"
            )
        _check_ranges(path, entry.ranges, order, files, problems, f"{here}.")


def _listed_name(folder: Path, name: str) -> str:
    """Check a file name given in the descriptor: one plain name inside the volume folder.

    Raises:
        ConfigError: An empty name, a path (``a/b``, ``../b``, ``/b``) or a name with NUL.
    """
    rel = Path(name)
    if (
        not name
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or rel.is_absolute()
        or len(rel.parts) != 1
        or name in {".", ".."}
    ):
        raise ConfigError(
            f"{folder / DESCRIPTOR}: pages: {name!r} must be a file name inside the volume "
            "folder (no folders, '..' or absolute paths)"
        )
    return name


def _scan_folder(folder: Path) -> tuple[list[str], list[str]]:
    """Page-image candidates (natural order) and every other entry of a volume folder.

    Hidden entries (``.DS_Store``, ``._p001.tif`` from macOS) are never pages. A broken
    symbolic link with an image suffix is a candidate, so that it fails visibly at ingest.
    """
    images: list[str] = []
    ignored: list[str] = []
    for entry in folder.iterdir():
        name = entry.name
        if name == DESCRIPTOR:
            continue
        is_file = entry.is_file() or (entry.is_symlink() and not entry.exists())
        if is_file and not name.startswith(".") and entry.suffix.lower() in PAGE_SUFFIXES:
            images.append(name)
        else:
            ignored.append(name + "/" if entry.is_dir() else name)
    return sorted(images, key=sort_key), sorted(ignored, key=sort_key)


def load_volume(folder: Path, default_languages: list[str]) -> Volume:
    """Read one volume folder: descriptor, page files, their order and ids.

    A page listed in ``volume.toml`` whose file is missing stays in the volume (and fails at
    ingest, naming the file); images in the folder that the descriptor does not list are
    reported as ``unlisted``; other files are reported as ``ignored``.

    Args:
        folder: ``scans/<volume-id>/``.
        default_languages: OCR languages when neither the page nor the descriptor names any.

    Returns:
        The volume.

    Raises:
        ConfigError: The descriptor is invalid, names files outside the folder or has ranges
            or page references that do not match the pages (every such problem, one a line).
        JobInputError: Two files map to the same page id, the volume has no pages, or the
            folder name is not usable in URLs.
    """
    vid = folder.name
    if not SAFE_ID.match(vid):
        raise JobInputError(
            f"{folder}: the volume folder name becomes part of URLs: rename the folder using "
            "only letters, digits, '.', '_' and '-' (starting with a letter or digit)"
        )
    desc = load_descriptor(folder)
    found, ignored = _scan_folder(folder)
    # macOS writes file names decomposed (NFD), descriptors are usually typed composed (NFC).
    by_nfc = {unicodedata.normalize("NFC", name): name for name in found}
    entries: list[PageEntry]
    missing: list[str] = []
    if desc.pages is None:
        entries = [PageEntry(file=name) for name in found]
        unlisted: tuple[str, ...] = ()
    else:
        entries = []
        for entry in desc.pages:
            name = _listed_name(folder, entry.file)
            actual = by_nfc.get(unicodedata.normalize("NFC", name))
            if actual is None:
                exists = (folder / name).is_file() or (folder / name).is_symlink()
                actual = name
                if not exists:
                    missing.append(name)
            entries.append(entry.model_copy(update={"file": actual}))
        listed = {unicodedata.normalize("NFC", e.file) for e in entries}
        unlisted = tuple(n for n in found if unicodedata.normalize("NFC", n) not in listed)
    if not entries:
        what = "its volume.toml lists no pages" if desc.pages is not None else "no page images"
        raise JobInputError(f"{folder}: {what} (TIFF, JPEG or PNG files)")
    seen: dict[str, str] = {}
    folded: dict[str, str] = {}
    pages: list[PageItem] = []
    base_langs = desc.ocr_languages or default_languages
    for index, entry in enumerate(entries):
        pid = page_id_for(entry.file)
        if pid in seen:
            if seen[pid] == entry.file:
                raise JobInputError(f"{folder / DESCRIPTOR}: pages: {entry.file!r} is listed twice")
            raise JobInputError(
                f"{folder}: {seen[pid]!r} and {entry.file!r} both give page id {pid!r}; "
                "rename one of them"
            )
        other = folded.get(pid.casefold())
        if other is not None:
            raise JobInputError(
                f"{folder}: {seen[other]!r} and {entry.file!r} give page ids that differ only "
                f"in case ({other!r}, {pid!r}) and would overwrite each other on "
                "case-insensitive disks; rename one of them"
            )
        seen[pid] = entry.file
        folded[pid.casefold()] = pid
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
    files = {unicodedata.normalize("NFC", name): pid for pid, name in seen.items()}
    files.update({unicodedata.normalize("NFC", Path(n).stem): p for n, p in files.copy().items()})
    problems: list[str] = []
    order = [p.page for p in pages]
    _check_ranges(folder / DESCRIPTOR, desc.ranges, order, files, problems)
    _check_page_refs(folder / DESCRIPTOR, desc, order, problems)
    if problems:
        raise ConfigError("\n".join(problems))
    return Volume(
        id=vid,
        folder=folder,
        descriptor=desc,
        pages=tuple(pages),
        unlisted=unlisted,
        missing=tuple(missing),
        ignored=tuple(ignored),
    )


def find_volumes(scans: Path, selected: tuple[str, ...] = ()) -> list[Path]:
    """List the volume folders under ``scans`` (all, or the selected ids), in natural order.

    Raises:
        JobInputError: The scans folder is missing or empty, or a selected volume is missing.
        ConfigError: A selected volume id is not a plain folder name.
    """
    if not scans.is_dir():
        raise JobInputError(f"{scans}: scans folder not found (set site.scans or --scans)")
    for vid in selected:
        if not SAFE_ID.match(vid) or vid in {".", ".."}:
            raise ConfigError(
                f"volume {vid!r}: not a volume id (the name of a folder directly under {scans}; "
                "no paths)"
            )
        if not (scans / vid).is_dir():
            raise JobInputError(f"{scans / vid}: volume folder not found")
    if selected:
        return [scans / vid for vid in selected]
    folders = sorted(
        (p for p in scans.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: sort_key(p.name),
    )
    if not folders:
        raise JobInputError(f"{scans}: no volume folders found (run 'pipeline samples {scans}')")
    return folders
