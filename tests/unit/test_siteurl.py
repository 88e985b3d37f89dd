"""Which base URL a command uses: one chosen explicitly, else the recorded one, else the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import siteurl
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, JobInputError
from pipeline.layout import Layout, is_local_url

BUILT = "https://iiif.example.org/built/"
OTHER = "https://iiif.example.net/other/"


def _built(out: Path, url: str = BUILT) -> None:
    layout = Layout(out=out, base_url=url)
    layout.work_dir.mkdir(parents=True, exist_ok=True)
    assert siteurl.record(layout) is None


def _config(tmp_path: Path, toml: str = "", **site: str) -> tuple[Config, str | None]:
    path = tmp_path / "site.toml"
    path.write_text(toml, encoding="utf-8")
    overrides = {"site": {"out": str(tmp_path / "out"), **site}}
    cfg = load_config(path, overrides=overrides, environ={})
    return cfg, siteurl.chosen_by(cfg, option=site.get("base_url"), environ={})


@pytest.mark.parametrize(
    ("toml", "option", "chooser", "used"),
    [
        pytest.param("", None, None, BUILT, id="nothing-given"),
        pytest.param(
            '[site]\nbase_url = "http://127.0.0.1:8000/"\n', None, None, BUILT, id="file-default"
        ),
        pytest.param(
            f'[site]\nbase_url = "{OTHER}"\n', None, "the configuration file", OTHER, id="file"
        ),
        pytest.param("", OTHER, "--base-url", OTHER, id="option"),
        pytest.param(
            "",
            "http://127.0.0.1:8000/",
            "--base-url",
            "http://127.0.0.1:8000/",
            id="option-default",
        ),  # fmt: skip
    ],
)
def test_precedence(
    tmp_path: Path, toml: str, option: str | None, chooser: str | None, used: str
) -> None:
    _built(tmp_path / "out")
    cfg, chosen = _config(tmp_path, toml, **({"base_url": option} if option else {}))
    assert chosen == chooser
    assert siteurl.settle(cfg, chosen).site.base_url == used


def test_the_variable_is_a_choice(tmp_path: Path) -> None:
    cfg = load_config(None, environ={"PIPELINE_SITE__BASE_URL": OTHER})
    assert siteurl.chosen_by(cfg, option=None, environ={"PIPELINE_SITE__BASE_URL": OTHER}) == (
        "PIPELINE_SITE__BASE_URL"
    )


def test_without_a_record_the_default(tmp_path: Path) -> None:
    cfg, chosen = _config(tmp_path)
    assert chosen is None
    assert siteurl.settle(cfg, chosen).site.base_url == siteurl.DEFAULT


def test_record_says_what_it_replaces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _built(out)
    assert siteurl.record(Layout(out=out, base_url=BUILT)) is None
    assert siteurl.record(Layout(out=out, base_url=OTHER)) == BUILT
    assert siteurl.recorded(out) == OTHER


def test_a_different_chosen_url_is_refused_for_a_built_site(tmp_path: Path) -> None:
    _built(tmp_path / "out")
    cfg, chosen = _config(tmp_path, base_url=OTHER)
    with pytest.raises(ConfigError) as info:
        siteurl.require_built_for(cfg, chosen)
    assert str(info.value).startswith(
        f"--base-url: {tmp_path / 'out'} was built for {BUILT}, not {OTHER}; "
    )
    same, chosen = _config(tmp_path, base_url=BUILT)
    siteurl.require_built_for(same, chosen)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("{", "cannot read the recorded base URL", id="not-json"),
        pytest.param('{"url": 1}', "no base_url recorded", id="no-key"),
    ],
)
def test_a_damaged_record_names_the_file(tmp_path: Path, text: str, reason: str) -> None:
    path = Layout(out=tmp_path, base_url=BUILT).site_record_path
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JobInputError) as info:
        siteurl.recorded(tmp_path)
    assert str(info.value).startswith(f"{path}: {reason}")
    assert "delete the file and give --base-url" in str(info.value)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000/", True),
        ("http://localhost/iiif/", True),
        ("http://[::1]:8000/", True),
        ("http://0.0.0.0:8000/", True),
        ("http://app.localhost/", True),
        ("https://iiif.example.org/", False),
        ("http://192.168.1.5/", False),
    ],
)
def test_local_urls(url: str, local: bool) -> None:
    assert is_local_url(url) is local
