"""The job runner: finds volumes and pages, skips current work, runs stages, builds the report."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.executors import Executor, Task, make_executor
from pipeline.fsio import remove_stale_temps
from pipeline.layout import Layout
from pipeline.progress import NullReporter, Reporter
from pipeline.records import (
    CollectionInput,
    JobReport,
    PageInput,
    PageItem,
    StageRecord,
    VolumeInput,
)
from pipeline.report import status_report, write_volume_report
from pipeline.stages import STAGE_NAMES, STAGES, Stage
from pipeline.state import StateStore
from pipeline.volumes import Volume, find_volumes, load_volume, natural_key

log = logging.getLogger(__name__)

COLLECTION_KEY = ""


def layout_for(cfg: Config) -> Layout:
    """The output layout of a configuration."""
    return Layout(out=cfg.site.out.absolute(), base_url=cfg.site.base_url)


def select_stages(names: Sequence[str] | None) -> tuple[Stage, ...]:
    """The stages to run, in pipeline order.

    Raises:
        ConfigError: An unknown stage name.
    """
    if not names:
        return STAGES
    unknown = [n for n in names if n not in STAGE_NAMES]
    if unknown:
        known = ", ".join(STAGE_NAMES)
        raise ConfigError(f"--stages: unknown stage {unknown[0]!r} (known: {known})")
    return tuple(s for s in STAGES if s.NAME in names)


@contextlib.contextmanager
def job_lock(layout: Layout) -> Iterator[None]:
    """Hold the output folder's lock for the duration of a job.

    Raises:
        JobInputError: Another job is running on the same output folder.
    """
    try:
        layout.work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JobInputError(
            f"{layout.out}: cannot create the output folder ({exc.strerror}: {exc.filename}); "
            "choose another --out (site.out)"
        ) from None
    with layout.lock_path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise JobInputError(
                f"{layout.out}: another pipeline job is running on this output folder "
                f"({holder}); wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Make Ctrl-C (SIGINT) and SIGTERM stop a job cleanly, without losing the request.

    Both raise KeyboardInterrupt, so finished work stays recorded, reports are written and
    the exit code is 130. Python raises it wherever the main thread happens to be, which may
    be inside a callback from libvips, where it is ignored: the returned event stays set, and
    the runner stops at the next finished task instead. Outside the main thread signals
    cannot be handled and nothing changes.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def stop(signum: int, frame: object) -> None:
        requested.set()
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(info: Any) -> None:
        # An interrupt swallowed by a C callback: already noted in ``requested``.
        if not isinstance(info.exc_value, KeyboardInterrupt):
            previous_hook(info)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    sys.unraisablehook = unraisable
    try:
        yield requested
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_digest(record: StageRecord) -> str:
    """What downstream fingerprints depend on: a record's outputs and data, not its timing."""
    return _digest({"outputs": record.outputs, "data": record.data})


def fingerprint(stage: Stage, settings: BaseModel, key: Any) -> str:
    """Digest of everything a stage's result depends on."""
    return _digest(
        {
            "stage": stage.NAME,
            "version": stage.VERSION,
            "settings": settings.model_dump(mode="json"),
            "input": key,
        }
    )


def _item_key(item: PageItem) -> dict[str, Any]:
    # Where the scans folder lives does not change a derivative: leave the path out.
    data = asdict(item)
    data.pop("source")
    return data


