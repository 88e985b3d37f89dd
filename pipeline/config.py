"""Typed, frozen configuration: defaults, then a TOML file, then PIPELINE_* variables, then CLI."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from pipeline.errors import ConfigError
from pipeline.iiif.text import check_label_value, check_plain_label
from pipeline.ocr.languages import tag_problem

ENV_PREFIX = "PIPELINE_"
DEFAULT_CONFIG = Path("config") / "default.toml"

LangMap = dict[str, list[str]]

# Letters only: the IIIF Presentation 3 schema and iiif-prezi3 refuse digits in language keys.
_LANG_TAG = re.compile(r"^(none|[a-zA-Z]{2,3}(-[a-zA-Z]{1,8})*)$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TESS_LANG = re.compile(r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$")


def _lang_map(value: Any) -> Any:
    """Accept ``{ko = "x"}`` as shorthand for ``{ko = ["x"]}`` and check the language tags."""
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


class Section(BaseModel):
    """Base of every config section: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LabelValue(Section):
    """A label/value pair of language maps (required statement, metadata entries)."""

    label: LangMap
    value: LangMap

    _maps = field_validator("label", "value", mode="before")(_lang_map)
    _kept = field_validator("label", "value")(check_label_value)


# -- IIIF vocabulary (manifest and collection stages) -------------------------------------------
_HTTP_URL = re.compile(r"^https?://[^/\s?#]+(/\S*)?$")
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
_PAGED: list[ManifestBehavior] = ["paged"]


def check_http_url(value: str) -> str:
    """Return ``value`` if it is an absolute http(s) URL without white space.

    Raises:
        ValueError: It is not.

    """
    if not _HTTP_URL.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


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


