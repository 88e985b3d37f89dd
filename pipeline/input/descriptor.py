"""The ``volume.toml`` descriptor of a volume folder: its model, loading and checks."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from pipeline.config import (
    HomepageConfig,
    LabelValue,
    ManifestBehavior,
    Section,
    check_behaviors,
    check_http_url,
    check_ocr_languages,
    check_rights,
    describe_validation_error,
    expand_lang_map,
    ocr_language_list,
    read_toml,
)
from pipeline.errors import ConfigError
from pipeline.iiif.text import LangMap, check_plain_label

DESCRIPTOR = "volume.toml"


class MetadataEntry(Section):
    """One label/value pair shown by viewers."""

    label: LangMap
    value: LangMap

    _maps = field_validator("label", "value", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)


class RangeEntry(Section):
    """A structural range (e.g. one biography): a title and its first and last page ids."""

    label: LangMap
    first: str | None = None
    last: str | None = None
    ranges: list[RangeEntry] = Field(default_factory=list)

    _maps = field_validator("label", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)


class PageEntry(Section):
    """One page listed explicitly: its file and optional label and OCR languages."""

    file: str
    label: LangMap | None = None
    ocr_languages: list[str] | None = None

    _maps = field_validator("label", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)
    _lang_list = field_validator("ocr_languages", mode="before")(ocr_language_list)
    _langs = field_validator("ocr_languages")(lambda v: v if v is None else check_ocr_languages(v))


class LinkEntry(Section):
    """A machine-readable description elsewhere (``seeAlso``), e.g. the MARC or MODS record."""

    id: str
    format: str | None = None
    profile: str | None = None
    label: LangMap | None = None

    _maps = field_validator("label", mode="before")(expand_lang_map)
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


class TranscriptionEntry(Section):
    """``[transcription]``: who made the volume's transcription files, where they do not say."""

    kind: Literal["human", "htr", "ocr"] | None = None
    creator: str | None = None
    date: str | None = None


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
    transcription: TranscriptionEntry | None = None

    _maps = field_validator("label", "summary", *CATALOGUE_FIELDS, mode="before")(expand_lang_map)
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


def reference_problems(
    path: Path, desc: Descriptor, order: list[str], files: dict[str, str]
) -> list[str]:
    """Check the page ids a descriptor names (ranges, ``start``, ``thumbnail``) against the pages.

    Args:
        path: The descriptor file, named by every problem.
        desc: The descriptor.
        order: The volume's page ids, in page order.
        files: Page id of each file name and file stem (NFC), for the hint when a range
            names a file instead of its page id.

    Returns:
        One line per problem, in the order of the file; empty when all is well.

    """
    problems: list[str] = []
    _check_ranges(path, desc.ranges, order, files, problems)
    for key in ("start", "thumbnail"):
        ref = getattr(desc, key)
        if ref is not None and ref not in order:
            problems.append(f"{path}: {key}: {ref!r} is not a page id of this volume")
    return problems


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


def listed_name(folder: Path, name: str) -> str:
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
