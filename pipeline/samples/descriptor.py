"""The ``volume.toml`` of a sample volume: its labels, metadata and ranges, written as TOML."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import tomli_w

from pipeline.samples.compose import Biography
from pipeline.samples.text import HEADER_PHRASE

__all__ = ["TomlValue", "descriptor_toml", "render_toml"]

TomlValue = str | list[str] | dict[str, str]
"""What a ``key = value`` line of the descriptor holds: a string, strings, or a language map."""

_COMMENT = "# Synthetic sample volume written by pipeline.samples; all persons are fictional."
_BARE_KEY = re.compile(r"[A-Za-z0-9_]+")


def descriptor_toml(
    *,
    volume_no: int,
    call_number: str,
    year: int,
    pages: int,
    biographies: Sequence[Biography],
    russian: bool,
) -> str:
    """Return the text of a sample volume's ``volume.toml``.

    Args:
        volume_no: The volume number, as in the header line of its pages.
        call_number: The volume's shelf mark.
        year: The year the manuscript was written.
        pages: Number of pages.
        biographies: The volume's biographies, in page order (one range each).
        russian: Whether some pages carry Russian text (named among the languages).

    Returns:
        The TOML text, ending with a newline.

    """
    values: dict[str, TomlValue] = {
        "label": {
            "ko": f"{HEADER_PHRASE} 제{volume_no}권",
            "ko-Latn": f"Inmul chŏn'gi che {volume_no} kwŏn",
            "en": f"Biographies, volume {volume_no}",
        },
        "summary": _summary(biographies),
        "viewing_direction": "left-to-right",
        # Russian is found line by line: a mixed volume needs no language of its own.
        "ocr_languages": ["kor"],
    }
    tables: dict[str, list[dict[str, TomlValue]]] = {
        "metadata": _metadata(
            call_number=call_number,
            year=year,
            pages=pages,
            biographies=biographies,
            russian=russian,
        ),
        "ranges": [
            {
                "label": {
                    "ko": f"{b.person.role_ko} {b.person.name_ko} 전기",
                    "en": f"Biography of {b.person.name_en}, {b.person.role_en}",
                },
                "first": b.first,
                "last": b.last,
            }
            for b in biographies
        ],
    }
    return render_toml(values, tables, comment=_COMMENT)


def _summary(biographies: Sequence[Biography]) -> dict[str, str]:
    """Return the volume's summary in Korean and English (who the biographies are about)."""
    people = [b.person for b in biographies]
    roles_ko = ", ".join(p.role_ko for p in people)
    roles_en = ", ".join(f"a {p.role_en}" for p in people)
    return {
        "ko": (
            f"1990년대에 손으로 쓴 인물전기 원고이다. "
            f"{roles_ko} 등 {len(people)}명의 략력을 담고 있다."
        ),
        "en": (
            f"Handwritten biographical manuscript from the 1990s with {len(people)} short "
            f"biographies ({roles_en}). Synthetic sample; all persons are fictional."
        ),
    }


def _metadata(
    *, call_number: str, year: int, pages: int, biographies: Sequence[Biography], russian: bool
) -> list[dict[str, TomlValue]]:
    """Return the descriptor's metadata rows (label and value, in Korean and English)."""
    people = [b.person for b in biographies]
    lang_ko, lang_en = ("조선어, 로어", "Korean, Russian") if russian else ("조선어", "Korean")
    rows: list[tuple[dict[str, str], dict[str, str]]] = [
        (
            {"en": "Compiler", "ko": "편찬자"},
            {
                "ko": "도 력사자료실 전기편찬조",
                "en": "Provincial historical records office, biography group",
            },
        ),
        ({"en": "Date", "ko": "날자"}, {"ko": f"{year}년", "en": str(year)}),
        ({"en": "Language", "ko": "언어"}, {"ko": lang_ko, "en": lang_en}),
        (
            {"en": "Subject", "ko": "주제"},
            {
                "ko": "인물전기; " + "; ".join(p.role_ko for p in people),
                "en": "Biography; " + "; ".join(p.role_en.capitalize() + "s" for p in people),
            },
        ),
        (
            {"en": "Physical description", "ko": "형태"},
            {
                "ko": f"원고 {pages}장, 괘지에 손글씨",
                "en": f"{pages} leaves, handwritten on ruled paper",
            },
        ),
        ({"en": "Identifier", "ko": "청구번호"}, {"ko": call_number, "en": call_number}),
        (
            {"en": "Source collection", "ko": "원본 소장"},
            {
                "ko": "인물전기 원고 모음 (합성 표본)",
                "en": "Biographical manuscripts (synthetic sample)",
            },
        ),
    ]
    return [{"label": label, "value": value} for label, value in rows]


def render_toml(
    values: Mapping[str, TomlValue],
    tables: Mapping[str, Sequence[Mapping[str, TomlValue]]],
    *,
    comment: str,
) -> str:
    """Write TOML: a comment line, one line per value, then the arrays of tables.

    ``tomli_w`` would write a language map as a ``[section]`` and a list one item per line;
    a descriptor keeps each map on one line (``label = { ko = "...", en = "..." }``) and its
    comment, so the lines are laid out here and ``tomli_w`` writes every string in them.

    Args:
        values: Top-level keys and their values.
        tables: Arrays of tables (``[[metadata]]``), each a list of rows.
        comment: The first line (starting with ``#``).

    Returns:
        The TOML text, ending with a newline; ``tomllib`` reads back ``values`` and ``tables``.

    """
    lines = [comment, *(f"{_key(k)} = {_value(v)}" for k, v in values.items())]
    for name, rows in tables.items():
        for row in rows:
            lines += ["", f"[[{_key(name)}]]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def _value(value: TomlValue) -> str:
    """Return a string, a list of strings or a string map as one line of TOML."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_string(item) for item in value) + "]"
    return "{ " + ", ".join(f"{_key(k)} = {_string(v)}" for k, v in value.items()) + " }"


def _key(key: str) -> str:
    """Return a key bare when it is letters, digits and ``_``, else quoted (``"ko-Latn"``)."""
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(value: str) -> str:
    """Return ``value`` as a TOML basic string, escaped by ``tomli_w``."""
    return tomli_w.dumps({"v": value}).removeprefix("v = ").removesuffix("\n")
