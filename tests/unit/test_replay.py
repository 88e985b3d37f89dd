"""The viewer replay: which URLs OpenSeadragon/Mirador request from a level-0 info.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import JobInputError
from pipeline.iiif import image as iiif
from pipeline.layout import Layout

BASE = "https://example.org/iiif/"
# Universal Viewer 4's thumbnail strip and gallery: a whole image at a width, whatever the sizes.
UV_THUMBNAILS = ["full/90,/0/default.jpg", "full/200,/0/default.jpg"]


def full_pyramid(width: int, height: int, tile: int) -> list[int]:
    """The scale factors dzsave writes: halving until a level fits in one tile."""
    factors = [1]
    while max(iiif.level_size(width, height, factors[-1])) > tile:
        factors.append(factors[-1] * 2)
    return factors


def info_for(width: int, height: int, tile: int = 512, sizes: list[tuple[int, int]] | None = None):
    factors = full_pyramid(width, height, tile)
    return iiif.build_info(
        service_id=f"{BASE}v/images/p1",
        width=width,
        height=height,
        tile=tile,
        scale_factors=factors,
        sizes=sizes or [],
    )


@pytest.mark.parametrize(
    ("num", "den", "ceil", "js_round"),
    [(7, 2, 4, 4), (9, 4, 3, 2), (10, 4, 3, 3), (5, 2, 3, 3), (8, 4, 2, 2), (1, 8, 1, 0)],
)
def test_roundings_match_javascript(num: int, den: int, ceil: int, js_round: int) -> None:
    assert iiif.ceil_div(num, den) == ceil
    assert iiif.round_div(num, den) == js_round


def test_small_pyramid_requests_exactly_these_urls() -> None:
    info = info_for(1000, 700, sizes=[(500, 350)])
    assert iiif.expected_paths(info) == sorted(
        [
            "info.json",
            "full/max/0/default.jpg",
            "full/500,350/0/default.jpg",
            "0,0,512,512/512,512/0/default.jpg",
            "512,0,488,512/488,512/0/default.jpg",
            "0,512,512,188/512,188/0/default.jpg",
            "512,512,488,188/488,188/0/default.jpg",
            *UV_THUMBNAILS,
        ]
    )


def test_image_smaller_than_a_tile_is_fetched_as_full_max() -> None:
    assert iiif.expected_paths(info_for(300, 200)) == sorted(
        ["full/max/0/default.jpg", "info.json", *UV_THUMBNAILS]
    )


def test_edge_tiles_under_both_roundings() -> None:
    # Level sf=4 of 2501 px: the last column covers 453 px -> 113.25 px: ceil 114, round 113.
    paths = iiif.expected_paths(info_for(2501, 3499))
    assert "2048,0,453,2048/114,512/0/default.jpg" in paths
    assert "2048,0,453,2048/113,512/0/default.jpg" in paths
    # 3499 / 8 = 437.4: the smallest level, fetched whole, under both roundings.
    assert "full/313,438/0/default.jpg" in paths
    assert "full/313,437/0/default.jpg" in paths


def test_level_exactly_one_tile_wide_is_a_tile_request_under_ceil() -> None:
    # 2045 / 4 = 511.25: ceil says 512 (not < 512, so a tile request of region "full"),
    # JavaScript rounding says 511 (fits, so fetched whole).
    paths = iiif.expected_paths(info_for(2045, 1000))
    assert "full/512,250/0/default.jpg" in paths
    assert "full/511,250/0/default.jpg" in paths


def test_levels_missing_from_scale_factors_are_still_requested() -> None:
    info = info_for(2501, 3499)
    info["tiles"][0]["scaleFactors"] = [1, 8]
    assert "full/313,438/0/default.jpg" in iiif.expected_paths(info)
    assert "0,0,1024,1024/512,512/0/default.jpg" in iiif.expected_paths(info)


def test_zero_sized_round_down_tiles_are_not_expected() -> None:
    # 2049 wide at sf=4: the last column is 1 px, which rounds to 0.
    paths = iiif.expected_paths(info_for(2049, 600))
    assert not any("/0," in p.split("/0/")[0] for p in paths)


def test_find_missing_and_urls() -> None:
    info = info_for(300, 200, sizes=[(300, 200)])
    have = {"info.json", "full/max/0/default.jpg", *UV_THUMBNAILS}
    assert iiif.find_missing(info, have.__contains__) == ["full/300,200/0/default.jpg"]
    assert f"{BASE}v/images/p1/full/300,200/0/default.jpg" in iiif.expected_urls(info)


@pytest.mark.parametrize(
    "bad", [{}, {"width": 10}, {"width": 0, "height": 5}, {"width": 5, "height": 5, "tiles": [{}]}]
)
def test_malformed_info_is_a_value_error(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="malformed"):
        iiif.expected_paths(bad)


@pytest.mark.parametrize(
    ("sizes", "chosen"),
    [
        ([(157, 219), (313, 438), (626, 875)], (313, 438)),
        ([(100, 50), (200, 100)], (200, 100)),
        ([(1, 1)], (1, 1)),
    ],
)
def test_thumbnail_is_a_listed_size(sizes: list[tuple[int, int]], chosen: tuple[int, int]) -> None:
    assert iiif.choose_thumbnail(sizes) == chosen


def test_info_is_level0_image_service3_with_stable_text() -> None:
    info = iiif.build_info(
        service_id=f"{BASE}v/images/p1",
        width=3000,
        height=2000,
        tile=512,
        scale_factors=[1, 2, 4, 8],
        sizes=[(375, 250)],
        max_size=(750, 500),
    )
    assert list(info)[:7] == ["@context", "id", "type", "protocol", "profile", "width", "height"]
    assert info["profile"] == "level0" and info["type"] == "ImageService3"
    assert (info["maxWidth"], info["maxHeight"]) == (750, 500)
    text = iiif.dump_info(info)
    assert text.endswith("}\n") and json.loads(text) == info


def _service(root: Path, info: dict[str, object], files: list[str]) -> None:
    root.mkdir(parents=True)
    (root / "info.json").write_text(json.dumps(info))
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")


def test_replay_output_reports_missing_urls_and_wrong_ids(tmp_path: Path) -> None:
    layout = Layout(tmp_path, BASE)
    good = info_for(300, 200)
    _service(tmp_path / "v" / "images" / "p1", good, ["full/max/0/default.jpg", *UV_THUMBNAILS])
    other = {**info_for(300, 200), "id": "http://elsewhere.example/p2"}
    _service(tmp_path / "v" / "images" / "p2", other, [])
    (tmp_path / "v" / "images" / "p3").mkdir()
    report = iiif.replay_output(layout)
    assert report.services == 3
    assert report.missing == [
        f"{BASE}v/images/p2/{p}" for p in ["full/200,/0/default.jpg", "full/90,/0/default.jpg"]
    ] + [f"{BASE}v/images/p2/full/max/0/default.jpg"]
    assert any("p2/info.json: id is" in p for p in report.problems)
    assert any("p3/info.json: no info.json" in p for p in report.problems)


def test_replay_output_unknown_volume(tmp_path: Path) -> None:
    with pytest.raises(JobInputError, match="nope"):
        iiif.replay_output(Layout(tmp_path, BASE), ["nope"])


def test_universal_viewer_thumbnails_are_expected_of_every_service() -> None:
    for info in (info_for(300, 200), info_for(2501, 3499, sizes=[(313, 438)])):
        assert set(UV_THUMBNAILS) <= set(iiif.expected_paths(info))


@pytest.mark.parametrize(
    ("path", "width"),
    [
        ("full/90,/0/default.jpg", 90),
        ("full/200,/0/default.jpg", 200),
        ("full/90,127/0/default.jpg", None),
        ("full/max/0/default.jpg", None),
        ("0,0,90,90/90,/0/default.jpg", None),
        ("full/,90/0/default.jpg", None),
    ],
)
def test_width_paths(path: str, width: int | None) -> None:
    assert iiif.parse_width_path(path) == width
    if width is not None:
        assert iiif.width_path(width) == path


@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [((620, 877), 90, (90, 127)), ((6000, 300), 90, (90, 5)), ((1000, 1), 90, (90, 1))],
)
def test_width_size_rounds_the_height(
    size: tuple[int, int], target: int, expected: tuple[int, int]
) -> None:
    assert iiif.width_size(*size, target) == expected


def test_publish_replay_asks_the_target_for_universal_viewer_thumbnails(tmp_path: Path) -> None:
    # Publish uploads a manifest only once every URL of viewer_rels answers on the target.
    from pipeline.publish.check import viewer_rels

    layout = Layout(tmp_path, BASE)
    info = info_for(300, 200)
    _service(tmp_path / "v" / "images" / "p1", info, [])
    manifest = {
        "type": "Manifest",
        "items": [{"service": [{"id": info["id"], "type": "ImageService3"}]}],
    }
    rels, problems = viewer_rels(layout, manifest)
    assert problems == []
    assert {f"v/images/p1/{p}" for p in UV_THUMBNAILS} <= rels
