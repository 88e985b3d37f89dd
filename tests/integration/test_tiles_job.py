"""The tiles stage inside a job: fingerprints, failed replays, and ``pipeline check``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.run.job import run_job
from pipeline.stages import tiles
from tests.conftest import assert_clean_exit, run_cli


@pytest.fixture
def two_pages(make_scan: Callable[..., Path]) -> None:
    make_scan("vol/p1.tif", 1100, 700, bands=3)
    make_scan("vol/p2.tif", 300, 200)


def _check(cfg: Config, *volumes: str, code: int) -> tuple[str, str]:
    args = ["--out", str(cfg.site.out), "--base-url", cfg.site.base_url, "check", *volumes]
    result = run_cli(*args)
    assert_clean_exit(result, code)
    return result.stdout, result.stderr


def test_rerun_does_no_work_until_tile_settings_change(
    two_pages: None, make_cfg: Callable[..., Config]
) -> None:
    cfg = make_cfg()
    first = run_job(cfg, stages=["ingest", "tiles"])
    assert not first.failures and first.counts["ok"] == 4
    again = run_job(cfg, stages=["ingest", "tiles"])
    assert again.counts["current"] == 4 and again.counts["ok"] == 0
    changed = run_job(make_cfg(tiles={"quality": 70}), stages=["ingest", "tiles"])
    assert changed.counts["current"] == 2 and changed.counts["ok"] == 2


def test_check_command(two_pages: None, make_cfg: Callable[..., Config]) -> None:
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "tiles"]).failures
    out, err = _check(cfg, code=0)
    assert out == "" and "checked 2 image services: 0 missing URLs" in err
    tile = cfg.site.out / "vol/images/p1/512,0,512,512/512,512/0/default.jpg"
    tile.unlink()
    out, err = _check(cfg, "vol", code=1)
    assert out.splitlines() == [
        f"{cfg.site.base_url}vol/images/p1/512,0,512,512/512,512/0/default.jpg"
    ]


def test_check_unknown_volume(two_pages: None, make_cfg: Callable[..., Config]) -> None:
    cfg = make_cfg()
    assert not run_job(cfg, stages=["ingest", "tiles"]).failures
    _, err = _check(cfg, "nope", code=4)
    assert "no image services for 'nope'" in err


def test_failed_replay_fails_the_page(
    two_pages: None, make_cfg: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a tiler that forgets the derivatives dzsave does not write.
    monkeypatch.setattr(tiles.Derivatives, "fill", lambda self, rel: None)
    cfg = make_cfg(run={"workers": 1})
    report = run_job(cfg, stages=["ingest", "tiles"])
    failed = {(f.page, f.stage) for f in report.failures}
    assert failed == {("p1", "tiles"), ("p2", "tiles")}
    assert all("viewer replay: IIIF viewers would request" in f.error for f in report.failures)
    assert not (cfg.site.out / "vol/images/p1").exists()


def test_floating_point_masters_in_0_1_or_0_255_come_out_as_they_look(
    tmp_path: Path, make_cfg: Callable[..., Config]
) -> None:
    """Float TIFFs from multispectral or scientific tools hold 0-1; others 0-255 (libvips')."""
    import pyvips

    from pipeline.state import StateStore

    page = pyvips.Image.black(600, 800) + 0.8
    page = page.draw_rect(0.2, 100, 100, 200, 300, fill=True)  # a dark block on light paper
    folder = tmp_path / "scans" / "vol"
    folder.mkdir(parents=True)
    page.cast("float").tiffsave(str(folder / "unit.tif"))
    (page * 255).cast("float").tiffsave(str(folder / "bytes.tif"))
    cfg = make_cfg(ocr={"enabled": False})
    assert not run_job(cfg, stages=["ingest", "tiles"]).failures
    with StateStore(cfg.site.out / ".pipeline" / "state.sqlite") as state:
        ranges = {
            r.page: r.data.get("value_range") for r in state.records("vol") if r.stage == "ingest"
        }
    assert ranges == {"unit": [0.2, 0.8], "bytes": [51.0, 204.0]}
    for name in ("unit", "bytes"):
        full = pyvips.Image.new_from_file(
            str(cfg.site.out / f"vol/images/{name}/full/max/0/default.jpg")
        )
        paper = full.crop(400, 500, 100, 100).avg()
        ink = full.crop(120, 150, 50, 50).avg()
        assert abs(paper - 204) < 3 and abs(ink - 51) < 3, (name, paper, ink)

    # OCR's working image (kept by ingest) reads the samples the same way.
    with_ocr = make_cfg(site={"out": str(tmp_path / "with-ocr")})
    assert not run_job(with_ocr, stages=["ingest"]).failures
    kept = {p.parent.name: p for p in (tmp_path / "with-ocr/.pipeline/cache/vol").rglob("*.png")}
    means = {name: pyvips.Image.new_from_file(str(path)).avg() for name, path in kept.items()}
    assert set(means) == {"unit", "bytes"} and abs(means["unit"] - means["bytes"]) < 1, means
