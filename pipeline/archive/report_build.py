"""Building a volume's run report from the state store: the typed model, in page order.

What a stage recorded is read only by the ``_*_facts`` and other readers at the top; the rest
works on the model of :mod:`pipeline.archive.report_model`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.archive.report_cer import ocr_accuracy
from pipeline.archive.report_model import (
    MAX_LISTED,
    STATUSES,
    Failure,
    IngestFacts,
    InputFindings,
    OcrSummary,
    PageEntry,
    ReviewFacts,
    ReviewPage,
    StageOutcome,
    StageTally,
    VolumeReport,
)
from pipeline.input.volumes import Volume
from pipeline.records import StageRecord
from pipeline.results import CollectionResult, IngestResult, ManifestResult, OcrResult
from pipeline.results import Failure as StageFailure
from pipeline.stages import STAGES
from pipeline.state import StateStore

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<side>[rv]?)$", re.IGNORECASE)


# -- what stages recorded: the only reads of record data ----------------------------------------
def conversions(ingest: IngestResult) -> list[str]:
    """List what making 8-bit sRGB (or grey) derivatives changes, from a master's ingest result."""
    out = []
    if ingest.orientation != 1:
        out.append(f"rotated upright (EXIF orientation {ingest.orientation})")
    if ingest.has_icc:
        out.append("embedded ICC profile -> sRGB")
    if ingest.interpretation == "cmyk":
        out.append("CMYK -> sRGB")
    if ingest.palette:
        out.append("palette -> full colour")
    if ingest.format in ("ushort", "short", "uint", "int") or ingest.bits == 16:
        out.append("16-bit -> 8-bit")
    elif ingest.format in ("float", "double"):
        out.append("floating point -> 8-bit")
    if ingest.bits == 1:
        out.append("1-bit -> 8-bit grey")
    if ingest.has_alpha:
        out.append("transparency flattened onto white")
    return out


def _ingest_facts(rec: StageRecord) -> IngestFacts:
    """What an ``ok`` ingest record says about the master."""
    ingest = rec.result_as(IngestResult)
    return IngestFacts(
        file=ingest.file,
        width=ingest.width,
        height=ingest.height,
        sha256=ingest.sha256,
        conversions=tuple(conversions(ingest)),
        warnings=tuple(ingest.warnings),
    )


def _review_facts(rec: StageRecord) -> ReviewFacts | None:
    """An ``ok`` OCR record's confidence and review flag (``None``: no confidence recorded)."""
    ocr = rec.result_as(OcrResult)
    if ocr.confidence is None:
        return None
    return ReviewFacts(
        stage=rec.stage,
        confidence=ocr.confidence,
        needs_review=ocr.needs_review,
        published=ocr.published,
        words=ocr.words,
        language=ocr.language,
        txt=ocr.txt,
        hocr=ocr.hocr,
    )


def _recorded_file(rec: StageRecord) -> str:
    """The master file a record names (failure records of a page keep it), else ``""``."""
    result = rec.result
    if isinstance(result, IngestResult | StageFailure):
        return result.file or ""
    return ""


def _volume_warnings(rec: StageRecord) -> list[str]:
    """A volume stage's warnings (the manifest's: what removing markup took from a label)."""
    result = rec.result
    return list(result.warnings) if isinstance(result, ManifestResult) else []


def _replay_checks(rec: StageRecord) -> dict[str, Any]:
    """The viewer replay checks a record holds (tiles, publish record ``replay*`` keys)."""
    return {k: v for k, v in rec.data.items() if k.startswith("replay")}


def _shown_data(rec: StageRecord) -> dict[str, Any]:
    """A volume record's data as reports show it: without a traceback (that is in the job log)."""
    if "traceback" not in rec.data:
        return rec.data
    return {k: v for k, v in rec.data.items() if k != "traceback"}


def _collection_volumes(rec: StageRecord) -> list[str]:
    """The volumes a collection-scope record lists."""
    result = rec.result
    return list(result.volumes) if isinstance(result, CollectionResult) else []


