"""``pipeline samples`` writes only into a new or empty volume folder and never replaces a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import ConfigError
from pipeline.samples import generate as samples
from pipeline.samples.generate import generate_volume
from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("nanum_fonts")

W, H = 310, 438
OLD = 1_000_000_000  # a fixed mtime, so that any rewrite shows


def _real_volume(scans: Path) -> dict[Path, tuple[bytes, int]]:
    """A volume folder with a master and its descriptor, as a library would have it."""
    folder = scans / "MS-REAL"
    folder.mkdir(parents=True)
    (folder / "p001.tif").write_bytes(b"the only scan of this page")
    (folder / "volume.toml").write_text('label = { en = "Real letters" }\n', encoding="utf-8")
    for path in folder.iterdir():
        os.utime(path, (OLD, OLD))
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}


def _unchanged(before: dict[Path, tuple[bytes, int]]) -> None:
    folder = next(iter(before)).parent
    assert sorted(folder.iterdir()) == sorted(before)
    for path, (data, mtime) in before.items():
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == mtime


def test_the_command_refuses_a_folder_with_masters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = _real_volume(tmp_path / "scans")
    args = ["samples", "scans", "--volume-id", "MS-REAL", "--width", str(W), "--height", str(H)]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert "scans/MS-REAL: the folder exists and is not empty" in result.output
    assert "wrote" not in result.output
    assert "Traceback" not in result.output
    _unchanged(before)


def test_a_folder_holding_only_a_descriptor_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / "MS-REAL"
    folder.mkdir(parents=True)
    (folder / "volume.toml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="MS-REAL: the folder exists and is not empty"):
        generate_volume(folder.parent, volume_id="MS-REAL", pages=1, width=W, height=H)
    assert [p.name for p in folder.iterdir()] == ["volume.toml"]


def test_an_empty_existing_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "scans" / "vol-1").mkdir(parents=True)
    made = generate_volume(tmp_path / "scans", volume_id="vol-1", pages=2, width=W, height=H)
    names = sorted(p.name for p in (tmp_path / "scans" / "vol-1").iterdir())
    assert names == ["ground-truth", "p001.tif", "p002.tif", "volume.toml"]
    assert [p.page_id for p in made] == ["p001", "p002"]


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "vol-1").write_bytes(b"not a folder")
    with pytest.raises(ConfigError, match="vol-1: exists and is not a folder"):
        generate_volume(tmp_path / "scans", volume_id="vol-1", pages=1, width=W, height=H)
    assert (tmp_path / "scans" / "vol-1").read_bytes() == b"not a folder"


def test_a_file_that_appears_meanwhile_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program writes p002.tif while the pages render: exclusive creation keeps it."""
    folder = tmp_path / "scans" / "vol-1"
    real_save = samples._save
    theirs = folder / "p002.tif"

    def racing_save(image: Image.Image, path: Path, image_format: str, dpi: int) -> None:
        if (folder / "p001.tif").exists() and not theirs.exists():
            theirs.write_bytes(b"written by someone else")
        real_save(image, path, image_format, dpi)

    monkeypatch.setattr(samples, "_save", racing_save)
    with pytest.raises(ConfigError, match=r"p002\.tif: already exists; samples never replace"):
        generate_volume(folder.parent, volume_id="vol-1", pages=3, width=W, height=H)
    assert theirs.read_bytes() == b"written by someone else"
    assert not (folder / "volume.toml").exists()
