"""Configuration: errors name the file and key; every setting is documented in default.toml."""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from tests.conftest import run_cli

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "config" / "default.toml"

_TABLE = re.compile(r"^\s*\[([A-Za-z0-9_.]+)\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def _documented() -> dict[tuple[str, str], str]:
    """(table, key) -> its line, for every key of default.toml that carries a comment.

    A key counts with its default (``key = 1  # what it does``) or commented out because it
    has no default (``# key = "example"  # what it does``).
    """
    found: dict[tuple[str, str], str] = {}
    table = ""
    for line in DEFAULT_TOML.read_text(encoding="utf-8").splitlines():
        if match := _TABLE.match(line):
            table = match[1]
            continue
        match = _KEY.match(line)
        if not match:
            continue
        rest = match[3]
        if "#" in _without_strings(rest):
            found[(table, match[2])] = line
    return found


def _without_strings(text: str) -> str:
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The config model a field holds (through ``X | None``), if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _model_of(arg)
            if model is not None:
                return model
    return None


def _fields(
    model: type[BaseModel], table: str
) -> Iterator[tuple[str, str, type[BaseModel] | None]]:
    for name, info in model.model_fields.items():
        yield table, name, _model_of(info.annotation)


def _settings() -> list[Any]:
    """Every (table, key) a site file can set, as pytest params."""
    params = []
    tables = {t for t, _ in _documented()}
    pending = [(name, _model_of(info.annotation)) for name, info in Config.model_fields.items()]
    for section, model in pending:
        assert model is not None, section
        for table, key, sub in _fields(model, section):
            if sub is not None and f"{table}.{key}" in tables:
                # A sub-table such as [publish.cache_control]: each of its keys is documented.
                for sub_table, sub_key, _ in _fields(sub, f"{table}.{key}"):
                    params.append(
                        pytest.param(sub_table, sub_key, None, id=f"{sub_table}.{sub_key}")
                    )
            else:
                params.append(pytest.param(table, key, sub, id=f"{table}.{key}"))
    return params


@pytest.mark.parametrize(("table", "key", "inline"), _settings())
def test_every_setting_is_documented(table: str, key: str, inline: type[BaseModel] | None) -> None:
    documented = _documented()
    assert (table, key) in documented, (
        f"config/default.toml has no commented line for {table}.{key}: add "
        f"'{key} = <default>  # what it does' under [{table}] (or '# {key} = <example>  # ...' "
        "when it has no default)"
    )
    if inline is not None:
        # An inline table (provider = { id = ..., label = ... }): its keys appear on the line.
        line = documented[(table, key)]
        for sub in inline.model_fields:
            assert re.search(rf"\b{sub}\b", line), f"{table}.{key}.{sub} is not shown on: {line}"


def test_default_toml_holds_the_true_defaults() -> None:
    """What default.toml says is what you get without it."""
    assert load_config(DEFAULT_TOML, environ={}) == Config()


def test_default_toml_sections_are_all_known() -> None:
    tables = {t.split(".")[0] for t, _ in _documented()} - {""}
    assert tables <= set(Config.model_fields), tables - set(Config.model_fields)


# -- validation ----------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("[tiles]\nqualty = 90\n", r"tiles\.qualty: unknown key", id="unknown-key"),
        pytest.param("[tilez]\n", r"tilez: unknown key", id="unknown-section"),
        pytest.param(
            "[tiles]\nquality = 500\n", r"tiles\.quality: .*less than or equal to 100", id="range"
        ),
        pytest.param('[tiles]\nquality = "high"\n', r"tiles\.quality: .*integer", id="type"),
        pytest.param("[tiles\n", "not valid TOML", id="malformed"),
        pytest.param(
            '[site]\nbase_url = "ftp://x/"\n', r"site\.base_url: must be an http", id="url"
        ),
        pytest.param(
            '[collection]\nid = "a b"\n',
            r"collection\.id: must be up to 128 letters, digits, '\.', '_' and '-', starting with "
            r"a letter or digit \(it becomes part of URLs\)",
            id="slug",
        ),
        pytest.param(
            '[collection]\nrights = "http://example.org/mine"\n',
            "rightsstatements.org",
            id="rights",
        ),
        pytest.param('[ocr]\nlanguages = ["ko rean"]\n', "tesseract language", id="ocr-language"),
        pytest.param("[ocr]\nlanguages = []\n", r"ocr\.languages", id="ocr-no-language"),
        pytest.param('[ingest]\nformats = ["gif"]\n', r"ingest\.formats\.0", id="ingest-format"),
        pytest.param("[ingest]\nformats = []\n", r"ingest\.formats", id="ingest-no-format"),
        pytest.param("[ingest]\nmin_side = 0\n", r"ingest\.min_side", id="min-side"),
        pytest.param("[ingest]\nmax_pixels = -5\n", r"ingest\.max_pixels", id="max-pixels"),
        pytest.param(
            '[bag]\ncontact_email = "nobody"\n',
            r"bag\.contact_email: must be an e-mail",
            id="email",
        ),
        pytest.param('[run]\nexecutor = "cloud"\n', r"run\.executor", id="executor"),
    ],
)
def test_bad_site_files_fail_naming_file_and_key(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path, environ={})
    assert str(info.value).startswith(str(path)), info.value
    assert "\n" not in str(info.value)