# -- building the model ---------------------------------------------------------------------------
def numbering_gaps(files: Sequence[str]) -> list[str]:
    """Find gaps in numbered file names (``p003`` then ``p005``): pages not scanned or copied."""
    series: dict[str, list[int]] = {}
    for name in files:
        match = _NUMBERED.match(Path(name).stem)
        if match:
            series.setdefault(match["prefix"], []).append(int(match["number"]))
    gaps = []
    for prefix, numbers in sorted(series.items()):
        if len(numbers) < 3:
            continue
        ordered = sorted(set(numbers))
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b - a > 1:
                lost = b - a - 1
                gaps.append(f"{prefix}{a} -> {prefix}{b}: {lost} number{'s' * (lost > 1)} missing")
    return gaps


def _stage_names(scope: str) -> list[str]:
    return [stage.name for stage in STAGES if scope == stage.scope]


@dataclass(frozen=True)
class _Volume:
    """One volume's records (outputs counted, not listed), its pages and their file names."""

    records: dict[tuple[str, str], StageRecord]
    listed: dict[tuple[str, str], int]  # how many files each record lists
    pages: list[str]
    files: dict[str, str]


def _read(state: StateStore | None, volume: Volume | None, volume_id: str) -> _Volume:
    records: dict[tuple[str, str], StageRecord] = {}
    listed: dict[tuple[str, str], int] = {}
    for rec, count in state.summaries(volume_id) if state is not None else ():
        records[rec.page, rec.stage] = rec
        listed[rec.page, rec.stage] = count
    if volume is not None:
        pages = [item.page for item in volume.pages]
        files = {item.page: Path(item.source).name for item in volume.pages}
    else:
        pages = sorted({page for page, _ in records if page})
        files = {}
    for (page, _stage), rec in records.items():
        if page and page not in files and _recorded_file(rec):
            files[page] = _recorded_file(rec)
    return _Volume(records, listed, pages, files)


def _outcome(vol: _Volume, rec: StageRecord, *, data: bool = False) -> StageOutcome:
    return StageOutcome(
        status=rec.status,
        error=rec.error or None,
        error_type=rec.error_type or None,
        duration_s=rec.duration_s,
        files=vol.listed[rec.page, rec.stage],
        data=_shown_data(rec) if data else None,
    )


def _page_entry(vol: _Volume, page: str, index: int, page_stages: list[str]) -> PageEntry:
    found = [(name, vol.records.get((page, name))) for name in page_stages]
    stages = {name: _outcome(vol, rec) for name, rec in found if rec is not None}
    ok = {name: rec for name, rec in found if rec is not None and rec.status == "ok"}
    statuses = [s.status for s in stages.values()]
    status = next((s for s in ("failed", "skipped") if s in statuses), None)
    return PageEntry(
        page=page,
        file=vol.files.get(page, ""),
        index=index,
        status=status or ("ok" if statuses else "pending"),
        stages=stages,
        ingest=_ingest_facts(ok["ingest"]) if "ingest" in ok else None,
        tiles=vol.listed[page, "tiles"] if "tiles" in ok else None,
        ocr=_review_facts(ok["ocr"]) if "ocr" in ok else None,
    )


def _tallies(vol: _Volume) -> dict[str, StageTally]:
    out = {}
    for stage in STAGES:
        if stage.scope == "collection":
            continue
        keys = vol.pages if stage.scope == "page" else [""]
        counts = dict.fromkeys(STATUSES, 0)
        errors = []
        for page in keys:
            rec = vol.records.get((page, stage.name))
            counts[rec.status if rec else "pending"] += 1
            if rec and rec.status == "failed":
                file = vol.files.get(page) or _recorded_file(rec)
                errors.append(Failure(page, file, stage.name, rec.error, rec.error_type))
        out[stage.name] = StageTally(counts, tuple(errors))
    return out


def _failures(vol: _Volume, error: str | None) -> list[Failure]:
    """Volume-stage failures first, then page order (a page listed twice counts where first)."""
    position: dict[str, int] = {}
    for index, page in enumerate(vol.pages):
        position.setdefault(page, index)
    failed = sorted(
        (rec for rec in vol.records.values() if rec.status == "failed"),
        key=lambda rec: (position.get(rec.page, -1), rec.stage),
    )
    out = [
        Failure(
            rec.page,
            vol.files.get(rec.page, "") or _recorded_file(rec),
            rec.stage,
            rec.error,
            rec.error_type,
        )
        for rec in failed
        if not rec.page or rec.page in position
    ]
    if error is not None:
        out.insert(0, Failure("", "volume.toml", "ingest", error, "ConfigError"))
    return out