class HomepageConfig(Section):
    """A web page about a resource (the catalogue record, the institution's site)."""

    id: str
    label: LangMap | None = None
    language: list[str] = Field(default_factory=list)

    _maps = field_validator("label", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _url = field_validator("id")(check_http_url)

    @field_validator("language")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for tag in value:
            if tag == "none" or not _LANG_TAG.match(tag):
                raise ValueError(f"{tag!r} is not a language tag such as 'ko' or 'en'")
        return value


class CollectionRefConfig(Section):
    """A collection elsewhere that ours belongs to (``partOf``)."""

    id: str
    label: LangMap

    _maps = field_validator("label", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _url = field_validator("id")(check_http_url)


class ProviderConfig(Section):
    """The institution that holds the volumes."""

    id: str = "https://example.org/"
    label: LangMap = Field(default_factory=lambda: {"en": ["Example Library"]})
    homepage: str | None = None
    logo: str | None = None

    _maps = field_validator("label", mode="before")(_lang_map)
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

    _maps = field_validator("label", "summary", mode="before")(_lang_map)
    _label = field_validator("label")(check_plain_label)
    _behaviors = field_validator("behavior")(check_behaviors)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be letters, digits, '.', '_' or '-' (it becomes part of URLs)")
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

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError("must be an http(s) URL without query or fragment")
        return value if value.endswith("/") else value + "/"


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

    @field_validator("mirador_url")
    @classmethod
    def _mirador(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError("must be the http(s) URL of mirador.min.js")
        return value


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


class Config(Section):
    """The whole configuration of a job."""

    site: SiteConfig = Field(default_factory=SiteConfig)
    collection: CollectionConfig = Field(default_factory=CollectionConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    tiles: TilesConfig = Field(default_factory=TilesConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    manifest: ManifestConfig = Field(default_factory=ManifestConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    bag: BagConfig = Field(default_factory=BagConfig)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_env_value(raw: str) -> Any:
    """Read a variable's value as a TOML value (numbers, booleans, arrays), else as a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn ``PIPELINE_TILES__QUALITY=90`` into ``{"tiles": {"quality": 90}}``."""
    out: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = _parse_env_value(raw)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every problem into a one-line ConfigError naming the file.

    Args:
        path: The file to read.

    Returns:
        The parsed document.

    Raises:
        ConfigError: The file is missing, unreadable or not valid TOML.
    """
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside a field's type (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def known_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the table holding the key at ``loc`` accepts (for "did you mean").

    Args:
        model: The model of the whole document (``Config``, ``Descriptor``).
        loc: The key path of an error, as pydantic gives it (list indexes included).

    Returns:
        The accepted keys, or ``[]`` when the path leaves the models.

    """
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current is not None else None
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return []
    return list(current.model_fields) if current is not None else []


def validation_problems(
    exc: ValidationError, model: type[BaseModel] | None = None
) -> list[tuple[list[str], str]]:
    """Every problem pydantic found: its key path and the reason, in the order it reports them.

    An unknown key gets the closest key the table accepts, when one is close
    (``lable`` -> ``label``, ``tiles.qualty`` -> ``quality``).

    Args:
        exc: The validation error.
        model: The model that was validated, for the suggestions.

    Returns:
        ``(key path, reason)`` pairs, without repeats.

    """
    problems: list[tuple[list[str], str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            close = difflib.get_close_matches(
                loc[-1], known_keys(model, err["loc"]) if model else [], n=1
            )
            if close:
                msg += f" (did you mean {close[0]!r}?)"
        if (loc, msg) not in problems:
            problems.append((loc, msg))
    return problems


def describe_validation_error(
    source: str,
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    *,
    blame: Callable[[list[str]], str] | None = None,
) -> str:
    """Format every problem as a line ``source: key.path: reason``.

    Args:
        source: The file (or other origin) of the values.
        exc: The validation error.
        model: The model that was validated, for "did you mean" suggestions.
        blame: Gives the origin of the value at a key path when it is not ``source`` alone
            (an environment variable, a command-line option).

    Returns:
        One line per problem, joined by newlines.

    """
    lines = []
    for loc, msg in validation_problems(exc, model):
        where = ".".join(loc) or "(top level)"
        lines.append(f"{blame(loc) if blame else source}: {where}: {msg}")
    return "\n".join(lines)


def _leaf_at(tree: Mapping[str, Any], keys: list[str], *, table: bool = False) -> bool:
    """Whether ``tree`` gives a value (not a table to merge into) at the key path ``keys``.

    With ``table``, a table counts too: the error is about that table itself (a language map).
    """
    node: Any = tree
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return table or not isinstance(node, Mapping)


def _blame(
    keys: list[str],
    file_source: str,
    env: Mapping[str, Any],
    overrides: Mapping[str, Any],
    option_names: Mapping[str, str],
) -> str:
    """Which layer set the value at a key path: an option, a variable or the file.

    The command line wins over variables and variables over the file, so the deepest part
    of the key path that one of them sets, checked in that order, is where the value came from.
    """
    for n in range(len(keys), 0, -1):
        whole = n == len(keys)
        if _leaf_at(overrides, keys[:n], table=whole):
            return option_names.get(".".join(keys[:n]), "command line")
        if _leaf_at(env, keys[:n], table=whole):
            return ENV_PREFIX + "__".join(keys[:n]).upper()
    return file_source


def load_config(
    path: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Config:
    """Build the job configuration.

    Args:
        path: A TOML file; ``None`` uses ``config/default.toml`` when it exists in the current
            folder, else the built-in defaults.
        overrides: Values from the command line, nested by section.
        environ: Environment to read ``PIPELINE_SECTION__KEY`` variables from.
        option_names: The command-line option behind each dotted key of ``overrides``
            (``{"site.base_url": "--base-url"}``), named by errors in the value.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: Naming, for every problem on a line of its own, the file, variable or
            option and the key at fault.
    """
    data: dict[str, Any] = {}
    source = "built-in defaults"
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    if path is not None:
        data = read_toml(path)
        source = str(path)
    env = _env_overrides(os.environ if environ is None else environ)
    data = _merge(data, env)
    data = _merge(data, overrides or {})
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        names = option_names or {}
        message = describe_validation_error(
            source,
            exc,
            Config,
            blame=lambda keys: _blame(keys, source, env, overrides or {}, names),
        )
        raise ConfigError(message) from None
