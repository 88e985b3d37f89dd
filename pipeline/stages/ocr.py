"""OCR: a master image -> hOCR, ALTO and plain text via tesseract (external/tesseract.py)."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pyvips
from pydantic import BaseModel, ConfigDict

from pipeline.config import Config, IngestConfig, OcrConfig
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.external import tesseract
from pipeline.fsio import write_bytes_atomic
from pipeline.imaging import open_master, vips_message
from pipeline.layout import Layout
from pipeline.records import PageInput, StageRecord
from pipeline.stages.tiles import normalise

log = logging.getLogger(__name__)

NAME = "ocr"
SCOPE = "page"
VERSION = 1
REQUIRES: tuple[str, ...] = ("ingest",)
USES: tuple[str, ...] = ()

_WCONF = re.compile(r"x_wconf (\d+)")


class OcrSettings(BaseModel):
    """What OCR output depends on."""

    model_config = ConfigDict(frozen=True)

    ocr: OcrConfig
    ingest: IngestConfig


def settings(cfg: Config) -> OcrSettings:
    """The OCR section plus the pixel limit."""
    return OcrSettings(ocr=cfg.ocr, ingest=cfg.ingest)


def preflight(settings: OcrSettings) -> dict[str, str]:
    """Tesseract and every configured language must be installed."""
    if not settings.ocr.enabled:
        return {}
    version = tesseract.version()
    tesseract.check_languages(settings.ocr.languages)
    return {"tesseract": version}


def _page_image(source: Path, dest: Path, max_pixels: int) -> None:
    """Write the upright 8-bit greyscale image tesseract reads."""
    try:
        image = normalise(open_master(source, max_pixels=max_pixels, access="random"))
        if image.bands > 1:
            image = image.colourspace("b-w")
        image.pngsave(str(dest), compression=1, strip=True)
    except pyvips.Error as exc:
        raise OcrError(f"cannot prepare the image for OCR: {vips_message(exc)}") from None


def run(inp: PageInput, settings: OcrSettings, paths: Layout) -> StageRecord:
    """Recognise one page and write its hOCR, ALTO and text.

    Raises:
        OcrError: Tesseract failed or timed out.
    """
    item = inp.item
    if not settings.ocr.enabled:
        return StageRecord(stage=NAME, volume=item.volume, page=item.page, status="ok")
    lang = "+".join(item.ocr_languages)
    try:
        tesseract.check_languages([lang])
    except MissingDependencyError as exc:
        # A per-page language, or a worker set up differently from this machine.
        raise OcrError(str(exc)) from None
    tmp_root = paths.work_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"ocr-{item.page}-", dir=tmp_root))
    try:
        image = tmp / f"{item.page}.png"
        _page_image(Path(item.source), image, settings.ingest.max_pixels)
        produced = tesseract.recognize(
            image=image,
            out_base=tmp / item.page,
            lang=lang,
            psm=settings.ocr.psm,
            timeout_s=settings.ocr.timeout_s,
            formats=("hocr", "txt", "alto"),
        )
        # Tesseract writes the temporary image path into its output; name the page instead.
        texts = {
            kind: path.read_text(encoding="utf-8").replace(str(image), f"{item.page}.png")
            for kind, path in produced.items()
        }
    finally:
        shutil.rmtree(tmp)
    plain = unicodedata.normalize("NFC", texts["txt"])
    confs = [int(c) for c in _WCONF.findall(texts["hocr"])]
    outputs: dict[str, str] = {}
    for kind, text in (("hocr", texts["hocr"]), ("alto", texts["alto"]), ("txt", plain)):
        path = paths.ocr_path(item.volume, item.page, kind)
        outputs[paths.rel(path)] = write_bytes_atomic(path, text.encode("utf-8"))
    return StageRecord(
        stage=NAME,
        volume=item.volume,
        page=item.page,
        status="ok",
        outputs=outputs,
        data={
            "language": lang,
            "words": len(confs),
            "confidence": round(sum(confs) / len(confs), 2) if confs else None,
            "characters": len("".join(plain.split())),
        },
        tool_versions={"tesseract": tesseract.version()},
    )
