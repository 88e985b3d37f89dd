"""BagIt export: a valid bag of masters, derivatives and report that detects tampering."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import Result

from pipeline.run.job import run_job
from pipeline.samples.generate import generate_volume
from tests.conftest import (
    BASE_URL,
    assert_clean_exit,
    config_at,
    have_nanum_fonts,
    have_tesseract,
    require,
    run_cli,
)
from tests.conftest import invoke as invoke_cli

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

VOLUME = "vol-1"
ORG = "Test Library of Manuscripts"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sample pages through every stage (real tesseract), built once per module."""
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    require(have_nanum_fonts(), "fonts-nanum not installed")
    root = tmp_path_factory.mktemp("built")
    generate_volume(
        root / "scans", volume_id=VOLUME, pages=2, seed=5, width=700, height=990, fonts=["print"]
    )
    report = run_job(config_at(root))
    assert not report.failures, [(f.subject, f.stage, f.error) for f in report.failures]
    return root


@pytest.fixture
def work(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "ws", symlinks=True)
    return tmp_path / "ws"


def invoke(root: Path, *args: str, org: str | None = ORG) -> Result:
    env = {"PIPELINE_RUN__WORKERS": "1", "PIPELINE_BAG__CONTACT_EMAIL": "scans@library.example"}
    if org is not None:
        env["PIPELINE_BAG__SOURCE_ORGANIZATION"] = f'"{org}"'
    return invoke_cli(root, *args, env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def payload(bag: Path) -> set[str]:
    return {
        p.relative_to(bag / "data").as_posix() for p in (bag / "data").rglob("*") if p.is_file()
    }


def test_export_writes_a_valid_bag(work: Path) -> None:
    dest = work / "bags" / VOLUME
    result = invoke(work, "export-bag", VOLUME, str(dest))
    assert_clean_exit(result, 0)
    assert f"bag written: {dest} (" in result.output and "without tiles" in result.output

    bag = bagit.Bag(str(dest))
    bag.validate()  # full validation: every checksum of both manifests
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert (dest / "manifest-sha256.txt").is_file() and (dest / "manifest-sha512.txt").is_file()
    info: dict[str, Any] = bag.info
    assert info["Source-Organization"] == ORG
    assert info["External-Identifier"] == VOLUME
    assert info["Contact-Email"] == "scans@library.example"
    assert info["IIIF-Manifest"] == f"{BASE_URL}{VOLUME}/manifest.json"
    assert len(info["Bagging-Date"]) == 10 and info["Payload-Oxum"]

    files = payload(dest)
    for page in ("p001", "p002"):
        master = work / "scans" / VOLUME / f"{page}.tif"
        copy = dest / "data" / "masters" / f"{page}.tif"
        assert sha256(copy) == sha256(master)
        assert copy.stat().st_mtime_ns == master.stat().st_mtime_ns
        for suffix in (".hocr", ".alto.xml", ".txt"):
            assert f"derivatives/ocr/{page}{suffix}" in files
    assert "derivatives/manifest.json" in files
    assert "metadata/volume.toml" in files
    assert not any(f.startswith("derivatives/images/") for f in files)
    report = json.loads((dest / "data" / "report.json").read_text(encoding="utf-8"))
    assert report["volume"] == VOLUME and report["pages_found"] == 2 and not report["failures"]
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".tmp-")]


def test_tiles_are_optional(work: Path) -> None:
    dest = work / "bag-with-tiles"
    result = invoke(work, "export-bag", "--tiles", VOLUME, str(dest))
    assert_clean_exit(result, 0)
    files = payload(dest)
    assert "derivatives/images/p001/info.json" in files
    assert sum(f.endswith("default.jpg") for f in files) > 4
    bagit.Bag(str(dest)).validate()


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("data/masters/p001.tif", id="master"),
        pytest.param("data/derivatives/manifest.json", id="manifest"),
        pytest.param("data/report.json", id="report"),
    ],
)
def test_a_tampered_bag_fails_validation(work: Path, target: str) -> None:
    dest = work / "bag"
    assert_clean_exit(invoke(work, "export-bag", VOLUME, str(dest)), 0)
    path = dest / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(dest)).validate()


