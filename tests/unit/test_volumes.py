"""Volume discovery and descriptor validation: page ids, order, listing, traversal, duplicates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.archive.bag import export_bag
from pipeline.archive.fixity import verify_workspace
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.input.volumes import find_volumes, load_volume, page_id_for
from pipeline.layout import SAFE_ID, check_volume_id, volume_id_problem
from pipeline.publish.job import publish


def _folder(root: Path, name: str, files: list[str], toml: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for file in files:
        # Discovery never opens images, so placeholders do.
        (folder / file).write_bytes(b"placeholder")
    if toml is not None:
        (folder / "volume.toml").write_text(toml, encoding="utf-8")
    return folder


def _load(folder: Path):  # type: ignore[no-untyped-def]
    return load_volume(folder, ["kor"])


def test_every_problem_of_a_descriptor_is_shown_with_the_closest_key(tmp_path: Path) -> None:
    toml = (
        'lable = "Letters"\nnav_date = "19x5"\n'
        '[[pages]]\nfile = "p1.tif"\nocr_langs = ["kor"]\n'
        '[[ranges]]\nlabel = "a"\nfrist = "p1"\nlast = "p1"\n'
    )
    folder = _folder(tmp_path, "vol", ["p1.tif"], toml)
    with pytest.raises(ConfigError) as info:
        _load(folder)
    path = folder / "volume.toml"
    assert sorted(str(info.value).splitlines()) == sorted(
        [
            f"{path}: lable: unknown key (did you mean 'label'?)",
            f"{path}: nav_date: '19x5' is not a date such as 1995, 1995-03 or 1995-03-12",
            f"{path}: pages.0.ocr_langs: unknown key (did you mean 'ocr_languages'?)",
            f"{path}: ranges.0.frist: unknown key (did you mean 'first'?)",
        ]
    )


def test_every_range_and_page_reference_problem_is_shown(tmp_path: Path) -> None:
    toml = (
        'start = "p9"\nthumbnail = "p8"\n'
        '[[ranges]]\nlabel = "a"\nfirst = "p1"\nlast = "p7"\n'
        '[[ranges]]\nlabel = "b"\nfirst = "p2"\nlast = "p1"\n'
    )
    folder = _folder(tmp_path, "vol", ["p1.tif", "p2.tif"], toml)
    with pytest.raises(ConfigError) as info:
        _load(folder)
    path = folder / "volume.toml"
    assert str(info.value).splitlines() == [
        f"{path}: ranges[1]: last = 'p7' is not a page id of this volume",
        f"{path}: ranges[2]: last = 'p1' comes before first = 'p2' in page order",
        f"{path}: start: 'p9' is not a page id of this volume",
        f"{path}: thumbnail: 'p8' is not a page id of this volume",
    ]


# -- page ids -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("f017r.tif", id="plain"),
        pytest.param("page 1.tif", id="space"),
        pytest.param("쪽 1.tif", id="hangul"),
        pytest.param("력사-로동.tif", id="hangul-only"),
        pytest.param("p#1?&=%20.tif", id="url-reserved"),
        pytest.param("p[1].tif", id="brackets"),
        pytest.param("..tif", id="dots"),
        pytest.param("-lead.tif", id="leading-dash"),
        pytest.param("a" * 300 + ".tif", id="very-long"),
    ],
)
def test_page_ids_are_url_safe(name: str) -> None:
    pid = page_id_for(name)
    assert SAFE_ID.match(pid), pid
    assert pid not in {".", ".."}


def test_safe_stems_are_page_ids_unchanged() -> None:
    assert page_id_for("f017r.tif") == "f017r"
    assert page_id_for("MS-0042_p.001.jpg") == "MS-0042_p.001"


def test_unsafe_names_get_a_stable_derived_id() -> None:
    # Pinned: published URLs and canvas ids depend on these never changing between versions.
    assert page_id_for("쪽 1.tif") == "1-25bdec33"
    assert page_id_for("page 1.tif") == "page-1-0621a1c1"
    assert page_id_for("쪽 1.tif") == page_id_for("쪽 1.jpg")  # the suffix is not part of it


def test_nfd_and_nfc_names_give_the_same_id() -> None:
    nfc = unicodedata.normalize("NFC", "쪽1.tif")
    nfd = unicodedata.normalize("NFD", "쪽1.tif")
    assert nfc != nfd
    assert page_id_for(nfc) == page_id_for(nfd)


def test_similar_unsafe_names_do_not_collide() -> None:
    assert page_id_for("page 1.tif") != page_id_for("page_1.tif")
    assert page_id_for("page 1.tif") != page_id_for("page?1.tif")


# -- discovery -----------------------------------------------------------------------------------
def test_natural_order_and_what_is_not_a_page(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        "vol",
        [
            "p10.tif",
            "p2.tif",
            "p1.TIF",
            "notes.txt",
            ".DS_Store",
            "._p1.tif",
            "p3.gif",
            "Thumbs.db",
        ],
    )
    (folder / "ground-truth").mkdir()
    volume = _load(folder)
    assert [p.page for p in volume.pages] == ["p1", "p2", "p3", "p10"]
    # A GIF is a page (it fails at ingest with the reason) rather than silently ignored.
    assert Path(volume.pages[2].source).name == "p3.gif"
    assert set(volume.ignored) == {
        "notes.txt",
        ".DS_Store",
        "._p1.tif",
        "Thumbs.db",
        "ground-truth/",
    }
    assert volume.unlisted == () and volume.missing == ()


def test_a_broken_link_is_a_page_that_will_fail_visibly(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "vol", ["p1.tif"])
    (folder / "p2.tif").symlink_to(tmp_path / "nowhere.tif")
    assert [p.page for p in _load(folder).pages] == ["p1", "p2"]


def test_pages_list_sets_order_and_reports_unlisted_and_missing(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, "vol", ["p1.tif", "p2.tif", "p3.tif"], 'pages = ["p2.tif", "p1.tif", "p9.tif"]\n'
    )
    volume = _load(folder)
    assert [p.page for p in volume.pages] == ["p2", "p1", "p9"]
    assert volume.unlisted == ("p3.tif",)
    assert volume.missing == ("p9.tif",)


def test_listed_nfc_name_finds_nfd_file(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "쪽1.tif")
    nfc = unicodedata.normalize("NFC", "쪽1.tif")
    folder = _folder(tmp_path, "vol", [nfd], f'pages = ["{nfc}"]\n')
    volume = _load(folder)
    assert volume.missing == () and volume.unlisted == ()
    assert Path(volume.pages[0].source).name == nfd


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../other/p1.tif", id="parent"),
        pytest.param("..", id="dotdot"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("sub/p1.tif", id="subfolder"),
        pytest.param("..\\\\p1.tif", id="backslash"),
        pytest.param("", id="empty"),
        pytest.param(".", id="dot"),
    ],
)
def test_descriptor_file_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    folder = _folder(tmp_path, "vol", ["p1.tif"], f'pages = ["p1.tif", "{name}"]\n')
    with pytest.raises(ConfigError, match="must be a file name inside the volume folder"):
        _load(folder)


@pytest.mark.parametrize(
    ("files", "toml", "match"),
    [
        pytest.param(["p1.tif", "p1.jpg"], None, "both give page id 'p1'", id="same-stem"),
        pytest.param(
            ["p1.tif"], 'pages = ["p1.tif", "p1.tif"]\n', "listed twice", id="listed-twice"
        ),
        pytest.param(["P1.tif", "p1.tif"], None, "differ only in case", id="case-only"),
    ],
)
def test_duplicate_page_ids_fail_the_volume(
    tmp_path: Path, files: list[str], toml: str | None, match: str
) -> None:
    folder = _folder(tmp_path, "vol", files, toml)
    with pytest.raises(JobInputError, match=match):
        _load(folder)


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        pytest.param("label = \n", "not valid TOML", id="malformed"),
        pytest.param('labl = "x"\n', "labl: unknown key", id="unknown-key"),
        pytest.param("pages = 3\n", "pages", id="wrong-type"),
        pytest.param('viewing_direction = "sideways"\n', "viewing_direction", id="bad-enum"),
        pytest.param(
            '[[ranges]]\nlabel = "a"\nfirst = "p1"\nlast = "p7"\n',
            r"ranges\[1\]: last = 'p7' is not a page id",
            id="range-missing-page",
        ),
        pytest.param(
            '[[ranges]]\nlabel = "a"\nfirst = "p1.tif"\nlast = "p2"\n',
            "that is a file name: its page id is 'p1'",
            id="range-file-name",
        ),
        pytest.param(
            '[[ranges]]\nlabel = "a"\nfirst = "p1"\n',
            "give both 'first' and 'last'",
            id="range-half",
        ),
        pytest.param(
            '[[ranges]]\nlabel = "a"\nfirst = "p2"\nlast = "p1"\n',
            "comes before",
            id="range-backwards",
        ),
        pytest.param(
            '[[ranges]]\nlabel = "a"\n[[ranges.ranges]]\nlabel = "b"\nfirst = "p1"\nlast = "x"\n',
            r"ranges\[1.1\]",
            id="nested-range",
        ),
    ],
)
def test_descriptor_errors_name_file_and_key(tmp_path: Path, toml: str, match: str) -> None:
    folder = _folder(tmp_path, "vol", ["p1.tif", "p2.tif"], toml)
    with pytest.raises(ConfigError, match=match) as info:
        _load(folder)
    assert str(folder / "volume.toml") in str(info.value)


def test_a_volume_needs_pages(tmp_path: Path) -> None:
    with pytest.raises(JobInputError, match="no page images"):
        _load(_folder(tmp_path, "empty", ["notes.txt"]))
    with pytest.raises(JobInputError, match="lists no pages"):
        _load(_folder(tmp_path, "listed", ["p1.tif"], "pages = []\n"))


@pytest.mark.parametrize("name", ["MS 0042", "인물전기", "-lead", "a+b"])
def test_volume_folder_names_must_be_url_safe(tmp_path: Path, name: str) -> None:
    folder = _folder(tmp_path, name, ["p1.tif"])
    with pytest.raises(JobInputError) as info:
        _load(folder)
    assert str(info.value) == f"{folder}: {_id_message(name)}: rename the folder"


# -- volume ids ----------------------------------------------------------------------------------
BAD_IDS = ["..", "../etc", "/etc", "a/b", ".", ".hidden", "", "-lead", "MS 0042", "인물", "v" * 129]


def _id_message(vid: str) -> str:
    return (
        f"volume {vid!r}: not a valid volume id (a folder name of up to 128 letters, digits, "
        "'.', '_' and '-', starting with a letter or digit)"
    )


@pytest.mark.parametrize("vid", BAD_IDS)
def test_every_command_refuses_a_bad_volume_id_with_one_message(
    tmp_path: Path, make_cfg: Callable[..., Config], vid: str
) -> None:
    (tmp_path / "scans").mkdir()
    cfg = make_cfg()
    calls: list[Callable[[], object]] = [
        lambda: check_volume_id(vid),
        lambda: find_volumes(tmp_path / "scans", (vid,)),
        lambda: export_bag(cfg, vid, tmp_path / "bag"),
        lambda: verify_workspace(cfg, [vid]),
        lambda: publish(cfg, to=str(tmp_path / "site"), volumes=[vid]),
    ]
    for call in calls:
        with pytest.raises(ConfigError) as info:
            call()
        assert str(info.value) == _id_message(vid)
    with pytest.raises(ConfigError) as info:
        check_volume_id(vid, "--volume-id")
    assert str(info.value) == f"--volume-id: {_id_message(vid)}"
    assert not (tmp_path / "out").exists() and not (tmp_path / "bag").exists()


@pytest.mark.parametrize("vid", ["v", "MS-0042", "vol_1.2", "0", "v" * 128])
def test_valid_volume_ids_pass_unchanged(vid: str) -> None:
    assert check_volume_id(vid) == vid
    assert volume_id_problem(vid) is None


# -- finding volumes -----------------------------------------------------------------------------


def test_find_volumes_errors(tmp_path: Path) -> None:
    with pytest.raises(JobInputError, match="scans folder not found"):
        find_volumes(tmp_path / "nope")
    (tmp_path / "scans").mkdir()
    with pytest.raises(JobInputError, match="no volume folders"):
        find_volumes(tmp_path / "scans")
    with pytest.raises(JobInputError, match="volume folder not found"):
        find_volumes(tmp_path / "scans", ("vol-9",))


def test_find_volumes_skips_hidden_and_sorts_naturally(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    for name in ("v10", "v2", ".trash"):
        (scans / name).mkdir(parents=True)
    (scans / "README.txt").write_text("x")
    assert [p.name for p in find_volumes(scans)] == ["v2", "v10"]


# -- order ties and per-volume OCR languages ------------------------------------------------------
def test_natural_order_ties_do_not_depend_on_the_file_system() -> None:
    from pipeline.layout.order import natural_key, sort_key

    assert natural_key("p01.tif") == natural_key("p1.tif")
    names = ["p1.tif", "p01.tif", "P2.tif", "p2.tif", "p10.tif"]
    expected = ["p01.tif", "p1.tif", "P2.tif", "p2.tif", "p10.tif"]
    assert sorted(names, key=sort_key) == expected
    assert sorted(reversed(names), key=sort_key) == expected


def test_tied_pages_and_volumes_sort_by_name(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "scans", "v1", ["p1.tif", "p01.tif", "p2.tif"])
    _folder(tmp_path / "scans", "v01", ["a.tif"])
    assert [p.page for p in _load(folder).pages] == ["p01", "p1", "p2"]
    assert [p.name for p in find_volumes(tmp_path / "scans")] == ["v01", "v1"]


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        pytest.param("ocr_languages = []\n", r"ocr_languages: give at least one", id="vol-empty"),
        pytest.param(
            "ocr_languages = ['kor', 'ko r']\n", r"ocr_languages: 'ko r' is not", id="vol-bad"
        ),
        pytest.param(
            "pages = ['p1.tif', {file = 'p2.tif', ocr_languages = []}]\n",
            r"pages\.1\.ocr_languages: give at least one",
            id="page-empty",
        ),
        pytest.param(
            "pages = [{file = 'p1.tif', ocr_languages = ['../kor']}]\n",
            r"pages\.0\.ocr_languages: '\.\./kor' is not",
            id="page-bad",
        ),
    ],
)
def test_ocr_languages_are_validated(tmp_path: Path, toml: str, match: str) -> None:
    folder = _folder(tmp_path, "vol", ["p1.tif", "p2.tif"], toml)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(folder / 'volume.toml'))}: {match}"):
        _load(folder)


def test_ocr_languages_per_volume_and_page(tmp_path: Path) -> None:
    toml = (
        "ocr_languages = ['kor', 'rus']\n"
        "pages = ['p1.tif', {file = 'p2.tif', ocr_languages = ['rus']}]\n"
    )
    folder = _folder(tmp_path, "vol", ["p1.tif", "p2.tif"], toml)
    assert [p.ocr_languages for p in _load(folder).pages] == [("kor", "rus"), ("rus",)]
