"""The correction page over real HTTP: what it shows, CSRF and loopback rules, what Save writes."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pipeline.input.transcripts.read import read_transcript
from pipeline.input.transcripts.schemas import load
from pipeline.publish.correct import correction_server
from pipeline.publish.serve import serving
from pipeline.siteurl import layout_for
from tests.conftest import config_at
from tests.integration.sample_build import HOLD_ALL, VOLUME, build_sample

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

TOKEN = re.compile(r'"csrf": "([^"]*)"')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sample pages through every stage, both held for review."""
    return build_sample(tmp_path_factory.mktemp("built"), pages=2)


@pytest.fixture
def work(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "ws", symlinks=True)
    return tmp_path / "ws"


def _server(root: Path, **serve: Any) -> Any:
    cfg = config_at(root, ocr=HOLD_ALL, serve={"port": 0, **serve})
    return correction_server(cfg, layout_for(cfg))


@pytest.fixture
def server(work: Path) -> Iterator[Any]:
    with serving(_server(work, editor="Kim Minji")) as running:
        yield running


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode("utf-8"))


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    assert raw.count(b"\n") == 1 and raw.endswith(b"\n"), raw  # one line of JSON
    return status, json.loads(raw)


def _pages(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "out" / VOLUME / "images").iterdir())


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".pipeline" not in p.relative_to(folder).parts
    }


def _lines(page_html: str) -> list[tuple[str, str]]:
    found = re.findall(r'<input class="text" data-id="([^"]+)"[^>]*value="([^"]*)"', page_html)
    return [(html.unescape(i), html.unescape(t)) for i, t in found]


def _save_body(page_html: str, changes: dict[int, str], editor: str = "Kim Minji") -> Any:
    lines = [{"id": i, "text": t} for i, t in _lines(page_html)]
    for index, text in changes.items():
        lines[index]["text"] = text
    return {"editor": editor, "lines": lines}


def test_the_volume_list_links_held_pages_and_the_page_shows_lines_and_token(
    server: Any, work: Path
) -> None:
    index = _get(f"{server.url}_correct/{VOLUME}")
    pages = _pages(work)
    for page in pages:
        assert f'href="/_correct/{VOLUME}/{page}"' in index
    assert "2 page(s) held for review" in index
    page_html = _get(f"{server.url}_correct/{VOLUME}/{pages[0]}")
    token = TOKEN.search(page_html)
    assert token and token.group(1) == server.token
    assert len(_lines(page_html)) >= 3 and 'class="line low"' in page_html
    assert "/_osd/openseadragon.min.js" in page_html and "info.json" in page_html
    assert 'value="Kim Minji"' in page_html
    assert _get(f"{server.url}_osd/openseadragon.min.js").startswith("//! openseadragon")


def test_save_without_or_with_a_wrong_token_is_forbidden_and_writes_nothing(
    server: Any, work: Path
) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    body = _save_body(_get(url), {0: "고친 줄"})
    assert _post(url, body) == (
        403,
        {"error": "missing CSRF token: reload the correction page"},
    )
    assert _post(url, body, {"X-CSRF-Token": "guess"}) == (
        403,
        {"error": "wrong CSRF token: reload the correction page"},
    )
    assert not (work / "transcriptions").exists()


