"""The sections of the job configuration and the ``Config`` model that holds them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from pipeline.config.fields import (
    CollectionBehavior,
    HomepageConfig,
    LabelValue,
    ManifestBehavior,
    Section,
    check_base_url,
    check_behaviors,
    check_http_url,
    check_ocr_languages,
    check_rights,
    expand_lang_map,
    ocr_language_list,
)
from pipeline.iiif.text import LangMap, check_plain_label
from pipeline.layout import ID_RULE, SAFE_ID

_PAGED: list[ManifestBehavior] = ["paged"]


class CollectionRefConfig(Section):
    """A collection elsewhere that ours belongs to (``partOf``)."""

    id: str
    label: LangMap

    _maps = field_validator("label", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)
    _url = field_validator("id")(check_http_url)


class ProviderConfig(Section):
    """The institution that holds the volumes."""

    id: str = "https://example.org/"
    label: LangMap = Field(default_factory=lambda: {"en": ["Example Library"]})
    homepage: str | None = None
    logo: str | None = None

    _maps = field_validator("label", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)
    _urls = field_validator("id", "homepage", "logo")(
        lambda v: v if v is None else check_http_url(v)
    )


class CollectionConfig(Section):
    """What the published collection is called and the terms it is published under."""

    id: str = "collection"
    label: LangMap = Field(default_factory=lambda: {"en": ["Collection"]})
    summary: LangMap | None = None
    rights: str | None = None
    required_statement: LabelValue | None = None
    provider: ProviderConfig | None = None
    homepage: HomepageConfig | None = None
    behavior: list[CollectionBehavior] = Field(default_factory=list)
    parent: CollectionRefConfig | None = None

    _maps = field_validator("label", "summary", mode="before")(expand_lang_map)
    _label = field_validator("label")(check_plain_label)
    _behaviors = field_validator("behavior")(check_behaviors)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SAFE_ID.match(value):
            raise ValueError(f"must be {ID_RULE} (it becomes part of URLs)")
        return value

    @field_validator("rights")
    @classmethod
    def _rights(cls, value: str | None) -> str | None:
        return None if value is None else check_rights(value)


class SiteConfig(Section):
    """Where the output is built and the public URL it will be served at."""

    base_url: str = "http://127.0.0.1:8000/"
    scans: Path = Path("scans")
    out: Path = Path("manifests")
    catalogue: Path | None = None
    catalogue_sheet: str | None = None
    catalogue_match: str = "call_number"

    @field_validator("catalogue_match")
    @classmethod
    def _match(cls, value: str) -> str:
        if value != "call_number" and not re.match(r"^\d{3}[a-z0-9]?$", value):
            raise ValueError("give 'call_number' or a MARC field such as '001' or '035a'")
        return value

    #: Human and HTR text, one folder per volume; ``None``: ``transcriptions`` beside ``scans``.
    transcriptions: Path | None = None

    @property
    def transcriptions_dir(self) -> Path:
        """The transcriptions folder: as set, else ``transcriptions`` beside the scans folder."""
        return self.transcriptions or self.scans.parent / "transcriptions"

    _url = field_validator("base_url")(check_base_url)


class RunConfig(Section):
    """How a job runs."""

    workers: int = Field(default=0, ge=0, le=512)
    executor: Literal["local", "dask"] = "local"
    scheduler: str | None = None
    worker_wait_s: float = Field(default=120.0, gt=0)
    fail_fast: bool = False

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
            r"^((tcp|tls|ucx|ws|wss)://\S+|[^\s/:]+:\d+)$", value
        ):
            raise ValueError("must be a Dask scheduler address such as tcp://host:8786")
        return value


MasterFormat = Literal["tiff", "jpeg", "png", "jp2k"]
_DEFAULT_FORMATS: list[MasterFormat] = ["tiff", "jpeg", "png", "jp2k"]


class IngestConfig(Section):
    """What makes a master acceptable."""

    max_pixels: int = Field(default=1_000_000_000, ge=1)
    min_side: int = Field(default=32, ge=1)
    formats: list[MasterFormat] = Field(
        default_factory=lambda: _DEFAULT_FORMATS.copy(), min_length=1
    )


class TilesConfig(Section):
    """The IIIF Image API level-0 pyramid."""

    tile_size: int = Field(default=512, ge=64, le=4096)
    quality: int = Field(default=85, ge=1, le=100)
    max_full_side: int = Field(default=2048, ge=0)
    max_size_side: int = Field(default=1024, ge=1)
    pyramid_tiff: bool = False
    pyramid_tiff_quality: int = Field(default=90, ge=1, le=100)


class OcrConfig(Section):
    """Tesseract settings."""

    enabled: bool = True
    languages: list[str] = Field(default_factory=lambda: ["kor"], min_length=1)
    line_languages: list[str] = Field(default_factory=lambda: ["rus", "eng"])
    psm: int = Field(default=4, ge=0, le=13)
    vertical_psm: int = Field(default=5, ge=0, le=13)
    timeout_s: float = Field(default=300.0, gt=0)
    dpi: int = Field(default=150, ge=0, le=1200)
    assume_dpi: int = Field(default=300, ge=50, le=4800)
    binarize: Literal["wolf", "sauvola", "otsu", "none"] = "wolf"
    deskew: bool = False
    crop_border: bool = True
    normalize_background: bool = False
    reread_dpi: int = Field(default=200, ge=0, le=1200)
    reread_confidence: float = Field(default=0.0, ge=0, le=100)
    review_confidence: float = Field(default=85.0, ge=0, le=100)
    publish_low_confidence: bool = True
    alto_version: Literal[3, 4] = 4

    _lang_list = field_validator("languages", mode="before")(ocr_language_list)
    _langs = field_validator("languages")(lambda v: check_ocr_languages(v))
    _line_lang_list = field_validator("line_languages", mode="before")(ocr_language_list)

    @field_validator("line_languages")
    @classmethod
    def _line_langs(cls, value: list[str]) -> list[str]:
        for lang in value:
            if "+" in lang:
                raise ValueError(f"{lang!r}: one model per entry, tried in order (rus, eng)")
        return value and check_ocr_languages(value)

    @field_validator("psm", "vertical_psm")
    @classmethod
    def _psm(cls, value: int, info: ValidationInfo) -> int:
        if value in (0, 2):
            usual = 5 if info.field_name == "vertical_psm" else 4
            raise ValueError(
                f"page segmentation mode {value} finds layout only, no text; use {usual}"
            )
        return value

    def psm_for(self, lang: str) -> int:
        """The page segmentation mode for a ``+``-joined language spec.

        Vertical models (``kor_vert``, ``chi_tra_vert``, ...) read nothing at all with the
        horizontal modes (measured: ``--psm 4`` returns no text on a page of vertical Korean
        columns, ``--psm 5`` reads it): pages read only with vertical models use
        ``vertical_psm``.
        """
        if all(part.endswith("_vert") for part in lang.split("+")):
            return self.vertical_psm
        return self.psm


class ManifestConfig(Section):
    """IIIF Presentation 3 manifest options."""

    behavior: list[ManifestBehavior] = Field(default_factory=lambda: _PAGED.copy())
    allow_partial: bool = False
    ocr_links: bool = True

    _behaviors = field_validator("behavior")(check_behaviors)


class PdfConfig(Section):
    """The searchable PDF of each volume: page images from the derivatives, OCR text on them."""

    enabled: bool = True
    max_side: int = Field(default=1024, ge=0)
    quality: int = Field(default=85, ge=1, le=100)
    dpi: int = Field(default=300, ge=50, le=4800)


class CacheControlConfig(Section):
    """The ``Cache-Control`` header of each kind of published object."""

    tiles: str = "public, max-age=2592000"
    info: str = "public, max-age=3600"
    manifests: str = "public, max-age=300"
    annotations: str = "public, max-age=3600"
    ocr: str = "public, max-age=3600"
    other: str = "public, max-age=3600"


_S3_TARGET = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")


class PublishConfig(Section):
    """Where and how ``pipeline publish`` uploads the output folder."""

    target: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    threads: int = Field(default=16, ge=1, le=256)
    max_attempts: int = Field(default=5, ge=1, le=20)
    multipart_threshold_mb: int = Field(default=64, ge=5, le=5120)
    multipart_chunk_mb: int = Field(default=16, ge=5, le=5120)
    cors: bool = False
    check: Literal["head", "list"] = "list"
    cache_control: CacheControlConfig = Field(default_factory=CacheControlConfig)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is None or not value.startswith("s3:"):
            return value
        if not _S3_TARGET.match(value):
            raise ValueError("must be s3://BUCKET or s3://BUCKET/PREFIX with a valid bucket name")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s?#@]+/?$", value):
            raise ValueError(
                "must be an http(s) URL such as https://s3.example.org, without a path or "
                "credentials (credentials come from the AWS environment variables or profile)"
            )
        return value


class ServeConfig(Section):
    """The local preview server (``pipeline serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    mirador_url: str | None = None
    editor: str = ""
    allow_edits: bool = False

    @field_validator("mirador_url")
    @classmethod
    def _mirador(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError("must be the http(s) URL of mirador.min.js")
        return value


class SearchConfig(Section):
    """Where the IIIF Content Search services of the manifests answer."""

    url: str | None = None

    _url = field_validator("url")(lambda v: v if v is None else check_base_url(v))


class BagConfig(Section):
    """What ``pipeline export-bag`` writes into bag-info.txt, and whether tiles go in the bag."""

    source_organization: str | None = None
    organization_address: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    tiles: bool = False

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError("must be an e-mail address")
        return value


TextKindName = Literal["human", "htr", "ocr"]
_PRECEDENCE: tuple[TextKindName, ...] = ("human", "htr", "ocr")


class TranscriptionsConfig(Section):
    """Which text a page shows when it has more than one, and whether the OCR stays visible."""

    precedence: list[TextKindName] = Field(default_factory=lambda: list(_PRECEDENCE))
    machine_layer: bool = False

    @field_validator("precedence")
    @classmethod
    def _precedence(cls, value: list[TextKindName]) -> list[TextKindName]:
        if not value:
            raise ValueError('must name at least one of "human", "htr", "ocr"')
        if len(set(value)) != len(value):
            raise ValueError("names a kind twice")
        return value


class Config(Section):
    """The whole configuration of a job."""

    site: SiteConfig = Field(default_factory=SiteConfig)
    collection: CollectionConfig = Field(default_factory=CollectionConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    tiles: TilesConfig = Field(default_factory=TilesConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    manifest: ManifestConfig = Field(default_factory=ManifestConfig)
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    bag: BagConfig = Field(default_factory=BagConfig)
    transcriptions: TranscriptionsConfig = Field(default_factory=TranscriptionsConfig)
