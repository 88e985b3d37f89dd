"""The collection's search page: written beside the collection when some volume has text."""

from __future__ import annotations

from pathlib import Path

from pipeline.layout import Layout
from pipeline.results import ManifestResult
from pipeline.search.page import MIRADOR_CDN, search_page
from pipeline.stages import collection as collection_stage
from pipeline.stages.spec import CollectionInput
from tests.conftest import config_at

BASE = "https://example.org/iiif/"


def _run(tmp: Path, searchable: bool, **sections: object) -> tuple[Layout, dict[str, str]]:
    cfg = config_at(tmp, site={"base_url": BASE}, **sections)
    layout = Layout(out=tmp / "out", base_url=BASE)
    manifest = ManifestResult(
        id=layout.manifest_id("vol-1"), label={"ko": ["제1권"]}, searchable=searchable
    )
    inp = CollectionInput(volumes=(("vol-1", manifest),))
    record = collection_stage.run(inp, collection_stage.settings(cfg), layout)
    return layout, dict(record.outputs)


def test_page_asks_the_collection_search_and_loads_mirador(tmp_path: Path) -> None:
    layout, outputs = _run(tmp_path, True)
    page = layout.search_page_path
    assert "search.html" in outputs
    html = page.read_text(encoding="utf-8")
    assert f'"search": "{BASE}search/search2"' in html
    assert f'<script src="{MIRADOR_CDN}"></script>' in html
    # The same settings give the same bytes.
    _run(tmp_path, True)
    assert page.read_text(encoding="utf-8") == html


def test_configured_urls_go_into_the_page(tmp_path: Path) -> None:
    layout, _ = _run(
        tmp_path,
        True,
        search={"url": "https://abc.lambda-url.eu-west-1.on.aws/"},
        serve={"mirador_url": "https://cdn.example.org/m/mirador.min.js"},
    )
    html = layout.search_page_path.read_text(encoding="utf-8")
    assert '"search": "https://abc.lambda-url.eu-west-1.on.aws/search2"' in html
    assert 'src="https://cdn.example.org/m/mirador.min.js"' in html


def test_no_text_no_page(tmp_path: Path) -> None:
    layout, _ = _run(tmp_path, True)
    layout, outputs = _run(tmp_path, False)
    assert "search.html" not in outputs
    assert not layout.search_page_path.exists()


def test_values_are_escaped() -> None:
    html = search_page(search_url='https://x.org/s"</script>', mirador_js='https://x.org/m.js"><')
    assert '</script>"' not in html and '"https://x.org/s\\"<\\/script>"' in html
    assert 'src="https://x.org/m.js&quot;&gt;&lt;"' in html
