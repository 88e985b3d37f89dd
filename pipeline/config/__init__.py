"""Typed, frozen configuration: defaults, then a TOML file, then PIPELINE_* variables, then CLI.

``sections`` holds the models, ``fields`` the value checks ``volume.toml`` shares, ``load``
the layering and ``problems`` the one-line-per-problem error messages.
"""

from __future__ import annotations

from pipeline.config.fields import (
    HomepageConfig,
    LabelValue,
    ManifestBehavior,
    Section,
    check_behaviors,
    check_http_url,
    check_ocr_languages,
    check_rights,
    expand_lang_map,
    ocr_language_list,
)
from pipeline.config.load import ENV_PREFIX, load_config, read_toml
from pipeline.config.problems import describe_validation_error
from pipeline.config.sections import (
    BagConfig,
    CacheControlConfig,
    CollectionConfig,
    CollectionRefConfig,
    Config,
    IngestConfig,
    ManifestConfig,
    OcrConfig,
    PdfConfig,
    ProviderConfig,
    PublishConfig,
    RunConfig,
    SearchConfig,
    ServeConfig,
    SiteConfig,
    TilesConfig,
)

__all__ = [
    "ENV_PREFIX",
    "BagConfig",
    "CacheControlConfig",
    "CollectionConfig",
    "CollectionRefConfig",
    "Config",
    "HomepageConfig",
    "IngestConfig",
    "LabelValue",
    "ManifestBehavior",
    "ManifestConfig",
    "OcrConfig",
    "PdfConfig",
    "ProviderConfig",
    "PublishConfig",
    "RunConfig",
    "SearchConfig",
    "Section",
    "ServeConfig",
    "SiteConfig",
    "TilesConfig",
    "check_behaviors",
    "check_http_url",
    "check_ocr_languages",
    "check_rights",
    "describe_validation_error",
    "expand_lang_map",
    "load_config",
    "ocr_language_list",
    "read_toml",
]