def test_every_problem_of_a_file_is_shown_with_the_closest_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[tiles]\nqualty = 90\ntile_size = 1\n[ocr]\nlanguage = ["kor"]\n[colection]\nid = "x"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    lines = str(info.value).splitlines()
    assert sorted(lines) == sorted(
        [
            f"{path}: tiles.tile_size: Input should be greater than or equal to 64",
            f"{path}: tiles.qualty: unknown key (did you mean 'quality'?)",
            f"{path}: ocr.language: unknown key (did you mean 'languages'?)",
            f"{path}: colection: unknown key (did you mean 'collection'?)",
        ]
    )


def test_the_command_line_shows_every_problem_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("PIPELINE_")]:
        monkeypatch.delenv(name)
    path = _write(tmp_path, '[tiles]\nqualty = 90\n[ocr]\nlanguages = ["ko"]\n')
    result = run_cli("--config", str(path), "status")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path}: tiles.qualty: unknown key (did you mean 'quality'?)" in result.output
    assert f"{path}: ocr.languages: 'ko' is a language tag" in result.output
    # One line per problem, each an error line (scripts grep for them).
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"error: {path}: ") for line in lines), lines


def test_each_problem_names_the_layer_that_set_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "[tiles]\nqualty = 90\n")
    with pytest.raises(ConfigError) as info:
        load_config(
            path,
            environ={"PIPELINE_TILES__TILE_SIZE": "1"},
            overrides={"site": {"base_url": "ftp://x/"}},
            option_names={"site.base_url": "--base-url"},
        )
    assert {tuple(line.split(": ")[:2]) for line in str(info.value).splitlines()} == {
        ("--base-url", "site.base_url"),
        ("PIPELINE_TILES__TILE_SIZE", "tiles.tile_size"),
        (str(path), "tiles.qualty"),
    }


def test_an_unknown_key_far_from_any_gets_no_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, "[tiles]\nzzz = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value) == f"{path}: tiles.zzz: unknown key"


def test_missing_site_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_environment_overrides_file_and_bad_values_name_the_variable(tmp_path: Path) -> None:
    path = _write(tmp_path, "[tiles]\nquality = 70\n")
    assert load_config(path, environ={}).tiles.quality == 70
    cfg = load_config(
        path, environ={"PIPELINE_TILES__QUALITY": "90", "PIPELINE_OCR__ENABLED": "false"}
    )
    assert cfg.tiles.quality == 90 and cfg.ocr.enabled is False
    with pytest.raises(ConfigError, match=r"^PIPELINE_TILES__QUALITY: tiles\.quality: "):
        load_config(path, environ={"PIPELINE_TILES__QUALITY": "best"})


