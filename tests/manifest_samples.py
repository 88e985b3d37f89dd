"""Inputs for manifest and collection tests: page records as the upstream stages write them.

The results are those the tiles and OCR stages record (see pipeline/results.py);
no files are needed, so the manifest builder can be tested (and its output pinned in
tests/golden/) independently of libvips and tesseract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import iiif_prezi3
import jsonschema

from pipeline.config import Config, load_config, read_toml
from pipeline.input.descriptor import Descriptor
from pipeline.layout import Layout
from pipeline.records import PageItem
from pipeline.results import ManifestResult
from pipeline.siteurl import search_urls
from pipeline.stages import collection as collection_stage
from pipeline.stages import manifest as manifest_stage
from pipeline.stages.spec import CollectionInput, PageInput, Upstream, VolumeInput
from tests.conftest import BASE_URL, SCHEMAS

GOLDEN = Path(__file__).parent / "golden"
_SCHEMA = json.loads((SCHEMAS / "presentation-3.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(_SCHEMA)

COLLECTION = {
    "id": "biographies",
    "label": {
        "ko": "인물전기 원고",
        "ko-Latn": "Inmul chŏn'gi wŏn'go",
        "en": "Biographical manuscripts",
    },
    "summary": {"en": "Handwritten biographies of the 1990s (synthetic test data)."},
    "rights": "http://rightsstatements.org/vocab/InC-EDU/1.0/",
    "required_statement": {
        "label": {"en": "Attribution", "ko": "출처 표시"},
        "value": {"en": "<p>Example Library, <b>Manuscripts</b></p>"},
    },
    "provider": {
        "id": "https://library.example/",
        "label": {"en": "Example Library", "ko": "예시 도서관"},
        "homepage": "https://library.example/",
        "logo": "https://library.example/logo.png",
    },
    "homepage": {"id": "https://library.example/collections/biographies"},
    "behavior": ["individuals"],
    "parent": {
        "id": "https://library.example/iiif/manuscripts.json",
        "label": {"en": "Manuscripts"},
    },
}


def make_config(base_url: str = BASE_URL, **sections: Any) -> Config:
    """Return a configuration with the test collection (sections override it)."""
    overrides: dict[str, Any] = {"site": {"base_url": base_url}, "collection": COLLECTION}
    overrides.update(sections)
    return load_config(None, overrides=overrides, environ={})


def layout(base_url: str = BASE_URL) -> Layout:
    return Layout(out=Path("/nonexistent/out"), base_url=base_url)


def page_input(
    paths: Layout,
    volume: str,
    index: int,
    *,
    ocr: bool = True,
    label: dict[str, list[str]] | None = None,
    capped: bool = False,
) -> PageInput:
    """One page's records: 2480 x 3508 px, thumbnail from the listed sizes, optional OCR."""
    page = f"p{index + 1:03d}"
    item = PageItem(
        volume=volume,
        page=page,
        source=f"/scans/{volume}/{page}.tif",
        index=index,
        label=label or {"none": [str(index + 1)]},
        ocr_languages=("kor",),
    )
    full = (1448, 2048) if capped else (2480, 3508)
    tiles = {
        "service_id": paths.image_service_id(volume, page),
        "width": 2480,
        "height": 3508,
        "full": f"full/{full[0]},{full[1]}/0/default.jpg" if capped else "full/max/0/default.jpg",
        "full_width": full[0],
        "full_height": full[1],
        "sizes": [[155, 220], [310, 439], [620, 877]],
        "thumbnail": {"path": "full/310,439/0/default.jpg", "width": 310, "height": 439},
    }
    upstream: dict[str, dict[str, Any]] = {"ingest": {"file": f"{page}.tif"}, "tiles": tiles}
    if ocr:
        upstream["annotations"] = {"annotations": f"{volume}/annotations/{page}.json"}
        upstream["ocr"] = {
            "hocr": f"{volume}/ocr/{page}.hocr",
            "alto": f"{volume}/ocr/{page}.alto.xml",
            "txt": f"{volume}/ocr/{page}.txt",
            "language": "kor",
            "bcp47": "ko",
            "published": True,
        }
    return PageInput(item=item, upstream=Upstream.model_validate(upstream))


