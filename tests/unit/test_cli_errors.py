"""The CLI turns every usage and input problem into one line and an exit code, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import restored_root_logging, run_cli

BASE = "https://example.org/iiif/"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from an empty folder, without PIPELINE_* variables, and undo logging set-up."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PIPELINE_") and "__" in name:
            monkeypatch.delenv(name)
    with restored_root_logging():
        yield


def invoke(tmp_path: Path, *args: str) -> Result:
    base = ["--scans", str(tmp_path / "scans"), "--out", str(tmp_path / "out"), "--base-url", BASE]
    return run_cli(*base, *args)


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _volume(tmp_path: Path, name: str = "vol-1", toml: str | None = None) -> Path:
    folder = tmp_path / "scans" / name
    folder.mkdir(parents=True)
    (folder / "p1.tif").write_bytes(b"placeholder")
    if toml is not None:
        (folder / "volume.toml").write_text(toml, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("text", "code", "needle"),
    [
        pytest.param("[tiles]\nqualty = 9\n", 2, "tiles.qualty: unknown key", id="unknown-key"),
        pytest.param("[tiles\n", 2, "not valid TOML", id="malformed"),
        pytest.param("[tiles]\nquality = 500\n", 2, "tiles.quality", id="out-of-range"),
    ],
)
def test_bad_config_file(tmp_path: Path, text: str, code: int, needle: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("--config", str(path), "status")
    assert result.exit_code == code, result.output
    assert str(path) in result.output and needle in result.output
    _no_traceback(result)


def test_missing_config_file(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.toml"), "run")
    assert result.exit_code == 2, result.output
    assert "nope.toml: file not found" in result.output
    _no_traceback(result)


def test_bad_environment_variable(tmp_path: Path) -> None:
    result = run_cli("status", env={"PIPELINE_TILES__QUALITY": "best"})
    assert result.exit_code == 2, result.output
    assert "PIPELINE_TILES__QUALITY: tiles.quality: " in result.output
    _no_traceback(result)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["run", ".."], id="run-dotdot"),
        pytest.param(["run", "../etc"], id="run-parent"),
        pytest.param(["run", "/etc"], id="run-absolute"),
        pytest.param(["status", "a/b"], id="status-path"),
        pytest.param(["verify", "../x"], id="verify-parent"),
        pytest.param(["export-bag", "../x", "bag"], id="bag-parent"),
    ],
)
def test_volume_arguments_cannot_traverse(tmp_path: Path, args: list[str]) -> None:
    _volume(tmp_path)
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert "not a valid volume id" in result.output
    _no_traceback(result)


@pytest.mark.parametrize(
    ("setup", "args", "code", "needle"),
    [
        pytest.param(None, ["run"], 4, "scans folder not found", id="no-scans"),
        pytest.param("empty", ["run"], 4, "no volume folders found", id="empty-scans"),
        pytest.param("vol", ["run", "vol-9"], 4, "volume folder not found", id="unknown-volume"),
        pytest.param("vol", ["run", "--stages", "tile"], 2, "unknown stage 'tile'", id="bad-stage"),
        pytest.param("vol", ["verify"], 4, "nothing to verify yet", id="verify-nothing"),
        pytest.param(
            "vol", ["export-bag", "vol-1", "bag"], 4, "nothing has been run", id="bag-nothing"
        ),
    ],
)
def test_unusable_batches(
    tmp_path: Path, setup: str | None, args: list[str], code: int, needle: str
) -> None:
    if setup == "empty":
        (tmp_path / "scans").mkdir()
    elif setup == "vol":
        _volume(tmp_path)
    result = invoke(tmp_path, *args)
    assert result.exit_code == code, result.output
    assert needle in result.output
    assert result.output.startswith("error: ")
    _no_traceback(result)


def test_export_bag_refuses_an_existing_destination(tmp_path: Path) -> None:
    _volume(tmp_path)
    dest = tmp_path / "bag"
    dest.mkdir()
    (dest / "keep.txt").write_text("x")
    result = invoke(tmp_path, "export-bag", "vol-1", str(dest))
    assert result.exit_code == 2, result.output
    assert f"{dest}: already exists" in result.output
    assert (dest / "keep.txt").read_text() == "x"
    _no_traceback(result)


def test_status_before_any_run_changes_nothing(tmp_path: Path) -> None:
    _volume(tmp_path)
    result = invoke(tmp_path, "status")
    assert result.exit_code == 0, result.output
    assert "vol-1 (1 page)" in result.output
    assert "  ingest            0 done     0 failed     0 skipped     1 pending" in result.output
    assert "  annotations       0 done     0 failed     0 skipped     1 pending" in result.output
    assert "collection: pending" in result.output
    assert not (tmp_path / "out").exists()


def test_status_shows_a_broken_descriptor_naming_the_file(tmp_path: Path) -> None:
    folder = _volume(tmp_path, toml="labl = 'x'\n")
    _volume(tmp_path, "vol-2")
    result = invoke(tmp_path, "status")
    assert result.exit_code == 1, result.output
    assert f"vol-1: error: {folder / 'volume.toml'}: labl: unknown key" in result.output
    assert "vol-2 (1 page)" in result.output
    _no_traceback(result)
    data = invoke(tmp_path, "status", "--json")
    assert data.exit_code == 1
    assert '"error": "' + str(folder / "volume.toml") in data.stdout


def test_status_lists_listing_problems(tmp_path: Path) -> None:
    folder = _volume(tmp_path, toml='pages = ["p1.tif", "p9.tif"]\n')
    (folder / "p2.tif").write_bytes(b"x")
    result = invoke(tmp_path, "status")
    assert result.exit_code == 0, result.output
    assert "missing: p9.tif is listed in volume.toml" in result.output
    assert "warning: p2.tif is not listed in volume.toml" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["check", "../x"], "volume '../x': not a valid volume id", id="check-parent"),
        pytest.param(["check", "a/b"], "volume 'a/b': not a valid volume id", id="check-path"),
        pytest.param(
            ["publish", "--to", "site", "../x"],
            "volume '../x': not a valid volume id",
            id="publish",
        ),
        pytest.param(["verify", "a/b"], "volume 'a/b': not a valid volume id", id="verify-path"),
        pytest.param(
            ["export-bag", "..", "bag"], "volume '..': not a valid volume id", id="bag-dotdot"
        ),
        pytest.param(
            ["samples", "dest", "--volume-id", "../x"],
            "--volume-id: volume '../x': not a valid volume id",
            id="samples-volume-id",
        ),
    ],
)
def test_volume_ids_are_checked_at_the_command_line(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    (tmp_path / "out" / "vol-1" / "images").mkdir(parents=True)
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and needle in result.output
    assert len(result.output.splitlines()) == 1
    assert not (tmp_path / "x").exists()
    _no_traceback(result)


@pytest.mark.parametrize("command", ["run", "publish"])
def test_output_folder_under_a_file(tmp_path: Path, command: str) -> None:
    _volume(tmp_path)
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out"
    result = run_cli(
        *["--scans", str(tmp_path / "scans"), "--out", str(out), "--base-url", BASE, command]
    )
    assert result.exit_code == 4, result.output
    assert result.output.startswith("error: ") and str(out) in result.output
    _no_traceback(result)


def test_job_lock_names_the_output_folder(tmp_path: Path) -> None:
    from pipeline.errors import JobInputError
    from pipeline.layout import Layout
    from pipeline.lock import job_lock

    (tmp_path / "file").write_text("x")
    layout = Layout(out=tmp_path / "file" / "out", base_url=BASE)
    with pytest.raises(JobInputError, match="cannot create the output folder") as info:
        job_lock(layout).__enter__()
    assert str(layout.out) in str(info.value)


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_unexpected_error_is_a_bug_with_exit_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _volume(tmp_path)
    monkeypatch.setattr("pipeline.run.job.status", _boom)
    result = invoke(tmp_path, "status")
    assert result.exit_code == 70, result.output
    assert result.output.splitlines() == [
        "error: RuntimeError: boom",
        "this is a bug, please report it (run with -v to see the traceback)",
    ]
    _no_traceback(result)
    verbose = invoke(tmp_path, "-v", "status")
    assert verbose.exit_code == 70, verbose.output
    assert "Traceback" in verbose.output and "_boom" in verbose.output


def test_unexpected_error_goes_to_the_job_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _volume(tmp_path)
    log_path = tmp_path / "out" / ".pipeline" / "job.log"
    log_path.parent.mkdir(parents=True)
    monkeypatch.setattr("pipeline.run.job.status", _boom)
    result = invoke(tmp_path, "status")
    assert result.exit_code == 70, result.output
    assert f"this is a bug, please report it with {log_path}" in result.output
    assert "Traceback" in log_path.read_text() and "RuntimeError: boom" in log_path.read_text()
    _no_traceback(result)


def test_click_usage_errors_keep_their_behaviour(tmp_path: Path) -> None:
    result = invoke(tmp_path, "run", "--jobs", "-1")
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output
    assert invoke(tmp_path, "--help").exit_code == 0
