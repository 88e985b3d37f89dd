"""Manifest and collection building from page records (no files): structure, links, checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from iiif_prezi3 import Canvas

from pipeline.config import LabelValue
from pipeline.errors import ManifestError
from pipeline.iiif import canvases as canvases
from pipeline.iiif.models import Assembler, ShapeMismatchError, to_data, validated
from pipeline.input.descriptor import Descriptor, MetadataEntry
from pipeline.layout import Layout
from pipeline.records import PageItem
from pipeline.results import ManifestResult
from pipeline.stages import collection as collection_stage
from pipeline.stages import manifest as stage
from pipeline.stages.spec import CollectionInput
from tests.manifest_samples import (
    COLLECTION,
    build_collection,
    build_manifest,
    check_presentation,
    full_volume,
    layout,
    make_config,
    manifest_record,
    minimal_volume,
    page_input,
    volume_input,
)

BASE = "https://example.org/iiif/"
LOGO = '<img src="logo.png">'  # a relative src: removed, so nothing is left


def _ids(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "id" and isinstance(value, str):
                yield value
            else:
                yield from _ids(value)
    elif isinstance(data, list):
        for value in data:
            yield from _ids(value)


@pytest.fixture
def full() -> dict[str, Any]:
    return build_manifest(full_volume(layout()), make_config())


def test_full_manifest_is_valid_and_round_trips(full: dict[str, Any]) -> None:
    check_presentation(full)
    assert full["id"] == f"{BASE}vol-1/manifest.json"
    assert [c["id"] for c in full["items"]] == [f"{BASE}vol-1/canvas/p00{i}" for i in range(1, 6)]


def test_minimal_manifest_is_valid() -> None:
    data = build_manifest(minimal_volume(layout()), make_config())
    check_presentation(data)
    assert data["label"] == {"none": ["vol-2"]}
    assert data["behavior"] == ["paged"]
    assert "structures" not in data and "start" not in data
    assert data["thumbnail"][0]["id"] == f"{BASE}vol-2/images/p001/full/310,439/0/default.jpg"


def test_canvas_paints_the_image_with_a_level0_service(full: dict[str, Any]) -> None:
    canvas = full["items"][0]
    assert (canvas["width"], canvas["height"]) == (2480, 3508)
    page = canvas["items"][0]
    painting = page["items"][0]
    assert painting["motivation"] == "painting" and painting["target"] == canvas["id"]
    body = painting["body"]
    assert body["id"] == f"{BASE}vol-1/images/p001/full/max/0/default.jpg"
    assert (body["type"], body["format"], body["width"], body["height"]) == (
        "Image",
        "image/jpeg",
        2480,
        3508,
    )
    assert body["service"] == [
        {"id": f"{BASE}vol-1/images/p001", "type": "ImageService3", "profile": "level0"}
    ]


def test_capped_full_size_is_the_body(full: dict[str, Any]) -> None:
    canvas = full["items"][2]
    body = canvas["items"][0]["items"][0]["body"]
    assert body["id"].endswith("/images/p003/full/1448,2048/0/default.jpg")
    assert (body["width"], body["height"]) == (1448, 2048)
    assert (canvas["width"], canvas["height"]) == (2480, 3508)


def test_thumbnails_are_listed_sizes_with_their_service(full: dict[str, Any]) -> None:
    for canvas in full["items"]:
        (thumb,) = canvas["thumbnail"]
        assert thumb["id"].endswith("/full/310,439/0/default.jpg")
        assert (thumb["width"], thumb["height"]) == (310, 439)
        assert (
            thumb["service"][0]["id"] == canvas["items"][0]["items"][0]["body"]["service"][0]["id"]
        )
    # The descriptor names p003 as the volume's thumbnail.
    assert full["thumbnail"][0]["id"] == f"{BASE}vol-1/images/p003/full/310,439/0/default.jpg"


def test_ocr_annotations_are_a_reference_not_an_empty_page(full: dict[str, Any]) -> None:
    canvas = full["items"][0]
    assert canvas["annotations"] == [
        {"id": f"{BASE}vol-1/annotations/p001.json", "type": "AnnotationPage"}
    ]


def test_ocr_see_also_and_rendering(full: dict[str, Any]) -> None:
    canvas = full["items"][0]
    alto, hocr = canvas["seeAlso"]
    assert (alto["id"], alto["format"], alto["profile"]) == (
        f"{BASE}vol-1/ocr/p001.alto.xml",
        "application/xml",
        "http://www.loc.gov/standards/alto/ns-v3#",
    )
    assert (hocr["id"], hocr["format"], hocr["profile"]) == (
        f"{BASE}vol-1/ocr/p001.hocr",
        "text/html",
        "http://kba.github.io/hocr-spec/1.2/",
    )
    assert alto["label"]["en"] and alto["label"]["ko"]
    assert canvas["rendering"][0]["id"] == f"{BASE}vol-1/ocr/p001.txt"
    assert full["rendering"] == [
        {
            "id": f"{BASE}vol-1/vol-1.txt",
            "type": "Text",
            "format": "text/plain",
            "label": full["rendering"][0]["label"],
        }
    ]


def test_page_without_ocr_has_no_links(full: dict[str, Any]) -> None:
    last = full["items"][4]
    assert not {"annotations", "seeAlso", "rendering"} & set(last)
    assert last["label"] == {"none": ["뒤표지"], "en": ["Back cover"]}


def test_alto_4_profile_from_the_record() -> None:
    paths = layout()
    page = page_input(paths, "v", 0)
    assert page.upstream.ocr is not None
    ocr = page.upstream.ocr.model_copy(
        update={"alto_profile": "http://www.loc.gov/standards/alto/ns-v4#"}
    )
    page = dataclasses.replace(page, upstream=page.upstream.model_copy(update={"ocr": ocr}))
    data = build_manifest(volume_input("v", [page]), make_config())
    assert data["items"][0]["seeAlso"][0]["profile"].endswith("ns-v4#")


@pytest.mark.parametrize(
    ("sections", "published"),
    [
        pytest.param({"manifest": {"ocr_links": False}}, True, id="ocr-links-off"),
        pytest.param({}, False, id="text-not-published"),
    ],
)
def test_ocr_links_can_be_left_out(sections: dict[str, Any], published: bool) -> None:
    paths = layout()
    page = page_input(paths, "v", 0)
    assert page.upstream.ocr is not None
    ocr = page.upstream.ocr.model_copy(update={"published": published})
    page = dataclasses.replace(page, upstream=page.upstream.model_copy(update={"ocr": ocr}))
    data = build_manifest(volume_input("v", [page], text=True), make_config(**sections))
    assert not {"annotations", "seeAlso", "rendering"} & set(data["items"][0])
    # The volume text follows ocr_links; a page's unpublished text does not hide it.
    assert ("rendering" in data) is (not sections)


def test_every_id_follows_the_base_url() -> None:
    for base in (BASE, "http://127.0.0.1:8123/preview/"):
        cfg = make_config(base)
        data = build_manifest(full_volume(layout(base)), cfg)
        ours = [i for i in _ids(data) if "library.example" not in i]
        assert ours and all(i.startswith(base) for i in ours), ours


def test_labels_and_summaries_are_sanitised(full: dict[str, Any]) -> None:
    text = str(full)
    assert "<script" not in text and "alert(" not in text and "onclick" not in text
    assert full["summary"]["en"] == ["<p>Handwritten biographies of the 1990s.</p>"]
    assert full["structures"][0]["label"]["en"] == ["Biography of Ri Jong Suk, teacher"]
    note = full["metadata"][-1]
    assert note["label"] == {"en": ["Note (free-form)"]}
    assert note["value"] == {
        "en": ['<span>See <a href="https://library.example/notes">notes</a></span>']
    }


def test_label_with_script_never_reaches_a_viewer() -> None:
    paths = layout()
    pages = [page_input(paths, "v", 0, label={"none": ["<script>alert(1)</script>1r"]})]
    desc = {"label": {"en": ["<img src=x onerror=alert(1)>Vol<script>alert(2)</script>"]}}
    data = build_manifest(volume_input("v", pages, descriptor=desc), make_config())
    assert data["label"] == {"en": ["Vol"]}
    assert data["items"][0]["label"] == {"none": ["1r"]}


EMPTIED_STATEMENTS = [
    # The descriptor refuses these itself (past it, the stage is the second guard).
    pytest.param(
        Descriptor.model_construct(
            required_statement=LabelValue.model_construct(
                label={"en": ["Attribution"]}, value={"en": [LOGO]}
            )
        ),
        "volume.toml: required_statement.value",
        id="required-statement",
    ),
    pytest.param(
        {"metadata": [{"label": {"en": "A"}, "value": "a"}, {"label": "B", "value": LOGO}]},
        "volume.toml: metadata[2].value",
        id="metadata-value",
    ),
    pytest.param(
        Descriptor.model_construct(
            metadata=[
                MetadataEntry.model_construct(
                    label={"en": ["<script>x</script>"]}, value={"none": ["Courtesy of X"]}
                )
            ]
        ),
        "volume.toml: metadata[1].label",
        id="metadata-label",
    ),
    pytest.param(
        {"summary": {"ko": ["원고"], "en": ["<style>p{}</style>"]}},
        "volume.toml: summary",
        id="summary-one-language",
    ),
    pytest.param({"source_collection": {"en": LOGO}}, "volume.toml: source_collection", id="field"),
]


@pytest.mark.parametrize(("descriptor", "where"), EMPTIED_STATEMENTS)
def test_statements_that_sanitise_to_nothing_are_refused(
    descriptor: Descriptor | dict[str, Any], where: str
) -> None:
    inp = volume_input("v", [page_input(layout(), "v", 0)], descriptor=descriptor)
    with pytest.raises(ManifestError) as err:
        build_manifest(inp, make_config())
    assert str(err.value).startswith(f"{where}: nothing left after removing HTML"), err.value


def test_blank_statements() -> None:
    desc = {"title": "", "summary": {"en": " "}, "metadata": [{"label": "Note", "value": ""}]}
    inp = volume_input("v", [page_input(layout(), "v", 0)], descriptor=desc)
    with pytest.raises(ManifestError, match=r"^volume.toml: metadata\[1\].value: no text given$"):
        build_manifest(inp, make_config())
    data = build_manifest(
        volume_input("v", inp.pages, descriptor=desc | {"metadata": []}), make_config()
    )
    assert "metadata" not in data and "summary" not in data  # nothing given, nothing lost


def test_collection_summary_that_sanitises_to_nothing_is_refused() -> None:
    cfg = make_config(collection=COLLECTION | {"summary": {"en": LOGO}})
    vol = build_manifest(minimal_volume(layout()), make_config())
    with pytest.raises(ManifestError, match=r"^collection.summary: nothing left after removing"):
        build_collection([("vol-2", manifest_record(vol))], cfg)


def test_metadata_catalogue_fields_first_in_four_languages(full: dict[str, Any]) -> None:
    labels = [m["label"]["en"][0] for m in full["metadata"]]
    assert labels == [
        "Title",
        "Compiler",
        "Date",
        "Language",
        "Subject",
        "Physical description",
        "Call number",
        "Source collection",
        "Note (free-form)",
    ]
    title = full["metadata"][0]
    assert set(title["label"]) == {"ko", "en", "ru"}
    assert title["value"]["ko-Latn"] == ["Inmul chŏn'gi"]
    assert full["metadata"][4]["value"]["ko"] == ["인물전기", "교원"]


def test_presentation_properties(full: dict[str, Any]) -> None:
    assert full["label"]["ko-Latn"] == ["Inmul chŏn'gi che 1 kwŏn"]
    assert full["rights"] == "http://creativecommons.org/licenses/by-nc/4.0/"  # descriptor wins
    assert full["requiredStatement"]["value"]["en"] == [
        "<p>Example Library, <b>Manuscripts</b></p>"
    ]
    assert full["navDate"] == "1994-05-01T00:00:00Z"
    assert full["start"] == {"id": f"{BASE}vol-1/canvas/p002", "type": "Canvas"}
    assert full["viewingDirection"] == "left-to-right"
    assert full["homepage"][0]["id"] == "https://catalogue.library.example/record/MS-BIO-001"
    assert full["seeAlso"][0]["format"] == "application/marcxml+xml"
    (provider,) = full["provider"]
    assert provider["type"] == "Agent"
    assert provider["homepage"][0]["format"] == "text/html"
    assert provider["logo"] == [
        {"id": "https://library.example/logo.png", "type": "Image", "format": "image/png"}
    ]
    assert full["partOf"] == [
        {
            "id": f"{BASE}biographies.json",
            "type": "Collection",
            "label": full["partOf"][0]["label"],
        }
    ]


def test_collection_rights_apply_without_an_override() -> None:
    data = build_manifest(minimal_volume(layout()), make_config())
    assert data["rights"] == "http://rightsstatements.org/vocab/InC-EDU/1.0/"


def test_descriptor_behavior_and_direction() -> None:
    paths = layout()
    pages = [page_input(paths, "v", i, ocr=False) for i in range(2)]
    desc = {"behavior": ["individuals"], "viewing_direction": "right-to-left"}
    data = build_manifest(volume_input("v", pages, descriptor=desc), make_config())
    assert data["behavior"] == ["individuals"]
    assert data["viewingDirection"] == "right-to-left"


def test_ranges_nest_in_page_order(full: dict[str, Any]) -> None:
    first, second = full["structures"]
    assert first["id"] == f"{BASE}vol-1/range/1"
    assert [(i["type"], i["id"].rsplit("/", 1)[-1]) for i in first["items"]] == [
        ("Canvas", "p001"),
        ("Range", "1.1"),
        ("Canvas", "p003"),
    ]
    assert [i["id"].rsplit("/", 1)[-1] for i in second["items"]] == ["p004", "p005"]


def test_partial_manifest_leaves_failed_pages_out_of_ranges() -> None:
    paths = layout()
    pages = [page_input(paths, "v", i, ocr=False) for i in (0, 2, 3)]
    desc = {
        "ranges": [
            {"label": {"en": ["A"]}, "first": "p001", "last": "p002"},
            {"label": {"en": ["Only failed"]}, "first": "p002", "last": "p002"},
            {"label": {"en": ["B"]}, "first": "p003", "last": "p004"},
        ]
    }
    inp = volume_input("v", pages, descriptor=desc, missing=("p002",))
    cfg = make_config(manifest={"allow_partial": True})
    data = build_manifest(inp, cfg)
    check_presentation(data)
    assert [c["id"].rsplit("/", 1)[-1] for c in data["items"]] == ["p001", "p003", "p004"]
    assert [r["id"].rsplit("/", 1)[-1] for r in data["structures"]] == ["1", "3"]
    assert [i["id"].rsplit("/", 1)[-1] for i in data["structures"][0]["items"]] == ["p001"]


def test_failed_pages_refuse_the_manifest_unless_partial(tmp_path: Any) -> None:
    paths = Layout(out=tmp_path, base_url=BASE)
    inp = volume_input("v", [page_input(paths, "v", 0, ocr=False)], missing=("p002", "p003"))
    with pytest.raises(ManifestError, match=r"2 page\(s\) failed \(p002, p003\).*--allow-partial"):
        stage.run(inp, stage.settings(make_config()), paths)
    rec = stage.run(inp, stage.settings(make_config(manifest={"allow_partial": True})), paths)
    assert rec.status == "ok"
    assert rec.data["missing"] == ["p002", "p003"]
    assert rec.data["canvases"] == 1
    assert (tmp_path / "v" / "manifest.json").is_file()


def test_tiles_made_for_another_base_url_are_refused() -> None:
    page = page_input(layout("https://old.example/iiif/"), "v", 0)
    with pytest.raises(ManifestError, match="run the tiles stage again"):
        build_manifest(volume_input("v", [page]), make_config())


def test_no_tiles_at_all_is_an_error() -> None:
    inp = volume_input("v", [], missing=("p001",))
    with pytest.raises(ManifestError, match="no page of this volume has tiles"):
        build_manifest(inp, make_config(manifest={"allow_partial": True}))


def test_a_value_iiif_prezi3_refuses_is_one_manifest_error(tmp_path: Any) -> None:
    paths = layout()
    # Past the descriptor's own check (it refuses this too): iiif-prezi3 is the last guard.
    desc = Descriptor.model_construct(viewing_direction="sideways")
    inp = volume_input("v", [page_input(paths, "v", 0)], descriptor=desc)
    with pytest.raises(ManifestError, match=r"^iiif-prezi3 refused a value: viewingDirection\b"):
        build_manifest(inp, make_config())
    coll = CollectionInput(volumes=(("v", ManifestResult(id="not a URL", label={"none": ["v"]})),))
    settings = collection_stage.settings(make_config())
    with pytest.raises(ManifestError, match=r"^iiif-prezi3 refused a value: id: .*valid URL"):
        collection_stage.run(coll, settings, Layout(out=tmp_path, base_url=BASE))
    assert not list(tmp_path.iterdir())


def test_plain_canvases_equal_prezi3_objects(full: dict[str, Any]) -> None:
    """The fast path and iiif-prezi3 agree on every canvas, not just the ones checked."""
    paths = layout()
    for page, canvas in zip(full_volume(paths).pages, full["items"], strict=True):
        up = page.upstream
        assert up.tiles is not None
        parts = canvases.canvas_parts(page.item, up.tiles, up.ocr, up.annotations, paths)
        model = canvases.build_canvas(validated, parts)
        assert isinstance(model, Canvas)
        assert to_data(model) == canvas


def test_each_shape_is_validated_once() -> None:
    paths = layout()
    pages = [page_input(paths, "v", i, ocr=i % 2 == 0) for i in range(40)]
    _, assembler = stage.build_manifest(
        volume_input("v", pages), stage.settings(make_config()), paths
    )
    assert assembler.validated == 2  # with OCR links, without


def test_a_plain_build_that_drifts_from_prezi3_is_caught() -> None:
    def drifting(make: Any, parts: PageItem) -> Any:
        # iiif-prezi3 ignores unknown fields; the plain build would publish it.
        return make(Canvas, id="https://example.org/c", width=1, height=1, items=[], bogus=1)

    with pytest.raises(ShapeMismatchError, match="differs from iiif-prezi3"):
        Assembler().build(drifting, page_input(layout(), "v", 0).item, "canvas")


def test_layout_service_id_matches_the_image_folder() -> None:
    paths = layout()
    assert paths.image_service_id("v", "p1") == paths.url(paths.image_dir("v", "p1"))
    with pytest.raises(ValueError, match="not a path inside"):
        paths.image_url("v", "p1", "../p2/info.json")
    with pytest.raises(ValueError, match="not a path inside"):
        paths.url_of("/etc/passwd")


def test_collection_lists_volumes_with_thumbnails() -> None:
    cfg = make_config()
    paths = layout()
    vol1 = build_manifest(full_volume(paths), cfg)
    vol2 = build_manifest(minimal_volume(paths), cfg)
    data = build_collection(
        [("vol-1", manifest_record(vol1)), ("vol-2", manifest_record(vol2))], cfg
    )
    check_presentation(data)
    assert data["id"] == f"{BASE}biographies.json"
    assert [m["id"] for m in data["items"]] == [vol1["id"], vol2["id"]]
    assert data["items"][0]["label"] == vol1["label"]
    assert data["items"][0]["thumbnail"] == vol1["thumbnail"]
    assert data["thumbnail"] == vol1["thumbnail"]
    assert data["behavior"] == ["individuals"]
    assert data["partOf"][0]["id"] == "https://library.example/iiif/manuscripts.json"
    assert data["homepage"][0]["label"] == data["label"]
    assert data["provider"][0]["id"] == "https://library.example/"
    assert data["rights"] == "http://rightsstatements.org/vocab/InC-EDU/1.0/"
