"""Text in IIIF property values: language maps, cleaned string by string.

Which properties may carry HTML and how a string is cleaned is :mod:`pipeline.iiif.markup`'s;
this module applies it to language maps and turns what it removed into warnings and refusals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pipeline.iiif.markup import clean_plain_text, normalise, plain_text, safe_html

if TYPE_CHECKING:
    from pydantic import ValidationInfo

LangMap = dict[str, list[str]]

# The language keys the Presentation 3 JSON Schema and iiif-prezi3 accept.
LANGUAGE_KEY = re.compile(r"^(none|[a-zA-Z-]+)$")
EMPTIED = "nothing left after removing HTML the IIIF spec does not allow"
_HINTS = {
    True: "give plain text, or HTML with only a, b, br, i, img (with an http(s) src), p, small, "
    "span, sub, sup",
    False: "labels are plain text: give the text without markup",
}


def markup_warnings(value: Mapping[str, Sequence[str]] | str, where: str) -> list[str]:
    """Say, for each string of a plain-text language map, what removing markup took from it.

    Args:
        value: The language map (or bare string) as configured or described.
        where: The file and key it comes from, e.g. ``volume.toml: label``.

    Returns:
        One line per string that lost markup: the key, the language, what was given and what
        is published.

    """
    if isinstance(value, str):
        value = {"none": [value]}
    lines = []
    for lang, texts in value.items():
        for text in [texts] if isinstance(texts, str) else texts:
            cleaned, removed = clean_plain_text(text)
            if removed:
                lines.append(
                    f"{where}.{lang}: markup removed (labels are plain text): "
                    f"{_shown(text)} is published as {cleaned!r}"
                )
    return lines


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def lang_map(
    value: Mapping[str, Sequence[str]] | str, *, html_allowed: bool = False, keep_all: bool = False
) -> LangMap:
    """Clean a language map: every string sanitised, empty strings and languages dropped.

    Args:
        value: ``{"ko": ["..."], "en": ["..."]}``; a bare string means ``{"none": [...]}``.
        html_allowed: Whether the property may carry HTML (summary, metadata values).
        keep_all: Whether every string with text must survive sanitising: for statements
            (metadata, ``requiredStatement``, ``summary``), where dropping text could drop a
            legal attribution without anyone noticing. Blank strings are still dropped.

    Returns:
        The cleaned map (possibly empty).

    Raises:
        ValueError: A key is not a language tag the Presentation 3 schema accepts; or, with
            ``keep_all``, a string had text and sanitising left nothing.

    """
    if isinstance(value, str):
        value = {"none": [value]}
    clean = safe_html if html_allowed else plain_text
    out: LangMap = {}
    for lang, texts in value.items():
        if not LANGUAGE_KEY.match(lang):
            raise ValueError(f"{lang!r} is not a language tag such as 'ko', 'en' or 'ko-Latn'")
        kept: list[str] = []
        for text in [texts] if isinstance(texts, str) else texts:
            cleaned = clean(text)
            if cleaned:
                kept.append(cleaned)
            elif keep_all and normalise(text).strip():
                raise ValueError(f"{EMPTIED} ({lang}: {_shown(text)}); {_HINTS[html_allowed]}")
        if kept:
            out[lang] = kept
    return out


def check_plain_label(value: LangMap | None) -> LangMap | None:
    """Refuse a plain-text label that has text and that removing markup would leave empty.

    A pydantic field validator for the labels of configuration and descriptors, so that a
    label such as ``<script>...</script>`` stops the job before any work starts, naming the key.

    Args:
        value: The field's language map, if given.

    Returns:
        ``value`` unchanged: the stages clean it when they build the documents.

    Raises:
        ValueError: A string had text and removing markup left nothing.

    """
    if value is not None:
        lang_map(value, keep_all=True)
    return value


def check_label_value(value: LangMap, info: ValidationInfo) -> LangMap:
    """Refuse a label or value of a label/value pair that sanitising would remove.

    A pydantic field validator for the ``label`` and ``value`` fields of a configured pair
    (``requiredStatement``), so the problem stops the job before any work starts. ``value``
    may carry the allowed HTML; ``label`` is plain text.

    Args:
        value: The field's language map.
        info: Pydantic's validation info (``info.field_name`` says which field).

    Returns:
        ``value`` unchanged: the stages sanitise it when they build the documents.

    Raises:
        ValueError: A string had text and sanitising left nothing, or there is no text.

    """
    if not lang_map(value, html_allowed=info.field_name == "value", keep_all=True):
        raise ValueError("no text given")
    return value


def first_text(value: Mapping[str, Sequence[str]], prefer: Sequence[str] = ("en", "none")) -> str:
    """Return one string of a language map, for log lines and messages.

    Args:
        value: The language map.
        prefer: Languages to look at first, in order.

    Returns:
        The first string of the first preferred language that has one, else of any
        language, else ``""``.

    """
    for lang in (*prefer, *value):
        texts = value.get(lang)
        if texts:
            return texts[0]
    return ""
