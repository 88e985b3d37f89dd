"""MARC records (MARCXML or binary MARC 21), a record per volume, read with pymarc."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax import SAXException

import pymarc
from pymarc import Record

from pipeline.errors import ConfigError
from pipeline.input.catalogue import marc_fields as mf
from pipeline.input.catalogue.model import Catalogue, CatalogueEntry, add_entry

#: What a record is matched to a volume folder by, unless a field (``001``, ``035a``) is named.
CALL_NUMBER = "call_number"


def _records(path: Path) -> list[Record | None]:
    """Every record of the file (``None`` for one pymarc could not decode).

    Raises:
        ConfigError: The file cannot be read, or is not MARCXML (``.xml``) or MARC 21.
    """
    try:
        if path.suffix.lower() in (".xml", ".marcxml"):
            # pymarc leaves this one untyped; it returns the records (None: undecodable).
            records: list[Record | None] = pymarc.parse_xml_to_array(str(path))  # type: ignore[no-untyped-call]
            return records
        with path.open("rb") as fh:
            return list(pymarc.MARCReader(fh, to_unicode=True, force_utf8=True))
    except FileNotFoundError:
        raise ConfigError(f"{path}: catalogue not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the catalogue ({exc.strerror})") from None
    except (SAXException, pymarc.exceptions.PymarcException) as exc:
        raise ConfigError(f"{path}: not a file of MARC records ({exc})") from None


def read_marc(path: Path, match: str = CALL_NUMBER) -> Catalogue:
    """Read MARC records into catalogue entries, each matched to a folder by ``match``.

    A record with no 245 or nothing to match it by is an error naming the record; an 880
    linked to no field is a warning (it is left out).

    Raises:
        ConfigError: The file cannot be read as MARC records.
    """
    entries: dict[str, CatalogueEntry] = {}
    errors: list[str] = []
    warnings: list[str] = []
    for n, record in enumerate(_records(path), start=1):
        where = f"{path}: record {n}"
        if record is None:
            errors.append(f"{where}: cannot be decoded as MARC 21: left out")
            continue
        ident = mf.field_value(record, "001")
        where += f" (001 {ident})" if ident else ""
        links, orphans = mf.linked(record)
        for field in orphans:
            text = mf.joined(field, [s.code for s in field.subfields if s.code != "6"])
            link = field.get("6") or "missing"
            warnings.append(f"{where}: 880 {text[:40]!r} links to no field ($6 {link}): left out")
        key = mf.call_number(record) if match == CALL_NUMBER else mf.field_value(record, match)
        if not record.get_fields("245"):
            errors.append(f"{where}: no 245 (title field): left out")
        elif not key:
            what = "call number (050/090/099)" if match == CALL_NUMBER else f"{match} field"
            errors.append(f"{where}: no {what} to match it to a volume folder: left out")
        else:
            data, columns = record_data(record, links)
            add_entry(entries, CatalogueEntry(key, where, data, columns, part="field"))
    return Catalogue(path, entries, None, tuple(errors), tuple(warnings))


def record_data(
    record: Record, links: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A record's ``volume.toml`` keys (see :mod:`marc_fields`) and the fields behind each."""
    codes = mf.languages(record)
    lang = mf.bcp47(codes[0]) if codes else None
    cat = record.get("040")
    cat_lang = mf.bcp47((cat.get("b") if cat is not None else None) or "eng")
    data: dict[str, Any] = {}
    columns: dict[str, list[str]] = {}

    def put(key: str, value: Any, tags: str) -> None:
        if value:
            data[key] = value
            columns[key] = [tags]

    put("label", mf.transcribed(record.get_fields("245"), links, mf.TITLE_CODES, lang), "245/880")
    names = record.get_fields("100", "110", "700", "710")
    put("creator", mf.transcribed(names, links, mf.NAME_CODES, lang), "100/700/880")
    shown, year = mf.dates(record)
    put("date", {"none": [shown]} if shown else None, "260/264")
    put("nav_date", year, "260/264/008")
    headings = mf.subjects(record)
    put("subject", {cat_lang: headings} if headings else None, "6XX")
    summary, other = mf.notes(record, cat_lang)
    put("summary", {cat_lang: summary} if summary else None, "520")
    put("metadata", other, "5XX")
    number = mf.call_number(record)
    put("identifier", {"none": [number]} if number else None, "050/090/099")
    urls = [u for f in record.get_fields("856") for u in f.get_subfields("u")]
    put("homepage", urls[0].strip() if urls else None, "856")
    names_en = [mf.LANGUAGES.get(c, (c, c))[1] for c in codes]
    put("language", {"en": names_en} if names_en else None, "008/041")
    return data, columns
