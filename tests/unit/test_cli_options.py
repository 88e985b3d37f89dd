"""The site options work after the command name too, and every command lists them in --help."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import restored_root_logging, run_cli

BASE = "https://example.org/iiif/"
# Every command that reads the configuration, with the arguments it needs.
COMMANDS = [
    pytest.param(["run"], id="run"),
    pytest.param(["status"], id="status"),
    pytest.param(["check"], id="check"),
    pytest.param(["verify"], id="verify"),
    pytest.param(["export-bag", "vol-1", "bag"], id="export-bag"),
    pytest.param(["doctor"], id="doctor"),
    pytest.param(["publish"], id="publish"),
    pytest.param(["cors"], id="cors"),
    pytest.param(["serve"], id="serve"),
]
SITE_OPTIONS = ("--config", "--scans", "--out", "--base-url", "-v, --verbose")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from an empty folder, without PIPELINE_* variables, and undo logging set-up."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PIPELINE_") and "__" in name:
            monkeypatch.delenv(name)
    with restored_root_logging():
        yield


def _invoke(*args: str) -> Result:
    return run_cli(*args)


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _volume(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "vol-1"
    folder.mkdir(parents=True)
    (folder / "p1.tif").write_bytes(b"placeholder")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_lists_the_site_options_in_its_help(command: list[str]) -> None:
    result = _invoke(command[0], "--help")
    assert result.exit_code == 0, result.output
    for option in SITE_OPTIONS:
        assert option in result.output, option


@pytest.mark.parametrize("command", COMMANDS)
def test_config_after_the_command(tmp_path: Path, command: list[str]) -> None:
    result = _invoke(*command, "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {tmp_path / 'nope.toml'}: file not found\n"
    _no_traceback(result)


@pytest.mark.parametrize("command", COMMANDS)
def test_base_url_after_the_command(command: list[str]) -> None:
    result = _invoke(*command, "--base-url", "ftp://example.org/")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --base-url: site.base_url: must be an http(s) URL")
    _no_traceback(result)


def test_scans_and_out_after_the_command(tmp_path: Path) -> None:
    _volume(tmp_path)
    scans, out = str(tmp_path / "scans"), str(tmp_path / "out")
    result = _invoke("status", "--scans", scans, "--out", out, "--base-url", BASE)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("vol-1 (1 page)\n")
    _no_traceback(result)


def test_an_option_after_the_command_wins_over_the_same_before_it(tmp_path: Path) -> None:
    _volume(tmp_path)
    result = _invoke("--scans", str(tmp_path / "elsewhere"), "status", "--scans", "scans")
    assert result.exit_code == 0, result.output
    assert "vol-1 (1 page)" in result.output


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_verbose_after_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _volume(tmp_path)
    monkeypatch.setattr("pipeline.run.job.status", _boom)
    result = _invoke("status", "-v", "--scans", "scans", "--out", "out")
    assert result.exit_code == 70, result.output
    assert "Traceback" in result.output and "_boom" in result.output


def test_bench_help_prints_the_usage() -> None:
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--help"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m tests.bench [-h] [NAME ...]")
    assert "tiles" in done.stdout and "Traceback" not in done.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "tests.bench", "tile"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=False,
    )
    assert wrong.returncode == 2
    assert "error: unknown benchmark 'tile' (known: " in wrong.stderr
    assert "Traceback" not in wrong.stderr
