"""Shared fixtures: configs, generated scans, capability probes."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import subprocess
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.config import Config, load_config
from pipeline.records import StageRecord
from pipeline.run.job import run_job
from pipeline.siteurl import layout_for
from pipeline.state import StateStore

TESTS = Path(__file__).parent
SCHEMAS = TESTS / "schemas"
DATA = TESTS / "data"
VIEWER = TESTS.parent / "viewer"
BASE_URL = "https://example.org/iiif/"
REQUIRE_TOOLS = os.environ.get("PIPELINE_REQUIRE_TOOLS") == "1"
# A folder where tests also keep files worth a look after the run (browser screenshots).
KEEP_ARTIFACTS = os.environ.get("PIPELINE_TEST_ARTIFACTS")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite tests/golden/ from current output."
    )


def require(ok: bool, reason: str) -> None:
    """Skip when a capability is missing; fail instead under PIPELINE_REQUIRE_TOOLS=1 (CI)."""
    if ok:
        return
    if REQUIRE_TOOLS:
        pytest.fail(f"required capability missing: {reason}")
    pytest.skip(reason)


def have_tesseract(lang: str = "kor") -> bool:
    if shutil.which("tesseract") is None:
        return False
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False)
    return lang in out.stdout.split()


@pytest.fixture
def tesseract_kor() -> None:
    """Tests using this need tesseract with Korean."""
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")


def have_nanum_fonts() -> bool:
    return Path("/usr/share/fonts/truetype/nanum").is_dir()


@pytest.fixture
def nanum_fonts() -> None:
    """Tests using this render sample pages with the Nanum fonts."""
    require(have_nanum_fonts(), "fonts-nanum not installed")


@pytest.fixture
def chromium() -> str:
    """Path of Debian's Chromium."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(path).exists(), "chromium not installed")
    return path


def config_at(root: Path, **sections: Any) -> Config:
    """A config for root/scans -> root/out, the test base URL and one worker, environment ignored.

    For module-scoped fixtures; tests use ``make_cfg``.
    """
    site = {"scans": str(root / "scans"), "out": str(root / "out"), "base_url": BASE_URL}
    site.update(sections.pop("site", {}))
    run = {"workers": 1, **sections.pop("run", {})}
    return load_config(None, overrides={"site": site, "run": run, **sections}, environ={})


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., Config]:
    """Build a config rooted in tmp_path: make_cfg(tiles={"quality": 90})."""
    return functools.partial(config_at, tmp_path)


@pytest.fixture
def make_scan(tmp_path: Path) -> Callable[..., Path]:
    """Write a generated image with pyvips: make_scan("vol/p1.tif", 600, 800, bands=1)."""
    import pyvips

    def make(rel: str, width: int = 600, height: int = 800, *, bands: int = 1, **save: Any) -> Path:
        path = tmp_path / "scans" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image = pyvips.Image.xyz(width, height)
        image = ((image[0] * 7 + image[1] * 3) % 256).cast("uchar")
        if bands == 3:
            # Arithmetic makes floats, which TIFF would store as linear scRGB: cast back.
            image = image.bandjoin([255 - image, (image * 2) % 256]).cast("uchar")
            image = image.copy(interpretation="srgb")
        image.write_to_file(str(path), **save)
        return path

    return make


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3 API server process (moto) on 127.0.0.1, one per test process."""
    from tests.s3server import start_server

    with start_server() as server:
        yield server


# -- in-process CLI runs ---------------------------------------------------------------------------
@contextlib.contextmanager
def restored_root_logging() -> Iterator[None]:
    """Undo the CLI's logging set-up when the block ends.

    The CLI replaces the root logger's handlers (a console handler and the job log file):
    those are closed here and the previous ones (pytest's capture) put back.
    """
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
        for handler in before:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """For tests that run the CLI themselves: its logging set-up is undone afterwards."""
    with restored_root_logging():
        yield


def stage_records(cfg: Config) -> dict[tuple[str, str], StageRecord]:
    """The stored records of a job's output folder, by (page, stage)."""
    with StateStore(layout_for(cfg).state_db) as state:
        return {(r.page, r.stage): r for r in state.records()}


def rerun_changes(cfg: Config) -> set[tuple[str, str]]:
    """Run the job again; return the (page, stage) pairs that ran (were not current).

    Each stored record's duration is first set to -1: a stage that runs again writes its real
    one, so its record changes even when the rerun's output and timing (to the millisecond)
    are the same as before.
    """
    with StateStore(layout_for(cfg).state_db) as state:
        for rec in list(state.records()):
            state.put(replace(rec, duration_s=-1.0))
    before = {k: r.to_json() for k, r in stage_records(cfg).items()}
    report = run_job(cfg)
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    after = {k: r.to_json() for k, r in stage_records(cfg).items()}
    return {k for k in after if before.get(k) != after[k]}


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """Run ``pipeline *args`` with click's CliRunner and undo its logging set-up afterwards.

    PIPELINE_SECTION__KEY variables of the calling shell are hidden from the run.
    """
    from pipeline.cli import cli

    hidden: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("PIPELINE_") and "__" in name
    }
    with restored_root_logging():
        return CliRunner().invoke(cli, list(args), env={**hidden, **(env or {})})


