"""Fixity: a checksum for every derivative when written; ``pipeline verify`` re-hashes them all."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.archive.report import write_volume_report
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import sha256_file
from pipeline.input.catalogue import configured_catalogue
from pipeline.input.configured import read_volume
from pipeline.layout import Layout, check_volume_id
from pipeline.lock import job_lock
from pipeline.records import StageRecord
from pipeline.results import IngestResult
from pipeline.siteurl import layout_for
from pipeline.state import StateStore

log = logging.getLogger(__name__)

VERIFY_VERSION = 1
COMMAND = "verify"
COLLECTION = "(collection)"

Kind = Literal["master", "derivative"]


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
        master = rec.result
        if isinstance(master, IngestResult) and master.sha256 and master.file:
            yield _Check(
                rec.volume,
                rec.stage,
                rec.page,
                "master",
                f"{rec.volume}/{master.file}",
                scans / rec.volume / master.file,
                master.sha256,
                master.size,
                master.mtime_ns,
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
    catalogue = configured_catalogue(cfg)
    for vid in volumes:
        try:
            volume = (
                read_volume(cfg, vid, catalogue=catalogue)
                if (cfg.site.scans / vid).is_dir()
                else None
            )
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