def test_command_line_overrides_win_and_config_is_frozen(tmp_path: Path) -> None:
    path = _write(tmp_path, '[site]\nout = "a"\n')
    cfg = load_config(path, overrides={"site": {"out": "b"}}, environ={"PIPELINE_SITE__OUT": "c"})
    assert cfg.site.out == Path("b")
    with pytest.raises(ValueError, match="frozen"):
        cfg.site.out = Path("x")  # type: ignore[misc]


def test_ingest_defaults_guard_against_bombs_and_placeholders() -> None:
    cfg = Config()
    assert cfg.ingest.max_pixels < 100_000 * 100_000
    assert cfg.ingest.min_side > 1
    assert cfg.ingest.formats == ["tiff", "jpeg", "png", "jp2k"]


@pytest.mark.parametrize(
    ("overrides", "environ", "options", "needle"),
    [
        pytest.param(
            {"site": {"base_url": "ftp://x"}},
            {},
            {"site.base_url": "--base-url"},
            "--base-url: site.base_url: must be an http(s) URL",
            id="option-named",
        ),
        pytest.param(
            {"run": {"scheduler": "nowhere"}},
            {},
            {},
            "command line: run.scheduler: must be a Dask scheduler address",
            id="option-unnamed",
        ),
        pytest.param(
            {},
            {"PIPELINE_SITE__BASE_URL": "ftp://x"},
            {},
            "PIPELINE_SITE__BASE_URL: site.base_url: must be an http(s) URL",
            id="variable",
        ),
        pytest.param(
            {"site": {"base_url": "ftp://x"}},
            {"PIPELINE_SITE__BASE_URL": "https://example.org/"},
            {"site.base_url": "--base-url"},
            "--base-url: site.base_url",
            id="option-over-variable",
        ),
        pytest.param(
            {"site": {"base_url": "https://example.org/"}},
            {"PIPELINE_OCR__LANGUAGES": "['kor', 'no lang']"},
            {},
            "PIPELINE_OCR__LANGUAGES: ocr.languages: 'no lang' is not",
            id="variable-list-item",
        ),
        pytest.param(
            {"tiles": {"quality": 9}},
            {"PIPELINE_TILES__QUALTY": "9"},
            {},
            "PIPELINE_TILES__QUALTY: tiles.qualty: unknown key",
            id="variable-unknown-key",
        ),
    ],
)
def test_errors_name_the_option_or_variable(
    tmp_path: Path,
    overrides: dict[str, Any],
    environ: dict[str, str],
    options: dict[str, str],
    needle: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides=overrides, environ=environ, option_names=options)
    assert str(info.value).startswith(needle), str(info.value)


def test_file_errors_still_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text("[site]\nbase_url = 'ftp://x'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(
            path,
            overrides={"site": {"out": "o"}},
            environ={"PIPELINE_TILES__QUALITY": "90"},
            option_names={"site.out": "--out"},
        )
    assert str(info.value).startswith(f"{path}: site.base_url: must be an http(s) URL")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["--base-url", "ftp://x", "status"], "--base-url: site.base_url", id="url"),
        pytest.param(["run", "-j", "513"], "513 is not in the range 0<=x<=512", id="jobs-max"),
        pytest.param(
            ["run", "--executor", "local", "--scheduler", "tcp://h:8786"],
            "--scheduler: a Dask scheduler needs --executor dask",
            id="local-with-scheduler",
        ),
        pytest.param(["run", "--scheduler", "nowhere"], "--scheduler: run.scheduler", id="sched"),
    ],
)
def test_command_line_errors_name_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], needle: str
) -> None:

    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans" / "v").mkdir(parents=True)
    base = ["--scans", str(tmp_path / "scans"), "--out", str(tmp_path / "out")]
    result = run_cli(*base, *args, env={"PIPELINE_TILES__QUALITY": None})
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()