def test_save_writes_a_human_page_xml_and_never_touches_out_or_masters(
    server: Any, work: Path
) -> None:
    before_out, before_scans = _tree(work / "out"), _tree(work / "scans")
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    page_html = _get(url)
    original = [text for _, text in _lines(page_html)]
    body = _save_body(page_html, {0: "첫째 줄을 고쳤다", 2: "셋째  줄\n고침"})
    status, answer = _post(url, body, {"X-CSRF-Token": server.token})
    assert (status, answer) == (
        200,
        {
            "saved": f"transcriptions/{VOLUME}/{page}.xml",
            "file": f"{page}.xml",
            "lines": len(original),
        },
    )
    saved = work / "transcriptions" / VOLUME / f"{page}.xml"
    assert load("pagecontent-2019-07-15.xsd").validate(etree.parse(str(saved)))
    transcript = read_transcript(saved)
    expected = [*original]
    expected[0], expected[2] = "첫째 줄을 고쳤다", "셋째 줄 고침"
    assert [line.text for line in transcript.lines] == expected
    assert transcript.provenance.kind == "human" and transcript.provenance.creator == "Kim Minji"
    assert transcript.image_file == next((work / "scans" / VOLUME).glob(f"{page}.*")).name
    assert _tree(work / "out") == before_out and _tree(work / "scans") == before_scans
    # The page now shows the saved file, and saving again replaces it.
    page_html = _get(url)
    assert f"{page}.xml" in page_html and [t for _, t in _lines(page_html)] == expected
    status, _ = _post(url, _save_body(page_html, {1: "둘째"}), {"X-CSRF-Token": server.token})
    assert status == 200 and read_transcript(saved).lines[1].text == "둘째"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"{not json", "not a Save request", id="not-json"),
        pytest.param(
            {"editor": "Kim", "lines": [{"id": "zz", "text": "x"}]},
            "not the page's lines",
            id="wrong-ids",
        ),
        pytest.param(None, "no editor name", id="no-editor"),
    ],
)
def test_bad_save_requests_are_400_with_the_reason(
    server: Any, work: Path, body: Any, message: str
) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    if body is None:
        body = _save_body(_get(url), {}, editor="  ")
    status, answer = _post(url, body, {"X-CSRF-Token": server.token})
    assert status == 400 and message in answer["error"]
    assert not (work / "transcriptions").exists()


def test_another_file_for_the_page_is_not_saved_over(server: Any, work: Path) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    page_html = _get(url)
    folder = work / "transcriptions" / VOLUME
    folder.mkdir(parents=True)
    (folder / "export_doc3.txt").write_text("\n".join(t for _, t in _lines(page_html)) + "\n")
    # A plain-text file does not name its image: it matches nothing by this name, so
    # name it for the page the way an export would be renamed.
    (folder / "export_doc3.txt").rename(folder / f"{page}.txt")
    status, answer = _post(url, _save_body(page_html, {0: "x"}), {"X-CSRF-Token": server.token})
    assert status == 409 and f"its transcription is {page}.txt" in answer["error"]
    assert not (folder / f"{page}.xml").exists()


def test_off_loopback_edits_need_allow_edits_and_a_local_host_header(work: Path) -> None:
    page = _pages(work)[0]
    with serving(_server(work, host="0.0.0.0", editor="Kim")) as public:
        url = f"http://127.0.0.1:{public.server_address[1]}/_correct/{VOLUME}/{page}"
        page_html = _get(url)
        assert TOKEN.search(page_html).group(1) == ""  # type: ignore[union-attr]
        assert "Read-only" in page_html
        status, answer = _post(url, _save_body(page_html, {0: "x"}), {"X-CSRF-Token": public.token})
        assert status == 403 and "--allow-edits" in answer["error"]
    with serving(_server(work, host="0.0.0.0", allow_edits=True, editor="Kim")) as allowed:
        url = f"http://127.0.0.1:{allowed.server_address[1]}/_correct/{VOLUME}/{page}"
        body = _save_body(_get(url), {0: "x"})
        assert _post(url, body, {"X-CSRF-Token": allowed.token})[0] == 200
    with serving(_server(work, editor="Kim")) as local:
        url = f"{local.url}_correct/{VOLUME}/{page}"
        body = _save_body(_get(url), {0: "y"})
        headers = {"X-CSRF-Token": local.token, "Host": "attacker.example:80"}
        status, answer = _post(url, body, headers)
        assert status == 403 and "is not this machine" in answer["error"]


def test_a_post_elsewhere_is_refused(server: Any) -> None:
    status, answer = _post(f"{server.url}{VOLUME}/manifest.json", {}, {"X-CSRF-Token": "x"})
    assert status == 404 and "nothing to save here" in answer["error"]