def volume_input(
    volume: str,
    pages: list[PageInput],
    *,
    descriptor: Descriptor | dict[str, Any] | None = None,
    missing: tuple[str, ...] = (),
    text: bool = False,
    order: tuple[str, ...] | None = None,
) -> VolumeInput:
    texts = (
        {"text": {"text": f"{volume}/{volume}.txt"}, "index": {"index": f"{volume}/search.sqlite"}}
        if text
        else {}
    )
    return VolumeInput(
        volume=volume,
        descriptor=Descriptor.model_validate(descriptor or {}),
        pages=tuple(pages),
        missing=missing,
        upstream=Upstream.model_validate(texts),
        order=order or tuple(sorted([p.item.page for p in pages] + list(missing))),
    )


def golden_descriptor() -> Descriptor:
    """The descriptor of the full golden volume, as the runner hands it to the stage."""
    return Descriptor.model_validate(read_toml(GOLDEN / "volume-full.toml"))


def full_volume(paths: Layout) -> VolumeInput:
    """Five pages: OCR on four (the blank last page has none), one capped full-size image."""
    pages = [page_input(paths, "vol-1", i, capped=(i == 2)) for i in range(4)]
    pages.append(
        page_input(paths, "vol-1", 4, ocr=False, label={"none": ["뒤표지"], "en": ["Back cover"]})
    )
    return volume_input("vol-1", pages, descriptor=golden_descriptor(), text=True)


def minimal_volume(paths: Layout) -> VolumeInput:
    """Two pages, no descriptor, no OCR."""
    return volume_input("vol-2", [page_input(paths, "vol-2", i, ocr=False) for i in range(2)])


def build_manifest(inp: VolumeInput, cfg: Config) -> dict[str, Any]:
    data, _ = manifest_stage.build_manifest(
        inp, manifest_stage.settings(cfg), layout(cfg.site.base_url)
    )
    return data


def build_collection(volumes: list[tuple[str, ManifestResult]], cfg: Config) -> dict[str, Any]:
    from pipeline.iiif.models import to_data

    model = collection_stage.build_collection(
        CollectionInput(volumes=tuple(volumes)),
        cfg.collection,
        layout(cfg.site.base_url),
        search_urls(cfg),
    )
    return to_data(model, context=True)


def manifest_record(data: dict[str, Any]) -> ManifestResult:
    """What the manifest stage records for the collection stage."""
    return ManifestResult(
        id=data["id"],
        label=data["label"],
        thumbnail=data.get("thumbnail"),
        searchable="service" in data,
    )


def _undo_prezi3_loader(data: Any) -> Any:
    """Undo what iiif-prezi3's loader adds to references when it parses a document.

    Its smart unions read a canvas reference in a range as a Canvas, and an AnnotationPage
    reference in ``annotations`` as an embedded AnnotationPage, and its defaulter then gives
    both ``"items": []`` (the very form viewers do not fetch). Our documents hold references;
    this strips exactly those empty lists so the rest can be compared.
    """
    if isinstance(data, list):
        return [_undo_prezi3_loader(v) for v in data]
    if not isinstance(data, dict):
        return data
    out = {k: _undo_prezi3_loader(v) for k, v in data.items()}
    refs = []
    if out.get("type") == "Range":
        refs = [i for i in out["items"] if i.get("type") == "Canvas"]
    refs += [a for a in out.get("annotations", []) if a.get("type") == "AnnotationPage"]
    for ref in refs:
        if ref.get("items") == []:
            del ref["items"]
    return out


def check_presentation(data: dict[str, Any]) -> None:
    """Assert: valid against the Presentation 3 JSON Schema, and unchanged by iiif-prezi3."""
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]
    cls = iiif_prezi3.Manifest if data["type"] == "Manifest" else iiif_prezi3.Collection
    again = json.loads(cls(**data).jsonld())
    assert _undo_prezi3_loader(again) == data
