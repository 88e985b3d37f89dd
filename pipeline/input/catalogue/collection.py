"""The collection's settings from a batch sheet's ``*`` row, under the configuration's own."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pipeline.config import CollectionConfig
from pipeline.input.catalogue.model import CatalogueEntry, entry_error

# Keys of a row that describe a collection, and the settings they give.
_KEYS = ("label", "summary", "rights", "required_statement", "homepage")


def _settings(entry: CatalogueEntry) -> dict[str, Any]:
    """The collection settings a row gives (not yet checked)."""
    data = {k: entry.data[k] for k in _KEYS if k in entry.data}
    if "homepage" in data:
        data["homepage"] = {"id": data["homepage"]}
    if "provider" in entry.data or "provider_url" in entry.data:
        provider: dict[str, Any] = {}
        if "provider" in entry.data:
            provider["label"] = entry.data["provider"]
        if "provider_url" in entry.data:
            provider["id"] = entry.data["provider_url"]
        data["provider"] = provider
    return data


def collection_settings(config: CollectionConfig, entry: CatalogueEntry | None) -> CollectionConfig:
    """The collection's settings: the configuration's, with the row filling those left default.

    A setting the configuration gives (anything but its built-in default) wins over the row,
    as a folder's ``volume.toml`` wins over its row.

    Args:
        config: The ``[collection]`` section.
        entry: The sheet's ``*`` row, if any.

    Returns:
        The settings the collection is built with.

    Raises:
        ConfigError: A value of the row is not valid, naming the row and column.
    """
    if entry is None:
        return config
    data = _settings(entry)
    try:
        row = CollectionConfig.model_validate(data)
    except ValidationError as exc:
        raise entry_error(entry, exc) from None
    defaults = CollectionConfig()
    update = {
        key: getattr(row, key) for key in data if getattr(config, key) == getattr(defaults, key)
    }
    return config.model_copy(update=update)