def test_a_missing_payload_file_fails_validation(work: Path) -> None:
    dest = work / "bag"
    assert_clean_exit(invoke(work, "export-bag", VOLUME, str(dest)), 0)
    (dest / "data" / "derivatives" / "ocr" / "p002.txt").unlink()
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(dest)).validate()


def test_a_drifted_master_is_never_bagged(work: Path) -> None:
    master = work / "scans" / VOLUME / "p002.tif"
    data = bytearray(master.read_bytes())
    data[-1] ^= 0xFF
    master.write_bytes(bytes(data))
    dest = work / "bags" / "vol"
    result = invoke(work, "export-bag", VOLUME, str(dest))
    assert_clean_exit(result, 4)
    assert "p002.tif: differs from the checksum recorded" in result.output
    assert not dest.exists()
    assert list((work / "bags").iterdir()) == []  # no half-built bag left behind


def test_an_unfinished_volume_is_refused(work: Path) -> None:
    shutil.copy(work / "scans" / VOLUME / "p002.tif", work / "scans" / VOLUME / "p003.tif")
    result = invoke(work, "export-bag", VOLUME, str(work / "bag"))
    assert_clean_exit(result, 4)
    assert "is not finished (p003.tif [ingest]: not run" in result.output
    assert "run 'pipeline run vol-1' first" in result.output


def test_without_a_source_organisation_the_bag_is_written_with_a_warning(work: Path) -> None:
    dest = work / "bag"
    result = invoke(work, "export-bag", VOLUME, str(dest), org=None)
    assert_clean_exit(result, 0)
    assert result.output.startswith(
        "warning: bag-info.txt has no Source-Organization: neither bag.source_organization "
        "(--source-organization) nor collection.provider is set\nbag written: "
    )
    bag = bagit.Bag(str(dest))
    bag.validate()
    assert "Source-Organization" not in bag.info


def test_the_source_organisation_option_is_recorded(work: Path) -> None:
    dest = work / "bag"
    result = invoke(
        work, "export-bag", VOLUME, str(dest), "--source-organization", "Other Library", org=ORG
    )
    assert_clean_exit(result, 0)
    assert "warning" not in result.output
    assert "Source-Organization: Other Library\n" in (dest / "bag-info.txt").read_text()


def test_the_provider_names_the_source_organisation(work: Path) -> None:
    dest = work / "bag"
    provider = '{ id = "https://library.example/", label = { en = "Provider Library" } }'
    result = invoke_cli(
        work, "export-bag", VOLUME, str(dest), env={"PIPELINE_COLLECTION__PROVIDER": provider}
    )
    assert_clean_exit(result, 0)
    assert "Source-Organization: Provider Library\n" in (dest / "bag-info.txt").read_text()


def test_a_local_manifest_url_is_warned_about_loudly(work: Path) -> None:
    # The same volume rebuilt for the preview address (OCR is kept: a quick rebuild).
    local = "http://127.0.0.1:8000/"
    report = run_job(config_at(work, site={"base_url": local}))
    assert not report.failures
    dest = work / "bag"
    result = run_cli(
        "export-bag", "--scans", str(work / "scans"), "--out", str(work / "out"), VOLUME,
        str(dest), "--source-organization", ORG,
    )  # fmt: skip
    assert_clean_exit(result, 0)
    manifest = f"{local}{VOLUME}/manifest.json"
    assert result.output.startswith(
        f"warning: bag-info.txt records IIIF-Manifest {manifest}, a preview address on this "
        "machine, and the bagged manifest holds such URLs throughout: for an archive, rebuild "
        "with the public URL first ('pipeline run --base-url URL') and export again\n"
    )
    assert f"IIIF-Manifest: {manifest}\n" in (dest / "bag-info.txt").read_text()
