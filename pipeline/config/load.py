"""Build the configuration: defaults, then a TOML file, then PIPELINE_* variables, then options."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.config.problems import describe_validation_error
from pipeline.config.sections import Config
from pipeline.errors import ConfigError

ENV_PREFIX = "PIPELINE_"
DEFAULT_CONFIG = Path("config") / "default.toml"


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