def test_two_files_for_the_page_are_a_conflict(server: Any, work: Path) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    page_html = _get(url)
    folder = work / "transcriptions" / VOLUME
    folder.mkdir(parents=True)
    for name in (f"{page}.txt", f"{page}.hocr"):
        (folder / name).write_text("줄\n", encoding="utf-8")
    status, answer = _post(url, _save_body(page_html, {0: "x"}), {"X-CSRF-Token": server.token})
    assert status == 409 and f"page {page}: 2 transcription files" in answer["error"]
    assert not (folder / f"{page}.xml").exists()


def test_a_transcription_folder_that_cannot_be_written_is_one_line(server: Any, work: Path) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    (work / "transcriptions").mkdir()
    (work / "transcriptions" / VOLUME).write_text("not a folder")
    status, answer = _post(url, _save_body(_get(url), {0: "x"}), {"X-CSRF-Token": server.token})
    assert status == 500 and "cannot write" in answer["error"]
    assert f"transcriptions/{VOLUME}" in answer["error"]


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    "serve",
    [
        pytest.param({}, id="loopback"),
        pytest.param({"allow_edits": True}, id="loopback-allow-edits"),
        pytest.param({"host": "0.0.0.0", "allow_edits": True}, id="any-address-allow-edits"),
    ],
)
def test_a_rebound_name_gets_neither_the_token_nor_a_save(
    work: Path, serve: dict[str, Any]
) -> None:
    page = _pages(work)[0]
    with serving(_server(work, editor="Kim", **serve)) as running:
        url = f"http://127.0.0.1:{running.server_address[1]}/_correct/{VOLUME}/{page}"
        body = _save_body(_get(url), {0: "x"})
        foreign = {"Host": f"attacker.example:{running.server_address[1]}"}
        for path in (url, url.rsplit("/", 1)[0]):
            status, raw = _fetch(path, foreign)
            assert status == 403 and running.token.encode() not in raw, raw
            assert raw.count(b"\n") == 1 and raw.endswith(b"\n"), raw  # one line of JSON
            assert "'attacker.example' is not this machine" in json.loads(raw)["error"]
        status, answer = _post(url, body, {"X-CSRF-Token": running.token, **foreign})
        assert status == 403 and "'attacker.example' is not this machine" in answer["error"]
    assert not (work / "transcriptions").exists()


def test_a_save_from_another_origin_is_refused_and_from_its_own_page_accepted(
    server: Any, work: Path
) -> None:
    page = _pages(work)[0]
    url = f"{server.url}_correct/{VOLUME}/{page}"
    body = _save_body(_get(url), {0: "x"})
    own = server.url.rstrip("/")
    for origin in ("http://attacker.example", "null", own.replace("http:", "https:")):
        status, answer = _post(url, body, {"X-CSRF-Token": server.token, "Origin": origin})
        assert status == 403 and f"Origin {origin!r} is not this server" in answer["error"]
    assert not (work / "transcriptions").exists()
    assert _post(url, body, {"X-CSRF-Token": server.token, "Origin": own})[0] == 200


def test_the_page_reads_the_volume_with_its_catalogue_entry(work: Path) -> None:
    sheet = work / "batch.csv"
    sheet.write_text(f"folder,OCR languages\n{VOLUME},rus\n", encoding="utf-8")
    toml = work / "scans" / VOLUME / "volume.toml"  # which would win over the catalogue
    toml.write_text(toml.read_text(encoding="utf-8").replace('ocr_languages = ["kor"]\n', ""))
    page = _pages(work)[0]
    cfg = config_at(work, ocr=HOLD_ALL, serve={"port": 0}, site={"catalogue": str(sheet)})
    with serving(correction_server(cfg, layout_for(cfg))) as running:
        page_html = _get(f"{running.url}_correct/{VOLUME}/{page}")
    assert _lines(page_html) and 'lang="ko"' not in page_html and 'lang=""' in page_html
    with serving(_server(work)) as running:
        assert 'lang="ko"' in _get(f"{running.url}_correct/{VOLUME}/{page}")
