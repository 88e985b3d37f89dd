"""The job runner: finds volumes and pages, skips current work, runs stages, builds the report."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.archive.fixity import count_folders, outputs_present
from pipeline.archive.report import status_report, write_volume_report
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.fsio import remove_stale_temps
from pipeline.input.volumes import Volume, find_volumes, load_volume, sort_key
from pipeline.layout import SAFE_ID, Layout
from pipeline.records import (
    CollectionInput,
    JobReport,
    PageInput,
    PageItem,
    StageRecord,
    VolumeInput,
)
from pipeline.run.local import Executor, Task, make_executor
from pipeline.run.logcontext import start_job_log
from pipeline.run.progress import NullReporter, Reporter
from pipeline.siteurl import change_note
from pipeline.siteurl import record as record_base_url
from pipeline.stages import STAGE_NAMES, STAGES, Stage, stage_by_name
from pipeline.state import StateStore

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
        start_job_log(layout.log_path)
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
    """What downstream fingerprints depend on: a record's outputs and data.

    Timings live outside ``data``; keys the producing stage declares ``VOLATILE`` (a master's
    modification time, say) are left out, so touching a file does not redo its derivatives.
    """
    volatile = set(getattr(stage_by_name(record.stage), "VOLATILE", ()))
    data = {k: v for k, v in record.data.items() if k not in volatile}
    return _digest({"outputs": record.outputs, "data": data})


def fingerprint(stage: Stage, settings: BaseModel, key: Any, tools: dict[str, str]) -> str:
    """Digest of everything a stage's result depends on.

    Args:
        stage: The stage.
        settings: Its configuration section.
        key: Its input: the item fields it reads and its upstream results.
        tools: Versions of the programs it runs (a new tesseract redoes OCR).

    Returns:
        A hex SHA-256.
    """
    return _digest(
        {
            "stage": stage.NAME,
            "version": stage.VERSION,
            "settings": settings.model_dump(mode="json"),
            "tools": tools,
            "input": key,
        }
    )


def _item_key(item: PageItem, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """The page item fields a stage depends on; never where the scans folder lives."""
    data = {k: v for k, v in vars(item).items() if k != "source"}  # asdict would deep-copy
    if fields is None:
        return data
    return {k: v for k, v in data.items() if k in {"volume", "page", *fields}}


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
    tools: dict[str, dict[str, str]] = field(default_factory=dict)
    # Records found current in this job, by (volume, page, stage): a later stage reading them
    # as upstream neither reads nor checks them again. A record stored since is dropped.
    checked: dict[tuple[str, str, str], StageRecord] = field(default_factory=dict)

    def current(self, volume: str, page: str, stage: str, fp: str) -> StageRecord | None:
        """The stored record if it is ok, has the same fingerprint and its outputs exist."""
        rec = self.state.get(volume, page, stage)
        if rec is None or rec.status != "ok" or rec.fingerprint != fp:
            return None
        if not self.outputs_exist(rec):
            return None
        if not rec.folder_entries:
            # Stored before folders were counted (found file by file): count them now, so that
            # the next rerun checks the folder instead. Fingerprints do not depend on this.
            counted = count_folders(rec, self.layout)
            if counted is not rec:
                self.state.put(counted)
                rec = counted
        self.checked[volume, page, stage] = rec
        return rec

    def outputs_exist(self, rec: StageRecord) -> bool:
        """Whether the files a record lists are still there (a tile pyramid: by its folder)."""
        return outputs_present(rec, self.layout)

    def upstream(
        self, stage: Stage, volume: str, page: str
    ) -> tuple[dict[str, StageRecord], StageRecord | None]:
        """Upstream records of a task, or the ``skipped`` record when a required one is not ok."""
        found: dict[str, StageRecord] = {}
        for name in stage.REQUIRES + stage.USES:
            rec = self.checked.get((volume, page, name))
            if rec is not None:
                found[name] = rec
                continue
            rec = self.state.get(volume, page, name)
            if rec is not None and rec.status == "ok" and self.outputs_exist(rec):
                found[name] = rec
            elif name in stage.REQUIRES:
                if rec is None:
                    why = f"upstream not run: {name}"
                elif rec.status == "ok":
                    why = f"upstream output missing: {name} (run that stage again)"
                else:
                    why = f"upstream failed: {name}"
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
            self.checked.pop((rec.volume, rec.page, rec.stage), None)
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
                bar.advance(rec.subject, rec)
                if rec.status == "failed":
                    log.info("failed: %s [%s]: %s", rec.subject, rec.stage, rec.error)
                    if rec.error_type == "internal":
                        # The traceback travels in the record (from any executor).
                        log.debug(
                            "traceback of %s [%s]:\n%s",
                            rec.subject,
                            rec.stage,
                            rec.data.get("traceback", "(none recorded)"),
                        )
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
                key: Any = {
                    "item": _item_key(item, getattr(stage, "ITEM_FIELDS", None)),
                    "upstream": {n: result_digest(r) for n, r in sorted(up.items())},
                }
                if not stage.REQUIRES:
                    # A stage reading the master directly: its name and stat stand for its
                    # bytes (ingest hashes them; downstream stages depend on that hash).
                    source = Path(item.source)
                    stat = source.stat() if source.exists() else None
                    key["file"] = source.name
                    key["stat"] = [stat.st_size, stat.st_mtime_ns] if stat else None
                fp = fingerprint(stage, settings, key, self.tools.get(stage.NAME, {}))
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
            fp = fingerprint(stage, settings, key, self.tools.get(stage.NAME, {}))
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
        for vid in sorted(self.state.volumes(), key=sort_key):
            if not vid or not (scans / vid).is_dir():
                continue
            for name in stage.REQUIRES:
                rec = self.state.get(vid, "", name)
                if rec is not None and rec.status == "ok":
                    entries.append((vid, rec.data))
        fp = fingerprint(stage, settings, entries, self.tools.get(stage.NAME, {}))
        rec = self.current(COLLECTION_KEY, "", stage.NAME, fp)
        if rec is not None:
            self.record(rec, current=True)
            with self.reporter.stage(stage.NAME, 1) as bar:
                bar.advance("up to date")
            return
        inp = CollectionInput(volumes=tuple(entries))
        task = Task(stage.NAME, COLLECTION_KEY, "", inp, settings, self.layout, fp)
        self.run_tasks(stage, [task], 1)


def _withdraw_volume_results(state: StateStore, failure: StageRecord) -> None:
    """A volume that no longer reads keeps no ok manifest: the collection and publish skip it."""
    for stage in STAGES:
        if stage.SCOPE != "volume":
            continue
        old = state.get(failure.volume, "", stage.NAME)
        if old is not None and old.status == "ok":
            why = f"volume could not be read: {failure.error}"
            state.put(
                StageRecord(
                    stage=stage.NAME, volume=failure.volume, page="", status="skipped", error=why
                )
            )


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


def preflight(cfg: Config, stages: Sequence[Stage]) -> dict[str, dict[str, str]]:
    """Check every tool the selected stages need, before any page is touched.

    Args:
        cfg: The configuration.
        stages: The stages about to run.

    Returns:
        Per stage, the versions of the tools it uses (part of its fingerprints).

    Raises:
        MissingDependencyError: A tool or language is missing.
    """
    return {stage.NAME: stage.preflight(stage.settings(cfg)) for stage in stages}


def _report_volume_problems(cfg: Config, stages: Sequence[Stage], volumes: list[Volume]) -> None:
    """Say once, at the start, what will make a volume's pages fail in a stage.

    Stages that can tell provide ``volume_problems`` (OCR: languages its volume.toml asks for
    that are not installed); the pages then fail one by one, the rest of the batch goes on.
    """
    for stage in stages:
        check = getattr(stage, "volume_problems", None)
        if check is None:
            continue
        for volume in volumes:
            for problem in check(stage.settings(cfg), volume.pages):
                log.warning("%s/volume.toml [%s]: %s", volume.id, stage.NAME, problem)


def _report_settings_problems(cfg: Config, stages: Sequence[Stage]) -> None:
    """Warn once, at the start, about settings a stage can run with but probably should not.

    Stages that can tell provide ``settings_problems`` (the collection: its title is still
    the default one).
    """
    for stage in stages:
        check = getattr(stage, "settings_problems", None)
        if check is not None:
            for problem in check(stage.settings(cfg)):
                log.warning("[%s] %s", stage.NAME, problem)


def _record_base_url(cfg: Config, layout: Layout, stages: Sequence[Stage]) -> None:
    """Record the base URL the job builds for; say so when it rebuilds for a new one."""
    previous = record_base_url(layout)
    if previous is not None:
        rebuilt = [s.NAME for s in stages if getattr(s.settings(cfg), "base_url", None)]
        log.warning("%s", change_note(previous, layout.base_url, rebuilt))


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
    report = JobReport(started=time.time())
    selected = select_stages(stages)
    layout = layout_for(cfg)
    # The batch first: a missing scans folder should not wait on a tool probe.
    found, broken = load_volumes(cfg, volumes)
    tools = preflight(cfg, selected)
    with stop_signals() as interrupted, job_lock(layout), StateStore(layout.state_db) as state:
        # Under the lock, every temporary file is a leftover of a killed job.
        pyramids = [layout.images_dir(v) for v in state.volumes() if SAFE_ID.match(v)]
        removed = remove_stale_temps(layout.out, scratch=layout.work_dir / "tmp", whole=pyramids)
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted job", removed)
        run_id = state.start_run("run")
        _record_base_url(cfg, layout, selected)
        _report_settings_problems(cfg, selected)
        _report_volume_problems(cfg, selected, found)
        log.info(
            "job: %d volume(s) from %s into %s; stages %s; %s executor, workers: %s; tools %s",
            len(found),
            cfg.site.scans,
            layout.out,
            ",".join(s.NAME for s in selected),
            cfg.run.executor,
            cfg.run.workers or "one per core",
            json.dumps(tools, sort_keys=True),
        )
        own = executor is None
        ran: list[Stage] = []
        executor = executor or make_executor(
            cfg.run.executor,
            cfg.run.workers,
            scheduler=cfg.run.scheduler,
            wait_s=cfg.run.worker_wait_s,
        )
        job = _Job(cfg, layout, state, executor, reporter or NullReporter(), report, found)
        job.interrupted = interrupted
        job.tools = tools
        for rec in broken:
            job.record(rec)
            _withdraw_volume_results(state, rec)
        for volume in found:
            state.forget_volume_pages(volume.id, {p.page for p in volume.pages})
            # Its descriptor reads again: forget an earlier "broken volume.toml" failure.
            state.delete(volume.id, "", "ingest")
        try:
            for stage in selected:
                if job.stop:
                    break
                ran.append(stage)
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
                path = write_volume_report(
                    layout, state, None, volume_id=rec.volume, error=rec.error
                )
                report.report_paths.append(str(path))
            state.finish_run(run_id, json.dumps(report.counts))
            if any(getattr(s, "READS_CACHE", False) for s in ran) and not report.interrupted:
                # Its readers have used what was kept for these volumes; the rest (pages whose
                # result was already current, or failed) would only take space. An interrupted
                # job keeps it for the rerun; other volumes' copies stay for their own jobs.
                for volume in found:
                    shutil.rmtree(layout.volume_cache_dir(volume.id), ignore_errors=True)
                with contextlib.suppress(OSError):
                    layout.cache_dir.rmdir()
            log.info(
                "job %s in %.1f s: %s",
                "interrupted" if report.interrupted else "finished",
                report.duration_s,
                json.dumps(report.counts, sort_keys=True),
            )
    return report


def running_job(layout: Layout) -> str | None:
    """Describe the job holding the output folder's lock (``pid 12, started ...``), if any.

    Takes the lock shared for an instant, never exclusively, and writes nothing.
    """
    try:
        fh = layout.lock_path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return fh.read().strip() or "another process"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def status(cfg: Config, volumes: Sequence[str] = ()) -> dict[str, Any]:
    """Per volume: the report of its latest state (works while a job runs; writes nothing).

    Also the collection's state and, under ``running``, the job running now (if any).
    """
    layout = layout_for(cfg)
    found, broken = load_volumes(cfg, volumes)
    state = StateStore.existing(layout.state_db)
    try:
        data = status_report(layout, state, found, broken)
    finally:
        if state is not None:
            state.close()
    data["running"] = running_job(layout)
    return data
