"""Value checks and small models shared by the job configuration and ``volume.toml``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.iiif.text import LangMap, check_label_value, check_plain_label
from pipeline.ocr.languages import tag_problem

# Letters only: the IIIF Presentation 3 schema and iiif-prezi3 refuse digits in language keys.
_LANG_TAG = re.compile(r"^(none|[a-zA-Z]{2,3}(-[a-zA-Z]{1,8})*)$")
_TESS_LANG = re.compile(r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$")
_HTTP_URL = re.compile(r"^https?://[^/\s?#]+(/\S*)?$")
_BASE_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
# http:// is what the Presentation 3 spec and its JSON Schema require for these two vocabularies.
_RIGHTS = re.compile(
    r"^http://(rightsstatements\.org/vocab/"
    r"(InC|InC-OW-EU|InC-EDU|InC-NC|InC-RUU|NoC-CR|NoC-NC|NoC-OKLR|NoC-US|CNE|UND|NKC)/1\.0/"
    r"|creativecommons\.org/licenses/(by|by-sa|by-nd|by-nc|by-nc-sa|by-nc-nd)/[1-4]\.[05]/"
    r"([a-z]{2}/)?"
    r"|creativecommons\.org/publicdomain/(zero|mark)/1\.0/)$"
)
ManifestBehavior = Literal[
    "paged", "continuous", "individuals", "unordered",
    "auto-advance", "no-auto-advance", "repeat", "no-repeat",
]  # fmt: skip
CollectionBehavior = Literal[
    "multi-part", "together", "individuals", "unordered", "paged", "continuous",
    "auto-advance", "no-auto-advance", "repeat", "no-repeat",
]  # fmt: skip
_LAYOUT_BEHAVIORS = frozenset({"paged", "continuous", "individuals", "unordered"})


def expand_lang_map(value: Any) -> Any:
    """Accept ``{ko = "x"}`` as shorthand for ``{ko = ["x"]}`` and check the language tags.

    A pydantic before-validator; a bare string means ``{none = ["x"]}``.

    Raises:
        ValueError: A key is not a language tag.

    """
    if isinstance(value, str):
        return {"none": [value]}
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not _LANG_TAG.match(lang):
            raise ValueError(f"{lang!r} is not a language tag such as 'ko', 'en' or 'ko-Latn'")
        out[lang] = [text] if isinstance(text, str) else text
    return out


def check_http_url(value: str) -> str:
    """Return ``value`` if it is an absolute http(s) URL without white space.

    Raises:
        ValueError: It is not.

    """
    if not _HTTP_URL.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def check_base_url(value: str) -> str:
    """Return ``value``, ending with ``/``, if it is an http(s) URL to put paths after.

    Raises:
        ValueError: It is not http(s), or it has a query or a fragment.

    """
    if not _BASE_URL.match(value):
        raise ValueError("must be an http(s) URL without query or fragment")
    return value if value.endswith("/") else value + "/"


def check_rights(value: str) -> str:
    """Return ``value`` if it is a rightsstatements.org or Creative Commons URI IIIF accepts.

    Raises:
        ValueError: It is not, with what to write instead.

    """
    if _RIGHTS.match(value):
        return value
    hint = ""
    if value.startswith("https://"):
        hint = " (IIIF requires the http:// form of these URIs)"
    elif not value.endswith("/"):
        hint = " (these URIs end with '/')"
    raise ValueError(
        f"{value!r} is not a rightsstatements.org or Creative Commons URI{hint}, e.g. "
        "http://rightsstatements.org/vocab/InC/1.0/ or http://creativecommons.org/licenses/by/4.0/"
    )


def check_behaviors(value: list[str]) -> list[str]:
    """Refuse two layout behaviors at once (``paged`` and ``continuous``, ...).

    Raises:
        ValueError: More than one of paged, continuous, individuals, unordered.

    """
    layout = [b for b in value if b in _LAYOUT_BEHAVIORS]
    if len(layout) > 1:
        raise ValueError(f"{' and '.join(layout)} exclude each other: choose one")
    return value


def ocr_language_list(value: Any) -> Any:
    """Accept ``"kor+rus"`` as shorthand for ``["kor+rus"]`` (a pydantic before-validator)."""
    return [value] if isinstance(value, str) else value


def check_ocr_languages(value: list[str]) -> list[str]:
    """Return ``value`` if it is a non-empty list of tesseract language names.

    A language tag in place of a model name (``ko``, ``zh-Hant``) is refused with the model
    to write and the Debian package that ships it, rather than read as that model: the file
    then says what the job runs, and nothing starts with a value nobody wrote.

    Raises:
        ValueError: The list is empty, a name is a language tag (saying which model to
            write), or a name is not one tesseract would accept.

    """
    if not value:
        raise ValueError("give at least one tesseract language such as 'kor'")
    for lang in value:
        problem = tag_problem(lang)
        if problem is not None:
            raise ValueError(problem)
        if not _TESS_LANG.match(lang):
            raise ValueError(f"{lang!r} is not a tesseract language name such as 'kor'")
    return value


class Section(BaseModel):
    """Base of every config section: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LabelValue(Section):
    """A label/value pair of language maps (required statement, metadata entries)."""

    label: LangMap
    value: LangMap

    _maps = field_validator("label", "value", mode="before")(expand_lang_map)
    _kept = field_validator("label", "value")(check_label_value)


class HomepageConfig(Section):
    """A web page about a resource (the catalogue record, the institution's site)."""

    id: str
    label: LangMap | None = None
    language: list[str] = Field(default_factory=list)

    _maps = field_validator("label", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)
    _url = field_validator("id")(check_http_url)

    @field_validator("language")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for tag in value:
            if tag == "none" or not _LANG_TAG.match(tag):
                raise ValueError(f"{tag!r} is not a language tag such as 'ko' or 'en'")
        return value
