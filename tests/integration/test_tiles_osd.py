"""The viewer replay against the real OpenSeadragon: every tile URL it builds is one we expect.

OpenSeadragon 5 (the one Mirador 4 bundles, installed under viewer/node_modules by
``make viewer``) runs in Node with a minimal stand-in for the DOM; its ``IIIFTileSource``
lists the URL of every tile of every level. No browser is needed for URL arithmetic.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Config
from pipeline.iiif import image as iiif
from pipeline.layout import Layout
from pipeline.records import PageItem
from pipeline.stages import tiles
from pipeline.stages.spec import PageInput
from tests.conftest import require
from tests.unit.test_replay import full_pyramid

OSD = (
    Path(__file__).parents[2]
    / "viewer/node_modules/openseadragon/build/openseadragon/openseadragon.js"
)

# Reads [osd.js path, info.json list] on stdin; prints {id: [paths below id]} on stdout.
LIST_URLS = r"""
const fs = require('fs');
const [file, infos] = JSON.parse(fs.readFileSync(0, 'utf8'));
const noop = () => {};
const element = () => ({ style: {}, appendChild: noop, addEventListener: noop,
                         setAttribute: noop, getContext: () => null });
Object.assign(global, {
  window: global, addEventListener: noop, removeEventListener: noop,
  navigator: { userAgent: 'node', appVersion: '5.0', platform: 'Linux' },
  location: { protocol: 'http:', search: '', hash: '', href: 'http://localhost/' },
  XMLHttpRequest: function () {}, Image: function () {},
  document: {
    addEventListener: noop, removeEventListener: noop, createElement: element,
    getElementsByTagName: () => [], body: element(),
    documentElement: { style: {}, addEventListener: noop, removeEventListener: noop },
  },
});
eval(fs.readFileSync(file, 'utf8'));
const out = {};
for (const info of infos) {
  const data = OpenSeadragon.IIIFTileSource.prototype.configure(info, info.id + '/info.json');
  const source = new OpenSeadragon.IIIFTileSource(data);
  const urls = new Set();
  for (let level = source.minLevel; level <= source.maxLevel; level++) {
    const n = source.getNumTiles(level);
    for (let x = 0; x < n.x; x++) {
      for (let y = 0; y < n.y; y++) {
        urls.add(source.getTileUrl(level, x, y).slice(info.id.length + 1));
      }
    }
  }
  out[info.id] = [...urls].sort();
}
process.stdout.write(JSON.stringify(out));
"""


def osd_paths(infos: list[dict[str, Any]]) -> dict[str, list[str]]:
    node = shutil.which("node")
    require(node is not None and OSD.is_file(), "node or viewer/node_modules (make viewer) missing")
    assert node is not None
    result = subprocess.run(
        [node, "-e", LIST_URLS],
        input=json.dumps([str(OSD), infos]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    urls: dict[str, list[str]] = json.loads(result.stdout)
    return urls


def _infos() -> list[dict[str, Any]]:
    infos = []
    sizes_of = (1, 1), (300, 200), (511, 513), (512, 512), (1024, 1000), (2045, 1000), (2049, 600)
    sizes_of += (2501, 3499), (6000, 300), (300, 7001), (4099, 4097), (4960, 7016), (20000, 28000)
    for width, height in sizes_of:
        for tile in (256, 512):
            factors = full_pyramid(width, height, tile)
            levels = sorted(iiif.level_size(width, height, sf) for sf in factors)
            # No sizes used as levels (too few), the smallest levels, and every level.
            for sizes in (levels[:1], [s for s in levels if max(s) <= 1024] or levels[:1], levels):
                infos.append(
                    iiif.build_info(
                        service_id=f"http://x/{width}x{height}-{tile}-{len(sizes)}",
                        width=width,
                        height=height,
                        tile=tile,
                        scale_factors=factors,
                        sizes=sizes,
                    )
                )
    return infos


def test_every_openseadragon_url_is_expected() -> None:
    infos = _infos()
    requested = osd_paths(infos)
    for info in infos:
        expected = set(iiif.expected_paths(info))
        assert set(requested[info["id"]]) <= expected, info["id"]


@pytest.mark.parametrize(("width", "height", "tile"), [(2501, 3499, 256), (2049, 600, 512)])
def test_openseadragon_finds_every_tile_on_disk(
    make_cfg: Callable[..., Config],
    make_scan: Callable[..., Path],
    width: int,
    height: int,
    tile: int,
) -> None:
    cfg = make_cfg(tiles={"tile_size": tile})
    source = make_scan("vol/p1.tif", width, height)
    layout = Layout(cfg.site.out, cfg.site.base_url)
    item = PageItem("vol", "p1", str(source), 0, {}, ())
    tiles.run(PageInput(item), tiles.settings(cfg), layout)
    root = layout.image_dir("vol", "p1")
    info = json.loads((root / "info.json").read_text())
    requested = osd_paths([info])[info["id"]]
    assert len(requested) > 10
    assert [p for p in requested if not (root / p).is_file()] == []
