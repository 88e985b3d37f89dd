"""What the tesseract wrapper makes of the version probe and of a tesseract that will not run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import MissingDependencyError
from pipeline.ocr import tesseract


@pytest.fixture
def probes_forgotten() -> Iterator[None]:
    """Forget the cached probes before and after, so other tests see the real tesseract."""
    tesseract.version.cache_clear()
    tesseract.languages.cache_clear()
    yield
    tesseract.version.cache_clear()
    tesseract.languages.cache_clear()


def on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str | None) -> None:
    """Make PATH hold only a folder with ``script`` as ``tesseract`` (or nothing at all)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if script is not None:
        program = folder / "tesseract"
        program.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))  # the scripts use shell built-ins only


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        pytest.param(r"tesseract 5.3.0\n leptonica-1.82.0", "5.3.0", id="debian-bookworm"),
        pytest.param(r"tesseract 4.1.1-rc2-21-gf4ef\n leptonica-1.79.0", "4.1.1", id="git-build"),
        pytest.param(r"tesseract v5.5.0.20241111\n leptonica-1.85.0", "5.5.0.20241111", id="v"),
    ],
)
@pytest.mark.usefixtures("probes_forgotten")
def test_version_is_the_number_on_the_first_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: str, expected: str
) -> None:
    on_path(monkeypatch, tmp_path, f'printf "{printed}\\n"')
    assert tesseract.version() == expected


@pytest.mark.parametrize(
    ("script", "message"),
    [
        pytest.param(None, r"^tesseract not found: install it", id="not-installed"),
        pytest.param(
            'echo "error while loading shared libraries: libtesseract.so.5" >&2; exit 127',
            r"^tesseract does not run \(exit 127: error while loading shared libraries",
            id="broken",
        ),
        pytest.param("echo hello", r"no version in 'hello'", id="no-version"),
    ],
)
@pytest.mark.usefixtures("probes_forgotten")
def test_a_tesseract_that_cannot_run_is_a_missing_dependency(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str | None, message: str
) -> None:
    on_path(monkeypatch, tmp_path, script)
    with pytest.raises(MissingDependencyError, match=message):
        tesseract.check_languages(["kor"])
