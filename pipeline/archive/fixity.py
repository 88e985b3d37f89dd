"""Fixity: a checksum for every derivative when written; ``pipeline verify`` re-hashes them all."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pipeline.archive.report import write_volume_report
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import sha256_file
from pipeline.input.volumes import load_volume
from pipeline.layout import Layout, check_volume_id
from pipeline.records import StageRecord
from pipeline.state import StateStore

log = logging.getLogger(__name__)

VERIFY_VERSION = 1
COMMAND = "verify"
COLLECTION = "(collection)"

Kind = Literal["master", "derivative"]


def page_folders(layout: Layout, volume: str, page: str) -> list[Path]:
    """Folders written as a whole for one page: its tile pyramid (hundreds of files)."""
    return [layout.image_dir(volume, page)]


def _tree(layout: Layout, folder: Path) -> Iterator[tuple[str, Path]]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            yield layout.rel(path), path


def complete_outputs(record: StageRecord, layout: Layout) -> StageRecord:
    """Return the record with a SHA-256 for every file its outputs stand for.

    A stage lists what it wrote. A listed folder stands for every file in it, and so does a
    listed file inside a folder written as a whole for the page (:func:`page_folders`): a tile
    pyramid is recorded tile by tile, so that ``pipeline verify`` can tell which tile drifted.
    Checksums the stage gave are kept.
    """
    if record.status != "ok" or not record.outputs:
        return record
    outputs: dict[str, str] = {}
    entries: dict[str, int] = {}
    folders = page_folders(layout, record.volume, record.page) if record.page else []
    expanded: set[Path] = set()
    for rel, digest in record.outputs.items():
        path = layout.path(rel)
        owner = path if path.is_dir() else next((f for f in folders if f in path.parents), None)
        if owner is None:
            outputs[rel] = digest
            continue
        if owner in expanded:
            continue
        expanded.add(owner)
        entries[layout.rel(owner)] = len(os.listdir(owner))  # noqa: PTH208 (a count)
        for sub, file in _tree(layout, owner):
            outputs[sub] = record.outputs.get(sub) or sha256_file(file)
    return replace(
        record, outputs=dict(sorted(outputs.items())), folder_entries=dict(sorted(entries.items()))
    )


def count_folders(record: StageRecord, layout: Layout) -> StageRecord:
    """Count the page folders of a record stored before folders were counted.

    Call it only once the record's outputs were found file by file: the counts then stand for
    them on later reruns.
    """
    if record.folder_entries or not record.page or not record.outputs:
        return record
    entries: dict[str, int] = {}
    for folder in page_folders(layout, record.volume, record.page):
        prefix = f"{layout.rel(folder)}/"
        if folder.is_dir() and any(rel.startswith(prefix) for rel in record.outputs):
            entries[layout.rel(folder)] = len(os.listdir(folder))  # noqa: PTH208 (a count)
    return replace(record, folder_entries=entries) if entries else record


def outputs_present(record: StageRecord, layout: Layout) -> bool:
    """Whether the files a record lists are still there, checked cheaply (a rerun's question).

    A folder written as a whole (a tile pyramid) is checked by its number of entries and the
    files at its top level (``info.json``) instead of file by file; every other output by a
    stat. ``pipeline verify`` still checks (and hashes) every file. Records stored before
    folders were counted are checked file by file.
    """
    for rel, count in record.folder_entries.items():
        try:
            if len(os.listdir(layout.path(rel))) != count:  # noqa: PTH208 (a count)
                return False
        except OSError:
            return False
    prefixes = tuple(f"{rel}/" for rel in record.folder_entries)
    for rel in record.outputs:
        if prefixes and rel.startswith(prefixes):
            prefix = next(p for p in prefixes if rel.startswith(p))
            if rel.find("/", len(prefix)) >= 0:
                continue  # below a sub-folder (a tile): the folder's count stands for it
        if not layout.path(rel).exists():
            return False
    return True


@dataclass(frozen=True)
class Problem:
    """One file that is not what was recorded."""

    volume: str
    stage: str
    page: str
    kind: Kind
    path: str
    problem: Literal["changed", "missing", "unreadable"]
    detail: str
    hint: str

    def line(self) -> str:
        """One line for the terminal: file, stage, reason, hint."""
        return f"{self.path} [{self.stage}]: {self.problem}: {self.detail} ({self.hint})"


@dataclass
class VerifyResult:
    """Outcome of ``pipeline verify``."""

    volumes: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    duration_s: float = 0.0
    version: int = VERIFY_VERSION

    @property
    def volume_count(self) -> int:
        """Volumes checked (the collection document is not one)."""
        return sum(1 for v in self.volumes if v != COLLECTION)

    @property
    def masters(self) -> int:
        """Masters checked."""
        return sum(v["masters"] for v in self.volumes.values())

    @property
    def derivatives(self) -> int:
        """Derivative files checked."""
        return sum(v["derivatives"] for v in self.volumes.values())

    def to_json(self) -> dict[str, Any]:
        """Return the machine-readable form (``pipeline verify --json``)."""
        data = asdict(self)
        data["masters"] = self.masters
        data["derivatives"] = self.derivatives
        data["ok"] = not self.problems
        return data


@dataclass(frozen=True)
class _Check:
    volume: str
    stage: str
    page: str
    kind: Kind
    path: str
    file: Path
    sha256: str
    size: int | None = None
    mtime_ns: int | None = None


# A file a record vouches for, with its recorded checksum (publish checks these too).
RecordedFile = _Check


def _checks(records: Sequence[StageRecord], scans: Path, layout: Layout) -> Iterator[_Check]:
    for rec in records:
        if rec.status != "ok":
            continue
        sha = rec.data.get("sha256")
        name = rec.data.get("file")
        if isinstance(sha, str) and isinstance(name, str) and "mtime_ns" in rec.data:
            yield _Check(
                rec.volume,
                rec.stage,
                rec.page,
                "master",
                f"{rec.volume}/{name}",
                scans / rec.volume / name,
                sha,
                rec.data.get("size"),
                rec.data.get("mtime_ns"),
            )
        for rel, digest in rec.outputs.items():
            yield _Check(
                rec.volume, rec.stage, rec.page, "derivative", rel, layout.path(rel), digest
            )


def _hash(check: _Check) -> tuple[str | None, str, os.stat_result | None]:
    """Hash a file: its SHA-256 and stat, or ``None`` and why it could not be read."""
    try:
        stat = check.file.stat()
        return sha256_file(check.file), "", stat
    except FileNotFoundError:
        return None, "missing", None
    except OSError as exc:
        return None, exc.strerror or "unreadable", None


def _problem(check: _Check, what: str, detail: str) -> Problem:
    if check.kind == "master":
        hint = (
            "restore the master from a backup; if the change is intended, touch the file and "
            "run 'pipeline run' to ingest it again"
        )
    else:
        hint = "run 'pipeline verify --repair', then 'pipeline run' to rebuild it"
    problem: Literal["changed", "missing", "unreadable"] = (
        "missing" if what == "missing" else "changed" if what == "changed" else "unreadable"
    )
    return Problem(
        check.volume, check.stage, check.page, check.kind, check.path, problem, detail, hint
    )


def recorded_derivatives(records: Sequence[StageRecord], layout: Layout) -> dict[str, RecordedFile]:
    """The derivatives the ok records list, by layout-relative path (what verify re-hashes)."""
    return {c.path: c for c in _checks(records, Path(), layout) if c.kind == "derivative"}


def missing_derivatives(checks: Iterable[RecordedFile]) -> list[Problem]:
    """Verify's cheap form: a stat per recorded derivative, no hashing.

    Returns:
        A "missing" problem for each file that is gone (or no longer a file).

    """
    return [_problem(c, "missing", "the file is gone") for c in checks if not c.file.is_file()]


def drifted(check: RecordedFile, sha256: str) -> Problem | None:
    """Compare a digest computed elsewhere (publish hashes what it uploads) with the record."""
    if sha256 == check.sha256:
        return None
    return _problem(
        check, "changed", f"sha256 is now {sha256[:12]}…, recorded {check.sha256[:12]}…"
    )


def verify(
    state: StateStore,
    layout: Layout,
    scans: Path,
    volumes: Sequence[str] = (),
    *,
    workers: int = 0,
) -> VerifyResult:
    """Re-hash every master and derivative recorded as done and compare with the records.

    Args:
        state: The state store.
        layout: The output folder.
        scans: The scans folder (masters are ``scans/<volume>/<file>``).
        volumes: Volume ids; empty means every volume with records, and the collection.
        workers: Hashing threads; 0 means one per core.

    Returns:
        What was checked and every problem found.

    """
    started = time.monotonic()
    result = VerifyResult(checked_at=time.time())
    selected = list(volumes) or state.volumes()
    records = [r for vid in selected for r in state.records(vid)]
    checks = list(_checks(records, scans, layout))
    for vid in selected:
        result.volumes[vid or COLLECTION] = {"masters": 0, "derivatives": 0, "problems": 0}
    count = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=count) as pool:
        hashed = list(pool.map(_hash, checks))
    for check, (digest, why, stat) in zip(checks, hashed, strict=True):
        entry = result.volumes[check.volume or COLLECTION]
        entry["masters" if check.kind == "master" else "derivatives"] += 1
        found: Problem | None = None
        if digest is None:
            detail = "the file is gone" if why == "missing" else why
            if check.kind == "master" and why == "missing":
                detail = f"not found at {check.file} (if the scans moved, set --scans)"
            found = _problem(check, "missing" if why == "missing" else "unreadable", detail)
        elif digest != check.sha256:
            found = drifted(check, digest)
        elif (
            check.kind == "master"
            and stat is not None
            and (stat.st_size, stat.st_mtime_ns) != (check.size, check.mtime_ns)
        ):
            result.notes.append(f"{check.path}: modification time changed, content identical")
        if found is not None:
            entry["problems"] += 1
            result.problems.append(found)
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def forget_damaged(state: StateStore, result: VerifyResult) -> list[str]:
    """Drop the records of derivatives that drifted or vanished, so the next run rebuilds them.

    Masters are never touched: a changed master is a preservation incident, not a cache miss.

    Returns:
        ``volume/page [stage]`` of each forgotten record.

    """
    forgotten: list[str] = []
    for key in sorted({(p.volume, p.page, p.stage) for p in result.problems if p.kind != "master"}):
        volume, page, stage = key
        state.delete(volume, page, stage)
        forgotten.append(
            f"{volume}/{page} [{stage}]" if page else f"{volume or COLLECTION} [{stage}]"
        )
    return forgotten


def _refresh_reports(cfg: Config, layout: Layout, state: StateStore, volumes: list[str]) -> None:
    """Rewrite the volumes' reports so that they show this fixity check."""
    for vid in volumes:
        folder = cfg.site.scans / vid
        try:
            volume = load_volume(folder, cfg.ocr.languages) if folder.is_dir() else None
        except (ConfigError, JobInputError) as exc:
            write_volume_report(layout, state, None, volume_id=vid, error=str(exc))
            continue
        write_volume_report(layout, state, volume, volume_id=vid)


def verify_workspace(
    cfg: Config, volumes: Sequence[str] = (), *, repair: bool = False
) -> VerifyResult:
    """``pipeline verify``: hold the job lock, verify, remember the result, optionally repair.

    Raises:
        JobInputError: A job is running on this output folder, or nothing was ever run there.
        ConfigError: A selected volume id is not a valid volume id.

    """
    # The runner imports this module (for complete_outputs), hence the late import.
    from pipeline.run.job import job_lock, layout_for

    layout = layout_for(cfg)
    for vid in volumes:
        check_volume_id(vid)
    store = StateStore.existing(layout.state_db)
    if store is None:
        raise JobInputError(f"{layout.out}: nothing to verify yet (run 'pipeline run' first)")
    store.close()
    with job_lock(layout), StateStore(layout.state_db) as state:
        known = set(state.volumes())
        for vid in volumes:
            if vid not in known:
                raise JobInputError(f"volume {vid!r}: nothing recorded for it in {layout.out}")
        run_id = state.start_run(COMMAND)
        result = verify(state, layout, cfg.site.scans, volumes, workers=cfg.run.workers)
        if repair:
            result.forgotten = forget_damaged(state, result)
        summary = {
            "checked_at": result.checked_at,
            "volumes": result.volumes,
            "problems": len(result.problems),
        }
        state.finish_run(run_id, json.dumps(summary, sort_keys=True))
        _refresh_reports(cfg, layout, state, [v for v in result.volumes if v != COLLECTION])
    for problem in result.problems:
        log.info("fixity: %s", problem.line())
    return result