def invoke(root: Path, *args: str, env: Mapping[str, str] | None = None) -> Result:
    """``run_cli`` on ``root/scans`` and ``root/out`` with the test base URL."""
    site = ["--scans", str(root / "scans"), "--out", str(root / "out"), "--base-url", BASE_URL]
    return run_cli(*site, *args, env=env)


def assert_clean_exit(result: Result, code: int) -> None:
    """The CLI ended by itself with ``code``: no uncaught exception and no traceback shown.

    CliRunner catches an uncaught exception without printing it and reports exit code 1, the
    same code as "some pages failed", so the exit code alone cannot tell the two apart.
    """
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        raise AssertionError(
            "uncaught exception:\n" + "".join(traceback.format_exception(*result.exc_info))
        )
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output


# -- Mirador in headless Chromium ------------------------------------------------------------------
MIRADOR_DIST = VIEWER / "node_modules" / "mirador" / "dist"


def require_mirador_tools() -> tuple[str, str]:
    """Chromium, node, the viewer's npm packages, tesseract and fonts for a Mirador run.

    Returns:
        The paths of chromium and node.
    """
    chromium, node = shutil.which("chromium"), shutil.which("node")
    require(chromium is not None, "chromium not installed")
    require(node is not None, "node not installed")
    require(
        (MIRADOR_DIST / "mirador.min.js").is_file()
        and (VIEWER / "node_modules" / "playwright-core").is_dir(),
        "viewer/node_modules missing: run `make viewer`",
    )
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    require(have_nanum_fonts(), "fonts-nanum not installed")
    assert chromium is not None and node is not None
    return chromium, node


def run_mirador_check(
    page_url: str,
    manifest: dict[str, Any],
    tmp: Path,
    screenshot: str,
    *,
    label: str | None = None,
    language: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Drive Mirador in headless Chromium (viewer/mirador-check.mjs) on a served viewer page.

    Args:
        page_url: The viewer page to open.
        manifest: The manifest it shows (its label and canvas count are checked).
        tmp: The test's temporary folder (Chromium profile, default screenshot place).
        screenshot: File name of the screenshot (see :func:`artifact_path`).
        label: The window title to wait for; by default the manifest label's first text.
        language: Switch Mirador's UI to this language (its menu entry's ``lang``) first.

    Returns:
        The finished node process; its stdout is the check's JSON result.
    """
    from pipeline.iiif.text import first_text

    chromium, node = require_mirador_tools()
    argv = [
        node, str(VIEWER / "mirador-check.mjs"),
        "--page", page_url,
        "--label", label if label is not None else first_text(manifest["label"]),
        "--canvases", str(len(manifest["items"])),
        "--screenshot", str(artifact_path(tmp, screenshot)),
        "--chromium", chromium,
        "--profile", str(tmp / "chromium-profile"),
    ]  # fmt: skip
    if language is not None:
        argv += ["--language", language]
    return subprocess.run(argv, cwd=VIEWER, capture_output=True, text=True, timeout=300)


def artifact_path(tmp: Path, name: str) -> Path:
    """Where a test writes a file worth keeping, such as a screenshot.

    Returns:
        ``$PIPELINE_TEST_ARTIFACTS/name`` when that variable names a folder (created if
        needed), else ``tmp/name``: by default no test writes outside its temporary folder.
    """
    if KEEP_ARTIFACTS:
        folder = Path(KEEP_ARTIFACTS).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name
    return tmp / name