def _ocr_summary(entries: Sequence[PageEntry]) -> OcrSummary:
    scored = [e for e in entries if e.ocr is not None]
    scores = [float(e.ocr.confidence) for e in scored if e.ocr is not None]
    review = tuple(
        ReviewPage(e.page, e.file, e.ocr.confidence, e.ocr.published)
        for e in scored
        if e.ocr is not None and e.ocr.needs_review
    )
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return OcrSummary(pages=len(scores), mean_confidence=mean, needs_review=review)


def _input(
    vol: _Volume, volume: Volume | None, entries: Sequence[PageEntry], own: Sequence[StageRecord]
) -> InputFindings:
    warnings = [
        f"{e.file}: {w}" for e in entries if e.ingest is not None for w in e.ingest.warnings
    ]
    warnings += [w for rec in own for w in _volume_warnings(rec)]
    if volume is not None:
        warnings += list(volume.transcript_problems)
    gaps = tuple(numbering_gaps(list(vol.files.values())))
    if volume is None:
        return InputFindings(numbering_gaps=gaps, warnings=tuple(warnings))
    return InputFindings(
        unlisted_files=volume.unlisted,
        missing_files=volume.missing,
        ignored_files=volume.ignored[:MAX_LISTED],
        numbering_gaps=gaps,
        warnings=tuple(warnings),
    )


def _conversions(entries: Sequence[PageEntry]) -> dict[str, list[str]]:
    converted: dict[str, list[str]] = {}
    for entry in entries:
        for what in entry.ingest.conversions if entry.ingest is not None else ():
            converted.setdefault(what, []).append(entry.page)
    return converted


def _replay(vol: _Volume, volume_id: str) -> dict[str, dict[str, Any]]:
    """Viewer replay checks by record (``p001 [tiles]``), shown as recorded."""
    out = {}
    for rec in vol.records.values():
        checks = _replay_checks(rec)
        if checks:
            out[f"{rec.page or volume_id} [{rec.stage}]"] = checks
    return out


def fixity_entry(state: StateStore | None, volume_id: str) -> dict[str, Any] | None:
    """The volume's part of the last ``pipeline verify`` summary, with when it ran."""
    last = state.last_run("verify") if state is not None else None
    if last is None or last[2] is None:
        return None
    summary = json.loads(last[2])
    entry = summary.get("volumes", {}).get(volume_id)
    if entry is None:
        return None
    return {"checked_at": summary.get("checked_at"), **entry}


def build_report(
    state: StateStore | None,
    volume: Volume | None,
    volume_id: str,
    *,
    error: str | None = None,
    built_from: str = "",
) -> VolumeReport:
    """Everything known about one volume, in page order.

    Args:
        state: The state store (``None``: nothing has run yet).
        volume: The volume as found on disk, or ``None`` when its folder could not be read.
        volume_id: Its id.
        error: Why the volume could not be read (a broken ``volume.toml``), if so.
        built_from: The :func:`report_key` of what the report is built from.

    """
    vol = _read(state, volume, volume_id)
    page_stages = _stage_names("page")
    entries = tuple(_page_entry(vol, p, i, page_stages) for i, p in enumerate(vol.pages))
    own = [rec for (page, _), rec in sorted(vol.records.items()) if not page]
    return VolumeReport(
        volume=volume_id,
        error=error,
        generated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        pages_found=len(volume.pages) if volume else 0,
        input=_input(vol, volume, entries, own),
        stages=_tallies(vol) if volume else {},
        volume_stages={rec.stage: _outcome(vol, rec, data=True) for rec in own},
        colour_conversions=_conversions(entries),
        ocr=_ocr_summary(entries),
        replay=_replay(vol, volume_id),
        fixity=fixity_entry(state, volume_id),
        pages=entries,
        failures=tuple(_failures(vol, error)),
        built_from=built_from,
        ocr_accuracy=ocr_accuracy(vol.records, vol.pages, vol.files),
    )


def collection_status(state: StateStore | None) -> dict[str, Any]:
    """The record of each collection-scope stage: status, error, files and what it lists."""
    out: dict[str, Any] = {}
    for name in _stage_names("collection"):
        rec = state.get("", "", name) if state is not None else None
        out[name] = {
            "status": rec.status if rec else "pending",
            "error": (rec.error or None) if rec else None,
            "files": sorted(rec.outputs) if rec else [],
            "volumes": _collection_volumes(rec) if rec else [],
        }
    return out
