"""Transcription inputs: the folder matched to pages, the settings, the report's CER of our OCR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.archive.report_build import build_report
from pipeline.archive.report_html import render_html
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.input.volumes import load_volume
from pipeline.ocr.cer import errors
from pipeline.records import StageRecord
from pipeline.results import OcrResult, TextLine, TextProvenance, TranscriptionResult
from pipeline.state import StateStore

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"


def _volume(root: Path, *pages: str) -> Path:
    folder = root / "scans" / "vol"
    folder.mkdir(parents=True)
    for page in pages:
        (folder / page).write_bytes(b"")
    return folder


def test_files_match_by_page_id_stem_or_declared_image(tmp_path: Path) -> None:
    folder = _volume(tmp_path, "p1.tif", "0003.tif", "p3.tif")
    found = tmp_path / "transcriptions" / "vol"
    found.mkdir(parents=True)
    (found / "p1.txt").write_text("글\n", encoding="utf-8")
    # An eScriptorium export keeps its own name; the image it declares is 0003.jpg.
    shutil.copy(DATA / "escriptorium-page2019-0003.xml", found / "export_doc7_page1.xml")
    (found / ".DS_Store").write_bytes(b"\0")
    volume = load_volume(folder, ["kor"], tmp_path / "transcriptions")
    files = {p.page: p.transcript.name if p.transcript else None for p in volume.pages}
    assert files == {"p1": "p1.txt", "0003": "export_doc7_page1.xml", "p3": None}
    assert volume.transcript_problems == ()
    first = next(p.transcript for p in volume.pages if p.page == "p1")
    assert first is not None and Path(first.path) == (found / "p1.txt").absolute()


def test_unmatched_and_duplicate_files_are_one_line_each_naming_the_file(tmp_path: Path) -> None:
    folder = _volume(tmp_path, "p1.tif", "p2.tif")
    found = tmp_path / "transcriptions" / "vol"
    found.mkdir(parents=True)
    for name in ("p1.txt", "p1.xml", "p2.txt", "p9.txt"):
        (found / name).write_text("글\n", encoding="utf-8")
    volume = load_volume(folder, ["kor"], tmp_path / "transcriptions")
    assert [p.transcript.name if p.transcript else None for p in volume.pages] == [None, "p2.txt"]
    problems = volume.transcript_problems
    assert len(problems) == 2 and all("\n" not in line for line in problems)
    assert problems[0] == f"{found}/p9.txt: no page of this volume matches its name"
    assert problems[1].startswith(f"{found}: page p1: 2 transcription files (p1.txt, p1.xml)")


def test_descriptor_overrides_reach_each_page(tmp_path: Path) -> None:
    folder = _volume(tmp_path, "p1.tif")
    (folder / "volume.toml").write_text(
        '[transcription]\nkind = "htr"\ncreator = "NLK"\ndate = "2025-01-02"\n', encoding="utf-8"
    )
    (tmp_path / "transcriptions" / "vol").mkdir(parents=True)
    (tmp_path / "transcriptions" / "vol" / "p1.txt").write_text("글\n", encoding="utf-8")
    found = load_volume(folder, ["kor"], tmp_path / "transcriptions").pages[0].transcript
    assert found is not None and (found.kind, found.creator, found.date) == (
        "htr",
        "NLK",
        "2025-01-02",
    )
    (folder / "volume.toml").write_text('[transcription]\nkind = "person"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"volume.toml.*transcription.kind"):
        load_volume(folder, ["kor"], tmp_path / "transcriptions")


def test_the_transcriptions_folder_defaults_to_beside_the_scans(tmp_path: Path) -> None:
    cfg = load_config(
        None, overrides={"site": {"scans": str(tmp_path / "a" / "scans")}}, environ={}
    )
    assert cfg.site.transcriptions_dir == tmp_path / "a" / "transcriptions"
    site = {"scans": "scans", "transcriptions": str(tmp_path / "t")}
    assert load_config(None, overrides={"site": site}, environ={}).site.transcriptions_dir == (
        tmp_path / "t"
    )
    assert load_config(None, environ={}).site.transcriptions_dir == Path("transcriptions")


@pytest.mark.parametrize(
    ("precedence", "reason"),
    [
        pytest.param([], "at least one", id="empty"),
        pytest.param(["human", "human"], "twice", id="repeated"),
        pytest.param(["human", "person"], "human", id="unknown"),
    ],
)
def test_a_bad_precedence_is_refused_naming_the_key(precedence: list[str], reason: str) -> None:
    overrides = {"transcriptions": {"precedence": precedence}}
    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides=overrides, environ={})
    assert "transcriptions.precedence" in str(caught.value) and reason in str(caught.value)


def levenshtein(a: str, b: str) -> int:
    """Edit distance, written out again here (not the package's): the test's own reference."""
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return rows[-1][-1]


PAGES = {
    # page: (human text, OCR lines, held for review)
    "p1": ("인물전기 제1권\n로동자", ["인물젼기 제l권", "로동자"], False),
    "p2": ("김일성 동지의\n교시", ["김일 동지", "교시를"], True),
    "p3": ("력사 연구", ["력사 연구"], True),
    "p4": ("바른 글", ["바른", "글자"], False),
}


def _store(tmp_path: Path) -> StateStore:
    state = StateStore(tmp_path / "state.sqlite")

    for page, (human, ocr_lines, held) in PAGES.items():
        ocr = OcrResult(
            language="kor",
            confidence=60.0 if held else 90.0,
            needs_review=held,
            line_boxes=[(t, (0, 0, 1, 1)) for t in ocr_lines],
        )
        edits, length = errors(human, "\n".join(ocr_lines))
        found = TranscriptionResult(
            file=f"{page}.txt",
            provenance=TextProvenance(kind="human"),
            lines=[TextLine(text=t) for t in human.split("\n")],
            chosen=True,
            ocr_edits=edits,
            reference_chars=length,
        )
        state.put(StageRecord.done("ocr", "vol", page, ocr))
        state.put(StageRecord.done("transcription", "vol", page, found))
    return state


def test_the_reports_cer_equals_an_independent_computation(tmp_path: Path) -> None:
    folder = _volume(tmp_path, *(f"{p}.tif" for p in PAGES))
    with _store(tmp_path) as state:
        report = build_report(state, load_volume(folder, ["kor"]), "vol").to_dict()
    measured = report["ocr_accuracy"]
    squeeze = {
        p: ("".join(h.split()), "".join("".join(o).split())) for p, (h, o, _) in PAGES.items()
    }
    edits = {p: levenshtein(h, o) for p, (h, o) in squeeze.items()}
    sizes = {p: len(h) for p, (h, _) in squeeze.items()}
    per_page = {e["page"]: e["cer"] for e in measured["per_page"]}
    assert per_page == {p: round(100 * edits[p] / sizes[p], 2) for p in PAGES}
    assert measured["cer"] == round(100 * sum(edits.values()) / sum(sizes.values()), 2)
    # p1 (2 edits in 10) and p4 are above 10 % and were not held; p3 was held needlessly.
    assert measured["missed_by_gate"] == ["p1", "p4"]
    assert measured["held_below_gate"] == ["p3"]
    html = render_html(report)
    assert "OCR against human transcriptions" in html and "p4.tif" in html


def test_files_left_out_are_warnings_in_the_report(tmp_path: Path) -> None:
    folder = _volume(tmp_path, "p1.tif")
    (tmp_path / "transcriptions" / "vol").mkdir(parents=True)
    (tmp_path / "transcriptions" / "vol" / "p7.txt").write_text("글\n", encoding="utf-8")
    volume = load_volume(folder, ["kor"], tmp_path / "transcriptions")
    warnings = build_report(None, volume, "vol").to_dict()["input"]["warnings"]
    assert warnings == [
        f"{tmp_path}/transcriptions/vol/p7.txt: no page of this volume matches its name"
    ]


def test_a_volume_without_transcriptions_has_no_cer_section(tmp_path: Path) -> None:
    folder = _volume(tmp_path, "p1.tif")
    report = build_report(None, load_volume(folder, ["kor"]), "vol").to_dict()
    assert "ocr_accuracy" not in report
    assert "OCR against human" not in render_html(report)