@dataclass
class _Job:
    cfg: Config
    layout: Layout
    state: StateStore
    executor: Executor
    reporter: Reporter
    report: JobReport
    volumes: list[Volume]
    failed_volumes: dict[str, StageRecord] = field(default_factory=dict)
    stop: bool = False
    interrupted: threading.Event = field(default_factory=threading.Event)

    def current(self, volume: str, page: str, stage: str, fp: str) -> StageRecord | None:
        """The stored record if it is ok, has the same fingerprint and its outputs exist."""
        rec = self.state.get(volume, page, stage)
        if rec is None or rec.status != "ok" or rec.fingerprint != fp:
            return None
        if not all(self.layout.path(rel).exists() for rel in rec.outputs):
            return None
        return rec

    def upstream(
        self, stage: Stage, volume: str, page: str
    ) -> tuple[dict[str, StageRecord], StageRecord | None]:
        """Upstream records of a task, or the ``skipped`` record when a required one is not ok."""
        found: dict[str, StageRecord] = {}
        for name in stage.REQUIRES + stage.USES:
            rec = self.state.get(volume, page, name)
            if rec is not None and rec.status == "ok":
                found[name] = rec
            elif name in stage.REQUIRES:
                why = f"upstream failed: {name}" if rec else f"upstream not run: {name}"
                skipped = StageRecord(
                    stage=stage.NAME, volume=volume, page=page, status="skipped", error=why
                )
                return found, skipped
        return found, None

    def volume_upstream(self, stage: Stage, volume: str) -> dict[str, StageRecord]:
        """The ok records of earlier volume-scope stages that a volume stage requires or uses."""
        found: dict[str, StageRecord] = {}
        for name in stage.REQUIRES + stage.USES:
            rec = self.state.get(volume, "", name)
            if rec is not None and rec.status == "ok":
                found[name] = rec
        return found

    def record(self, rec: StageRecord, *, current: bool = False) -> None:
        """Store a fresh record and count it."""
        if not current:
            self.state.put(rec)
        self.report.add(rec, current=current)
        if rec.status == "failed" and self.cfg.run.fail_fast:
            self.stop = True

    def run_tasks(self, stage: Stage, tasks: list[Task], total: int) -> None:
        """Run a stage's tasks, storing each record as it arrives."""
        with self.reporter.stage(stage.NAME, total) as bar:
            for _ in range(total - len(tasks)):
                bar.advance("up to date")
            if not tasks:
                return
            for rec in self.executor.map(tasks):
                self.record(rec)
                bar.advance(rec.subject)
                if rec.status == "failed":
                    log.info("failed: %s [%s]: %s", rec.subject, rec.stage, rec.error)
                if self.interrupted.is_set():
                    raise KeyboardInterrupt
                if self.stop:
                    break

    # -- the three scopes -----------------------------------------------------------------------
    def page_stage(self, stage: Stage, settings: BaseModel) -> None:
        tasks: list[Task] = []
        total = 0
        for volume in self.volumes:
            for item in volume.pages:
                total += 1
                up, skipped = self.upstream(stage, item.volume, item.page)
                if skipped is not None:
                    self.record(skipped)
                    continue
                if stage.REQUIRES:
                    key: Any = {
                        "item": _item_key(item),
                        "upstream": {n: result_digest(r) for n, r in sorted(up.items())},
                    }
                else:
                    stat = Path(item.source).stat() if Path(item.source).exists() else None
                    key = {
                        "item": asdict(item),
                        "stat": [stat.st_size, stat.st_mtime_ns] if stat else None,
                    }
                fp = fingerprint(stage, settings, key)
                rec = self.current(item.volume, item.page, stage.NAME, fp)
                if rec is not None:
                    self.record(rec, current=True)
                    continue
                inp = PageInput(item=item, upstream={n: r.data for n, r in up.items()})
                tasks.append(
                    Task(stage.NAME, item.volume, item.page, inp, settings, self.layout, fp)
                )
        self.run_tasks(stage, tasks, total)

    def volume_stage(self, stage: Stage, settings: BaseModel) -> None:
        tasks: list[Task] = []
        for volume in self.volumes:
            pages: list[PageInput] = []
            missing: list[str] = []
            digests: list[Any] = []
            for item in volume.pages:
                up, skipped = self.upstream(stage, item.volume, item.page)
                if skipped is not None:
                    missing.append(item.page)
                    continue
                pages.append(PageInput(item=item, upstream={n: r.data for n, r in up.items()}))
                digests.append(
                    [_item_key(item), {n: result_digest(r) for n, r in sorted(up.items())}]
                )
            descriptor = volume.descriptor.model_dump(mode="json", exclude_none=True)
            key = {
                "volume": volume.id,
                "descriptor": descriptor,
                "pages": digests,
                "missing": missing,
            }
            volume_up = self.volume_upstream(stage, volume.id)
            if volume_up:
                key["volume_upstream"] = {n: result_digest(r) for n, r in sorted(volume_up.items())}
            fp = fingerprint(stage, settings, key)
            rec = self.current(volume.id, "", stage.NAME, fp)
            if rec is not None:
                self.record(rec, current=True)
                continue
            inp = VolumeInput(
                volume=volume.id,
                descriptor=descriptor,
                pages=tuple(pages),
                missing=tuple(missing),
                upstream={n: r.data for n, r in volume_up.items()},
                order=tuple(item.page for item in volume.pages),
            )
            tasks.append(Task(stage.NAME, volume.id, "", inp, settings, self.layout, fp))
        self.run_tasks(stage, tasks, len(self.volumes))

    def collection_stage(self, stage: Stage, settings: BaseModel) -> None:
        scans = self.cfg.site.scans
        entries = []
        for vid in sorted(self.state.volumes(), key=natural_key):
            if not vid or not (scans / vid).is_dir():
                continue
            for name in stage.REQUIRES:
                rec = self.state.get(vid, "", name)
                if rec is not None and rec.status == "ok":
                    entries.append((vid, rec.data))
        fp = fingerprint(stage, settings, entries)
        rec = self.current(COLLECTION_KEY, "", stage.NAME, fp)
        if rec is not None:
            self.record(rec, current=True)
            with self.reporter.stage(stage.NAME, 1) as bar:
                bar.advance("up to date")
            return
        inp = CollectionInput(volumes=tuple(entries))
        task = Task(stage.NAME, COLLECTION_KEY, "", inp, settings, self.layout, fp)
        self.run_tasks(stage, [task], 1)


