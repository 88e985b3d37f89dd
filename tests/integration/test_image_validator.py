"""The official IIIF Image API validator passes against our tiles, served from 127.0.0.1.

The validator (PyPI ``iiif-validator``) runs in a child process, as its command-line script,
so its imports and warnings stay out of this test process.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.layout import Layout
from pipeline.records import PageItem
from pipeline.stages import tiles
from pipeline.stages.spec import PageInput
from tests.conftest import DATA, require

IDENTIFIER = "67352ccc-d1b0-11e1-89ae-279075081939"
VOLUME = "validator"
SCRIPT = Path(sys.executable).parent / "iiif-validate.py"

# Checks every coloured square of full/max (the validator itself samples 5 at random).
ALL_SQUARES = """
import sys
from PIL import Image
from iiif_validator.validator import ValidationInfo

class Result:
    tests = []

info, image = ValidationInfo(), Image.open(sys.argv[1]).convert("RGB")
bad = []
for x in range(10):
    for y in range(10):
        square = image.crop((x * 100 + 13, y * 100 + 13, x * 100 + 87, y * 100 + 87))
        if not info.do_test_square(square, x, y, Result()):
            bad.append((x, y))
print(bad)
sys.exit(1 if bad else 0)
"""


class CorsHandler(SimpleHTTPRequestHandler):
    """Static files with ``Access-Control-Allow-Origin: *``, as a CDN or S3 bucket would send."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A static HTTP server on 127.0.0.1 for ``tmp_path/out``; yields (root, base URL)."""
    root = tmp_path / "out"
    root.mkdir()
    handler = functools.partial(CorsHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _validate(server: str, *options: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(SCRIPT), "--server", server, "--prefix", f"{VOLUME}/images"]
    argv += ["--identifier", IDENTIFIER, "--version=3.0", *options]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_validator_level0_and_cors(
    served: tuple[Path, str], make_cfg: Callable[..., Config]
) -> None:
    require(SCRIPT.exists(), "iiif-validator is not installed (pip install -e '.[dev]')")
    root, base_url = served
    cfg = make_cfg(site={"out": str(root), "base_url": base_url})
    shutil.copy(DATA / f"{IDENTIFIER}.png", root.parent / "master.png")
    item = PageItem(VOLUME, IDENTIFIER, str(root.parent / "master.png"), 0, {}, ())
    layout = Layout(cfg.site.out, cfg.site.base_url)
    record = tiles.run(PageInput(item), tiles.settings(cfg), layout)
    assert record.data["service_id"] == f"{base_url}{VOLUME}/images/{IDENTIFIER}"
    server = base_url.removeprefix("http://").rstrip("/")

    level0 = _validate(server, "--level", "0", "--verbose")
    assert level0.returncode == 0, level0.stderr
    assert "Done (5 tests, 0 failures)" in level0.stderr, level0.stderr
    cors = _validate(server, "--test", "cors")
    assert cors.returncode == 0, cors.stderr
    assert "Done (1 tests, 0 failures)" in cors.stderr, cors.stderr

    full = layout.image_dir(VOLUME, IDENTIFIER) / record.data["full"]
    squares = subprocess.run(
        [sys.executable, "-c", ALL_SQUARES, str(full)], capture_output=True, text=True, check=False
    )
    assert squares.returncode == 0, squares.stdout + squares.stderr
