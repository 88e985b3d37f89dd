"""Plain-text labels on a real run: bracketed text kept, lost markup reported, emptied fails.

Pages are real (sample generator, libvips tiles); OCR is off to stay quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from pipeline.samples.generate import generate_volume
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

BASE = "https://example.org/iiif/"
DRAFT = "Letters 1950-1953 <draft> & notes"


def _volume(tmp_path: Path, name: str, descriptor: str) -> None:
    generate_volume(
        tmp_path / "scans", volume_id=name, pages=2, width=310, height=438, write_descriptor=False
    )
    (tmp_path / "scans" / name / "volume.toml").write_text(descriptor, encoding="utf-8")


def _invoke(tmp_path: Path, *args: str) -> Result:
    empty = tmp_path / "site.toml"
    empty.write_text("[ocr]\nenabled = false\n", encoding="utf-8")
    base = ["--config", str(empty), "--scans", str(tmp_path / "scans")]
    base += ["--out", str(tmp_path / "out"), "--base-url", BASE]
    return run_cli(*base, *args)


def test_labels_keep_bracketed_text_and_report_lost_markup(
    tmp_path: Path, nanum_fonts: None, clean_logging: None
) -> None:
    _volume(
        tmp_path,
        "vol-1",
        f'label = {{ en = "{DRAFT}", ko = "편지 <b>1950</b>" }}\n'
        '[[ranges]]\nlabel = "Part <i>one</i>"\nfirst = "p001"\nlast = "p002"\n',
    )
    result = _invoke(tmp_path, "run", "--quiet", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output

    manifest = json.loads((tmp_path / "out" / "vol-1" / "manifest.json").read_text("utf-8"))
    assert manifest["label"] == {"en": [DRAFT], "ko": ["편지 1950"]}
    assert manifest["structures"][0]["label"] == {"none": ["Part one"]}
    collection = json.loads((tmp_path / "out" / "collection.json").read_text("utf-8"))
    assert collection["items"][0]["label"]["en"] == [DRAFT]

    lost_ko = (
        "volume.toml: label.ko: markup removed (labels are plain text): "
        "'편지 <b>1950</b>' is published as '편지 1950'"
    )
    lost_range = (
        "volume.toml: ranges[1].label.none: markup removed (labels are plain text): "
        "'Part <i>one</i>' is published as 'Part one'"
    )
    # The job's output, the volume's report and `pipeline status` all say what was lost.
    assert f"vol-1: {lost_ko}" in result.output
    assert f"vol-1: {lost_range}" in result.output
    assert "label.en" not in result.output
    report = json.loads((tmp_path / "out" / ".pipeline" / "reports" / "vol-1.json").read_text())
    assert report["input"]["warnings"] == [lost_ko, lost_range]
    status = _invoke(tmp_path, "status", "vol-1")
    assert f"  warning: {lost_ko}" in status.output


def test_a_label_that_is_only_markup_fails_its_volume_naming_the_key(
    tmp_path: Path, nanum_fonts: None, clean_logging: None
) -> None:
    _volume(tmp_path, "vol-1", 'label = { en = "<script>alert(1)</script>", ko = "편지" }\n')
    _volume(tmp_path, "vol-2", 'label = "Good"\n')
    result = _invoke(tmp_path, "run", "--quiet", "-j", "1")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        "volume.toml: label: nothing left after removing HTML the IIIF spec does not allow "
        "(en: '<script>alert(1)</script>')"
    ) in result.output
    assert not (tmp_path / "out" / "vol-1" / "manifest.json").exists()
    assert (tmp_path / "out" / "vol-2" / "manifest.json").is_file()
