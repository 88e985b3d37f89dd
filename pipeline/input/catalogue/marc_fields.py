"""What a MARC 21 bibliographic record gives a volume: its fields -> ``volume.toml`` keys.

245 (with its linked 880) -> label, romanized in ``<lang>-Latn`` and vernacular in ``<lang>``;
100/700 -> creator; 260/264 $c -> date (and navDate from its first year); 6XX -> subject;
520 -> summary, other 5XX -> "Note" metadata; 050/090/099 -> identifier (call number);
the first 856 $u -> homepage; 008/35-37 and 041 $a -> language (BCP 47 keys and names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pymarc import Field, Record

# MARC language codes (ISO 639-2/B) -> BCP 47 tag and English name. Codes not listed keep
# their three letters as the tag (valid BCP 47 wherever 639-2/B and /T agree).
LANGUAGES = {
    "kor": ("ko", "Korean"),
    "rus": ("ru", "Russian"),
    "eng": ("en", "English"),
    "chi": ("zh", "Chinese"),
    "jpn": ("ja", "Japanese"),
    "ger": ("de", "German"),
    "fre": ("fr", "French"),
    "mon": ("mn", "Mongolian"),
}
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LINK = re.compile(r"^(\d{3})-(\d{2})")
# ISBD punctuation closing a subfield: " /", " :", " ;", ",", "." (not the dot of an initial).
_TRAILING = re.compile(r"(\s*[/:;,=]|(?<![A-Z])\.)\s*$")
TITLE_CODES = ("a", "b", "n", "p")
NAME_CODES = ("a", "b", "c", "q", "d")
SUBJECT_CODES = ("a", "b", "c", "d", "t", "v", "x", "y", "z")


def tidy(text: str) -> str:
    """Strip the ISBD punctuation that closes a MARC subfield."""
    return _TRAILING.sub("", text.strip()).strip()


def joined(field: Field, codes: Iterable[str], sep: str = " ") -> str:
    """The given subfields of a field, in field order, joined; the closing punctuation dropped."""
    wanted = set(codes)
    parts = [s.value.strip() for s in field.subfields if s.code in wanted]
    return tidy(sep.join(p for p in parts if p))


def languages(record: Record) -> list[str]:
    """The record's language codes: 008/35-37 first, then each 041 $a (several codes run on)."""
    codes: list[str] = []
    fixed = record.get("008")
    if fixed is not None and fixed.data and len(fixed.data) >= 38:
        codes.append(fixed.data[35:38].strip().lower())
    for field in record.get_fields("041"):
        for value in field.get_subfields("a"):
            codes += [value[i : i + 3].lower() for i in range(0, len(value) - 2, 3)]
    return [c for c in dict.fromkeys(codes) if re.fullmatch(r"[a-z]{3}", c)]


def bcp47(code: str) -> str:
    """The BCP 47 tag of a MARC language code."""
    return LANGUAGES.get(code, (code, code))[0]


_LATIN_SCRIPT = frozenset({"en", "de", "fr"})


def script_tag(text: str, lang: str | None) -> str:
    """The language-map key of a string as catalogued, by the script it is written in.

    Hangul is ``ko``, Cyrillic ``ru``, Han ``zh``; Latin letters are the record's language
    when it is written in them, else its romanization (``ko-Latn``).
    """
    if _HANGUL.search(text):
        return "ko"
    if _CYRILLIC.search(text):
        return "ru"
    if _HAN.search(text):
        return "zh"
    if lang is None:
        return "none"
    return lang if lang in _LATIN_SCRIPT else f"{lang}-Latn"


def linked(record: Record) -> tuple[dict[str, Field], list[Field]]:
    """The 880 fields by the field they transcribe (``245-01``), and those linked to nothing."""
    targets = set()
    for field in record.fields:
        if not field.is_control_field() and field.tag != "880":
            m = re.match(r"^880-(\d{2})", field.get("6") or "")
            if m:
                targets.add(f"{field.tag}-{m.group(1)}")
    found: dict[str, Field] = {}
    orphans: list[Field] = []
    for field in record.get_fields("880"):
        m = _LINK.match(field.get("6") or "")
        key = f"{m.group(1)}-{m.group(2)}" if m else ""
        if key in targets:
            found[key] = field
        else:
            orphans.append(field)
    return found, orphans


def vernacular_of(field: Field, links: dict[str, Field]) -> Field | None:
    """The 880 transcribing a field in the vernacular, if linked."""
    m = re.match(r"^880-(\d{2})", field.get("6") or "")
    return links.get(f"{field.tag}-{m.group(1)}") if m else None


def transcribed(
    fields: list[Field], links: dict[str, Field], codes: Iterable[str], lang: str | None
) -> dict[str, list[str]]:
    """A language map of fields and their linked 880s: romanized and vernacular forms."""
    out: dict[str, list[str]] = {}
    codes = tuple(codes)
    for field in fields:
        forms = [field]
        other = vernacular_of(field, links)
        if other is not None:
            forms.append(other)
        for form in forms:
            text = joined(form, codes)
            if text:
                out.setdefault(script_tag(text, lang), []).append(text)
    return out


def call_number(record: Record) -> str:
    """The call number: 050 $a $b, else 090, else 099 (LC, local LC-style, local free text)."""
    for tag in ("050", "090", "099"):
        for field in record.get_fields(tag):
            text = " ".join(v.strip() for v in field.get_subfields("a", "b") if v.strip())
            if text:
                return text
    return ""


def field_value(record: Record, spec: str) -> str:
    """The value of ``001`` (a control field) or ``035a`` (a data field's subfield)."""
    tag, code = spec[:3], spec[3:] or "a"
    for field in record.get_fields(tag):
        if field.is_control_field():
            return (field.data or "").strip()
        values = field.get_subfields(code)
        if values and values[0].strip():
            return values[0].strip()
    return ""


def dates(record: Record) -> tuple[str, str | None]:
    """The date as catalogued (260/264 $c) and its first year, for ``nav_date``."""
    shown = ""
    for field in record.get_fields("264", "260"):
        shown = joined(field, "c")
        if shown:
            break
    year = re.search(r"\d{4}", shown)
    fixed = record.get("008")
    if year is None and fixed is not None and fixed.data and fixed.data[7:11].isdigit():
        year = re.match(r"\d{4}", fixed.data[7:11])
    return shown, year.group(0) if year else None


def notes(record: Record, lang: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The 520 summaries, and the other 5XX notes as metadata entries."""
    summary: list[str] = []
    other: list[dict[str, Any]] = []
    for field in record.fields:
        if not field.tag.startswith("5") or field.is_control_field():
            continue
        text = joined(field, [s.code for s in field.subfields if s.code not in "3568"])
        if field.tag == "520":
            summary.append(text)
        elif text:
            other.append({"label": {"en": ["Note"]}, "value": {lang: [text]}})
    return summary, other


def subjects(record: Record) -> list[str]:
    """The 6XX subject headings, subdivisions joined with `` -- ``."""
    out = []
    for field in record.fields:
        if field.tag.startswith("6") and not field.is_control_field():
            text = joined(field, SUBJECT_CODES, " -- ")
            if text:
                out.append(text)
    return out
