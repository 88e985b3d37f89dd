"""IIIF building blocks shared by the manifest and collection stages (all iiif-prezi3 objects)."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from iiif_prezi3 import (
    AnnotationBody,
    Class,
    Homepage,
    KeyValueString,
    LinkedResource,
    Provider,
    ServiceV3,
)

from pipeline.errors import ManifestError
from pipeline.iiif.labels import FIELD_LABELS, LINK_LABELS
from pipeline.iiif.models import Make
from pipeline.iiif.text import LangMap, lang_map

IMAGE_SERVICE_TYPE = "ImageService3"
IMAGE_PROFILE = "level0"
TILE_FORMAT = "image/jpeg"

HOCR_PROFILE = "http://kba.github.io/hocr-spec/1.2/"


class LabelValueLike(Protocol):
    """A configured or described label/value pair (``requiredStatement``)."""

    @property
    def label(self) -> LangMap: ...  # noqa: D102

    @property
    def value(self) -> LangMap: ...  # noqa: D102


class HomepageLike(Protocol):
    """A configured or described homepage: its URL, optional label and languages."""

    @property
    def id(self) -> str: ...  # noqa: D102

    @property
    def label(self) -> LangMap | None: ...  # noqa: D102

    @property
    def language(self) -> list[str]: ...  # noqa: D102


class ProviderLike(Protocol):
    """The configured institution: id, label, homepage and logo URLs."""

    @property
    def id(self) -> str: ...  # noqa: D102

    @property
    def label(self) -> LangMap: ...  # noqa: D102

    @property
    def homepage(self) -> str | None: ...  # noqa: D102

    @property
    def logo(self) -> str | None: ...  # noqa: D102


def text_map(value: Mapping[str, Sequence[str]] | str, where: str) -> LangMap:
    """Return a plain-text language map (labels), every string of which must keep its text.

    Markup is removed (:func:`pipeline.iiif.markup.clean_plain_text`; the stages report what it
    took with :func:`pipeline.iiif.text.markup_warnings`); a string that had text and that
    removing markup empties is an error, never a label that silently disappears.

    Args:
        value: The language map (or bare string) as configured or described.
        where: The file and key it comes from, for the message.

    Returns:
        The sanitised language map (empty only if every string was blank: callers fall back
        to an id).

    Raises:
        ManifestError: A language key the IIIF schema refuses, or a string that had text
            and that removing markup empties.

    """
    try:
        return lang_map(value, keep_all=True)
    except ValueError as exc:
        raise ManifestError(f"{where}: {exc}") from None


def statement_map(
    value: Mapping[str, Sequence[str]] | str, where: str, *, html_allowed: bool
) -> LangMap:
    """Return the language map of a statement, every string of which must survive sanitising.

    For ``summary`` and the labels and values of ``metadata`` and ``requiredStatement``: text
    there may be a legal attribution, so text that sanitising would remove is an error the
    user sees, never silently left out.

    Args:
        value: The language map (or bare string) as configured or described.
        where: The file and key it comes from, for the message.
        html_allowed: Whether the property may carry HTML (summary and values).

    Returns:
        The sanitised language map; empty only if every string was blank.

    Raises:
        ManifestError: A language key the IIIF schema refuses, or a string that had text
            and that sanitising empties.

    """
    try:
        return lang_map(value, html_allowed=html_allowed, keep_all=True)
    except ValueError as exc:
        raise ManifestError(f"{where}: {exc}") from None


def label_value(label: LangMap, value: LangMap, where: str) -> KeyValueString:
    """Return a metadata or ``requiredStatement`` entry.

    Args:
        label: Its label (plain text).
        value: Its value (may carry the allowed HTML).
        where: The file and key of the entry, e.g. ``volume.toml: metadata[3]``.

    Returns:
        The entry.

    Raises:
        ManifestError: The label or the value is blank, or sanitising leaves nothing of
            one of their strings (see :func:`statement_map`).

    """
    maps = {
        "label": statement_map(label, f"{where}.label", html_allowed=False),
        "value": statement_map(value, f"{where}.value", html_allowed=True),
    }
    for key, text in maps.items():
        if not text:
            raise ManifestError(f"{where}.{key}: no text given")
    return KeyValueString(**maps)


def catalogue_entry(name: str, value: LangMap, where: str) -> KeyValueString | None:
    """Return the metadata entry of a catalogue field, labelled in the collection's languages.

    Args:
        name: The field (a key of :data:`FIELD_LABELS`).
        value: Its value as described.
        where: The file and key it comes from, for the message.

    Returns:
        The entry, or ``None`` when the field is blank (nothing to show, nothing lost).

    Raises:
        ManifestError: Sanitising leaves nothing of one of its strings.

    """
    text = statement_map(value, where, html_allowed=True)
    return KeyValueString(label=FIELD_LABELS[name], value=text) if text else None


def required_statement(
    statement: LabelValueLike | Mapping[str, Any] | None, where: str
) -> KeyValueString | None:
    """Return the ``requiredStatement`` from config or a descriptor.

    Args:
        statement: The configured or described label/value pair, if any.
        where: The file and key it comes from, for the message.

    Returns:
        The entry, or ``None`` when there is no statement.

    Raises:
        ManifestError: Sanitising leaves nothing of its label, its value or one of their
            strings.

    """
    if statement is None:
        return None
    if isinstance(statement, Mapping):
        return label_value(statement["label"], statement["value"], where)
    return label_value(statement.label, statement.value, where)


def image_format(url: str) -> str | None:
    """Return the media type of an image URL from its suffix (logos), if recognisable.

    Args:
        url: The image's URL.

    Returns:
        An ``image/*`` media type, or ``None``.

    """
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0], strict=False)
    return guessed if guessed and guessed.startswith("image/") else None


def homepage(config: HomepageLike, fallback_label: LangMap) -> Homepage:
    """Return a ``homepage`` entry: an HTML page, labelled (the spec requires a label).

    Args:
        config: The configured or described homepage (``id``, optional ``label``, ``language``).
        fallback_label: The label to use when it has none (the resource's own label).

    Returns:
        The entry.

    Raises:
        ManifestError: A language key the IIIF schema refuses.
        pydantic.ValidationError: iiif-prezi3 refuses a value (the stages report it with
            :func:`pipeline.iiif.models.manifest_errors`).

    """
    return _homepage(config.id, config.label or fallback_label, config.language)


def _homepage(url: str, label: LangMap, language: Sequence[str]) -> Homepage:
    return Homepage(
        id=url,
        type="Text",
        label=text_map(label, "homepage.label"),
        format="text/html",
        language=list(language) or None,
    )


def provider(config: ProviderLike) -> Provider:
    """Return the ``provider`` agent: the institution, with its homepage and logo.

    Args:
        config: The ``collection.provider`` section.

    Returns:
        The agent.

    Raises:
        ManifestError: A language key the IIIF schema refuses.
        pydantic.ValidationError: iiif-prezi3 refuses a value (the stages report it with
            :func:`pipeline.iiif.models.manifest_errors`).

    """
    label = text_map(config.label, "collection.provider.label")
    pages = [_homepage(config.homepage, label, ())] if config.homepage else None
    logo = None
    if config.logo:
        logo = [AnnotationBody(id=config.logo, type="Image", format=image_format(config.logo))]
    return Provider(id=config.id, type="Agent", label=label, homepage=pages, logo=logo)


def collection_link(label: LangMap, collection_url: str) -> Class:
    """Return a ``partOf`` entry pointing at a collection.

    Args:
        label: The collection's label.
        collection_url: The collection's id (the URL of its JSON).

    Returns:
        The entry.

    Raises:
        ManifestError: A language key the IIIF schema refuses.
        pydantic.ValidationError: iiif-prezi3 refuses a value (the stages report it with
            :func:`pipeline.iiif.models.manifest_errors`).

    """
    return Class(id=collection_url, type="Collection", label=text_map(label, "collection label"))


def nav_date(value: str | None) -> datetime | None:
    """Return the ``navDate`` of a descriptor.

    Args:
        value: The descriptor's ``nav_date``, already normalised to ISO 8601 UTC (``...Z``).

    Returns:
        The moment, or ``None`` when there is none.

    """
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def image_resource(make: Make, url: str, width: int, height: int, service_id: str) -> Any:
    """Return an image of a level-0 IIIF Image service: the painted image or a thumbnail.

    Args:
        make: The factory (:func:`pipeline.iiif.models.plain` or ``validated``).
        url: The image's URL (a size the tile set holds).
        width: Its width in pixels.
        height: Its height in pixels.
        service_id: The id of the image service it belongs to.

    Returns:
        The image resource.

    Raises:
        pydantic.ValidationError: With :func:`pipeline.iiif.models.validated` as ``make``,
            iiif-prezi3 refuses a value.

    """
    service = [make(ServiceV3, id=service_id, type=IMAGE_SERVICE_TYPE, profile=IMAGE_PROFILE)]
    return make(
        AnnotationBody,
        id=url,
        type="Image",
        format=TILE_FORMAT,
        width=width,
        height=height,
        service=service,
    )


def link(make: Make, url: str, kind: str, type_: str, fmt: str, profile: str | None = None) -> Any:
    """Return a ``seeAlso`` or ``rendering`` entry with one of the pipeline's own labels.

    Args:
        make: The factory (:func:`pipeline.iiif.models.plain` or ``validated``).
        url: The linked file's URL.
        kind: Which label of :data:`LINK_LABELS` it gets.
        type_: The resource ``type`` (``Dataset``, ``Text``).
        fmt: Its media type.
        profile: The format's profile URI, if any.

    Returns:
        The entry.

    Raises:
        pydantic.ValidationError: With :func:`pipeline.iiif.models.validated` as ``make``,
            iiif-prezi3 refuses a value.

    """
    return make(
        LinkedResource, id=url, type=type_, label=LINK_LABELS[kind], format=fmt, profile=profile
    )