def load_volumes(cfg: Config, selected: Sequence[str]) -> tuple[list[Volume], list[StageRecord]]:
    """Read every selected volume; a broken descriptor fails its volume, not the job.

    Raises:
        JobInputError: The scans folder is missing or empty.
    """
    volumes: list[Volume] = []
    failures: list[StageRecord] = []
    for folder in find_volumes(cfg.site.scans, tuple(selected)):
        try:
            volumes.append(load_volume(folder, cfg.ocr.languages))
        except (ConfigError, JobInputError) as exc:
            failures.append(
                StageRecord(
                    stage="ingest",
                    volume=folder.name,
                    page="",
                    status="failed",
                    error_type=type(exc).__name__,
                    error=str(exc),
                )
            )
    return volumes, failures


def preflight(cfg: Config, stages: Sequence[Stage]) -> dict[str, str]:
    """Check every tool the selected stages need, before any page is touched.

    Raises:
        MissingDependencyError: A tool or language is missing.
    """
    versions: dict[str, str] = {}
    for stage in stages:
        versions.update(stage.preflight(stage.settings(cfg)))
    return versions


def run_job(
    cfg: Config,
    *,
    volumes: Sequence[str] = (),
    stages: Sequence[str] | None = None,
    reporter: Reporter | None = None,
    executor: Executor | None = None,
) -> JobReport:
    """Run the selected stages over the selected volumes.

    Args:
        cfg: The validated configuration.
        volumes: Volume ids; empty means every volume under the scans folder.
        stages: Stage names; ``None`` means all, in order.
        reporter: Progress display.
        executor: Where tasks run; default from ``cfg.run``.

    Returns:
        The job report (the CLI maps it to an exit code).

    Raises:
        ConfigError: Unknown stage.
        MissingDependencyError: A required tool is missing.
        JobInputError: No usable batch, or another job holds the output folder.
    """
    started = time.monotonic()
    selected = select_stages(stages)
    preflight(cfg, selected)
    layout = layout_for(cfg)
    found, broken = load_volumes(cfg, volumes)
    report = JobReport()
    with stop_signals() as interrupted, job_lock(layout), StateStore(layout.state_db) as state:
        # Under the lock, every temporary file is a leftover of a killed job.
        removed = remove_stale_temps(layout.out, scratch=layout.work_dir / "tmp")
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted job", removed)
        run_id = state.start_run("run")
        own = executor is None
        executor = executor or make_executor(
            cfg.run.executor,
            cfg.run.workers,
            scheduler=cfg.run.scheduler,
            wait_s=cfg.run.worker_wait_s,
        )
        job = _Job(cfg, layout, state, executor, reporter or NullReporter(), report, found)
        job.interrupted = interrupted
        for rec in broken:
            job.record(rec)
        for volume in found:
            state.forget_volume_pages(volume.id, {p.page for p in volume.pages})
            # Its descriptor reads again: forget an earlier "broken volume.toml" failure.
            state.delete(volume.id, "", "ingest")
        try:
            for stage in selected:
                if job.stop:
                    break
                settings = stage.settings(cfg)
                runner = {
                    "page": job.page_stage,
                    "volume": job.volume_stage,
                    "collection": job.collection_stage,
                }[stage.SCOPE]
                runner(stage, settings)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            if own:
                executor.close()
            report.duration_s = round(time.monotonic() - started, 3)
            for volume in found:
                path = write_volume_report(layout, state, volume)
                report.report_paths.append(str(path))
            for rec in broken:
                write_volume_report(layout, state, None, volume_id=rec.volume, error=rec.error)
            state.finish_run(run_id, json.dumps(report.counts))
    return report


def status(cfg: Config, volumes: Sequence[str] = ()) -> dict[str, Any]:
    """Per volume: the report of its latest state (works while a job runs; writes nothing)."""
    layout = layout_for(cfg)
    found, broken = load_volumes(cfg, volumes)
    state = StateStore.existing(layout.state_db)
    try:
        return status_report(state, found, broken)
    finally:
        if state is not None:
            state.close()
