"""The job runner: finds volumes and pages, skips current work, runs stages, builds the report."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.archive.report import status_report, write_volume_report
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.fsio import remove_stale_temps
from pipeline.input.catalogue import configured_catalogue
from pipeline.input.volumes import Volume
from pipeline.layout import SAFE_ID, Layout
from pipeline.lock import job_lock, running_job
from pipeline.records import JobReport, StageRecord
from pipeline.results import Failure
from pipeline.run.catalogue import catalogue_problems, log_problems, with_catalogue
from pipeline.run.executors import make_executor
from pipeline.run.local import Executor, Task
from pipeline.run.progress import NullReporter, Reporter
from pipeline.run.signals import stop_signals
from pipeline.run.tasks import Planner
from pipeline.run.volumes import load_volumes, master_reader
from pipeline.siteurl import change_note, layout_for
from pipeline.siteurl import record as record_base_url
from pipeline.stages import STAGE_NAMES, STAGES, AnyStage
from pipeline.state import StateStore

log = logging.getLogger(__name__)

#: Test hook: with this environment variable set to N, a job process exits at once (status
#: 75, as if killed) right after storing its N-th new record, to test what a crash leaves.
EXIT_AFTER_RECORDS = "PIPELINE_TEST_EXIT_AFTER_RECORDS"
CRASH_EXIT_STATUS = 75

__all__ = ["run_job", "status"]


def select_stages(names: Sequence[str] | None) -> tuple[AnyStage, ...]:
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
    return tuple(s for s in STAGES if s.name in names)


@dataclass
class _JobRun:
    """One job's running state: stores records as they come, counts them, stops on request."""

    cfg: Config
    state: StateStore
    planner: Planner
    executor: Executor
    reporter: Reporter
    report: JobReport
    # Volumes that cannot be read, each as the failed record of the stage reading masters.
    broken: list[StageRecord]
    interrupted: threading.Event = field(default_factory=threading.Event)
    stop: bool = False
    stored: int = 0
    exit_after: int = 0

    def record(self, rec: StageRecord, *, current: bool = False) -> None:
        """Store a fresh record and count it."""
        if not current:
            self.state.put(rec)
            self.planner.forget(rec)
            self.stored += 1
            if self.stored == self.exit_after:
                log.info("test hook %s: exiting after record %d", EXIT_AFTER_RECORDS, self.stored)
                os._exit(CRASH_EXIT_STATUS)
        self.report.add(rec, current=current)
        if rec.status == "failed" and self.cfg.run.fail_fast:
            self.stop = True

    def run_stage(self, stage: AnyStage) -> None:
        """Plan a stage's tasks, record what is current or skipped, run the rest."""
        plan = self.planner.plan(stage, stage.settings(self.cfg))
        for rec in plan.skipped:
            self.record(rec)
        for rec in plan.current:
            self.record(rec, current=True)
        self.run_tasks(stage, plan.tasks, plan.total)

    def run_tasks(self, stage: AnyStage, tasks: list[Task], total: int) -> None:
        """Run a stage's tasks, storing each record as it arrives."""
        with self.reporter.stage(stage.name, total) as bar:
            for _ in range(total - len(tasks)):
                bar.advance("up to date")
            if not tasks:
                return
            for rec in self.executor.map(tasks):
                self.record(rec)
                bar.advance(rec.subject, rec)
                if rec.status == "failed":
                    _log_failure(rec)
                if self.interrupted.is_set():
                    raise KeyboardInterrupt
                if self.stop:
                    break


def _log_failure(rec: StageRecord) -> None:
    log.info("failed: %s [%s]: %s", rec.subject, rec.stage, rec.error)
    if rec.error_type == "internal":
        # The traceback travels in the record (from any executor).
        traceback = rec.result_as(Failure).traceback or "(none recorded)"
        log.debug("traceback of %s [%s]:\n%s", rec.subject, rec.stage, traceback)


def _withdraw_volume_results(state: StateStore, failure: StageRecord) -> None:
    """A volume that no longer reads keeps no ok manifest: the collection and publish skip it."""
    for stage in STAGES:
        if stage.scope != "volume":
            continue
        old = state.get(failure.volume, "", stage.name)
        if old is not None and old.status == "ok":
            why = f"volume could not be read: {failure.error}"
            state.put(
                StageRecord(
                    stage=stage.name, volume=failure.volume, page="", status="skipped", error=why
                )
            )


def preflight(cfg: Config, stages: Sequence[AnyStage]) -> dict[str, dict[str, str]]:
    """Check every tool the selected stages need, before any page is touched.

    Args:
        cfg: The configuration.
        stages: The stages about to run.

    Returns:
        Per stage, the versions of the tools it uses (part of its fingerprints).

    Raises:
        MissingDependencyError: A tool or language is missing.
    """
    return {stage.name: stage.preflight(stage.settings(cfg)) for stage in stages}


def _report_problems(cfg: Config, stages: Sequence[AnyStage], volumes: list[Volume]) -> None:
    """Say once, at the start, what the stages can tell will go wrong or is probably a mistake.

    Settings a stage can run with but probably should not (the collection: its title is still
    the default one); what will make a volume's pages fail (OCR: languages its volume.toml
    asks for that are not installed: the pages then fail one by one, the rest goes on).
    """
    for stage in stages:
        settings = stage.settings(cfg)
        for problem in stage.settings_problems(settings):
            log.warning("[%s] %s", stage.name, problem)
        for volume in volumes:
            for problem in stage.volume_problems(settings, volume.pages):
                log.warning("%s/volume.toml [%s]: %s", volume.id, stage.name, problem)
            if stage.reads_transcript:
                for problem in volume.transcript_problems:
                    log.warning("[%s] %s", stage.name, problem)


def _record_base_url(layout: Layout, stages: Sequence[AnyStage]) -> None:
    """Record the base URL the job builds for; say so when it rebuilds for a new one."""
    previous = record_base_url(layout)
    if previous is not None:
        rebuilt = [s.name for s in stages if s.writes_urls]
        log.warning("%s", change_note(previous, layout.base_url, rebuilt))


def _sweep_temps(layout: Layout, state: StateStore) -> None:
    """Under the lock, every temporary file is a leftover of a killed job: remove them."""
    pyramids = [layout.images_dir(v) for v in state.volumes() if SAFE_ID.match(v)]
    removed = remove_stale_temps(layout.out, scratch=layout.work_dir / "tmp", whole=pyramids)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted job", removed)


def _reset_volumes(job: _JobRun) -> None:
    """Record the volumes that cannot be read; forget what no longer applies to the others."""
    for rec in job.broken:
        job.record(rec)
        _withdraw_volume_results(job.state, rec)
    reader = master_reader().name
    for volume in job.planner.volumes:
        job.state.forget_volume_pages(volume.id, {p.page for p in volume.pages})
        # Its descriptor reads again: forget an earlier "broken volume.toml" failure.
        job.state.delete(volume.id, "", reader)


def _write_reports(
    layout: Layout, state: StateStore, found: list[Volume], broken: list[StageRecord]
) -> list[str]:
    """Write every volume's report (those that cannot be read: with the reason)."""
    paths = [str(write_volume_report(layout, state, volume)) for volume in found]
    for rec in broken:
        path = write_volume_report(layout, state, None, volume_id=rec.volume, error=rec.error)
        paths.append(str(path))
    return paths


def _clear_cache(layout: Layout, found: list[Volume]) -> None:
    """Drop what was kept in the cache for these volumes (their readers have used it).

    The rest (pages whose result was already current, or failed) would only take space.
    Other volumes' copies stay for their own jobs.
    """
    for volume in found:
        shutil.rmtree(layout.volume_cache_dir(volume.id), ignore_errors=True)
    with contextlib.suppress(OSError):
        layout.cache_dir.rmdir()


def _log_start(cfg: Config, layout: Layout, stages: Sequence[AnyStage], planner: Planner) -> None:
    log.info(
        "job: %d volume(s) from %s into %s; stages %s; %s executor, workers: %s; tools %s",
        len(planner.volumes),
        cfg.site.scans,
        layout.out,
        ",".join(s.name for s in stages),
        cfg.run.executor,
        cfg.run.workers or "one per core",
        json.dumps(planner.tools, sort_keys=True),
    )


def _exit_after() -> int:
    """The record after which the test hook :data:`EXIT_AFTER_RECORDS` exits (0: never)."""
    value = os.environ.get(EXIT_AFTER_RECORDS, "")
    return int(value) if value.isdigit() else 0


def _finish(job: _JobRun, run_id: int, started: float, ran: list[AnyStage]) -> None:
    """Write the volumes' reports, note the end of the run, clear the cache if it was read."""
    report, layout, found = job.report, job.planner.layout, job.planner.volumes
    report.duration_s = round(time.monotonic() - started, 3)
    report.report_paths += _write_reports(layout, job.state, found, job.broken)
    job.state.finish_run(run_id, json.dumps(report.counts))
    if any(s.reads_cache for s in ran) and not report.interrupted:
        # An interrupted job keeps the cache for the rerun.
        _clear_cache(layout, found)
    log.info(
        "job %s in %.1f s: %s",
        "interrupted" if report.interrupted else "finished",
        report.duration_s,
        json.dumps(report.counts, sort_keys=True),
    )


def _run_stages(job: _JobRun, selected: Sequence[AnyStage], ran: list[AnyStage]) -> None:
    """Run the stages in order (noting each in ``ran``) until done, stopped or interrupted."""
    try:
        _reset_volumes(job)
        for stage in selected:
            if job.stop:
                break
            ran.append(stage)
            job.run_stage(stage)
    except KeyboardInterrupt:
        job.report.interrupted = True


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
        executor: Where tasks run; default from ``cfg.run`` (then closed when the job ends).

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
    catalogue = configured_catalogue(cfg)
    found, broken = load_volumes(cfg, volumes, catalogue)
    cfg, report.input_errors = with_catalogue(cfg, catalogue)
    ids = [v.id for v in found] + [r.volume for r in broken]
    errors, warnings = catalogue_problems(catalogue, ids, volumes)
    report.input_errors += errors
    tools = preflight(cfg, selected)
    with stop_signals() as interrupted, job_lock(layout), StateStore(layout.state_db) as state:
        _sweep_temps(layout, state)
        run_id = state.start_run("run")
        _record_base_url(layout, selected)
        log_problems(report.input_errors, warnings)
        _report_problems(cfg, selected, found)
        planner = Planner(layout, state, found, cfg.site.scans, tools)
        _log_start(cfg, layout, selected, planner)
        own = executor is None
        used = executor or make_executor(
            cfg.run.executor,
            cfg.run.workers,
            scheduler=cfg.run.scheduler,
            wait_s=cfg.run.worker_wait_s,
        )
        job = _JobRun(cfg, state, planner, used, reporter or NullReporter(), report, broken)
        job.interrupted, job.exit_after = interrupted, _exit_after()
        ran: list[AnyStage] = []
        try:
            _run_stages(job, selected, ran)
        finally:
            if own:
                used.close()
            _finish(job, run_id, started, ran)
    return report


def status(cfg: Config, volumes: Sequence[str] = ()) -> dict[str, Any]:
    """Per volume: the report of its latest state (works while a job runs; writes nothing).

    Also the collection's state and, under ``running``, the job running now (if any).
    """
    layout = layout_for(cfg)
    found, broken = load_volumes(cfg, volumes, configured_catalogue(cfg))
    state = StateStore.existing(layout.state_db)
    try:
        data = status_report(layout, state, found, broken)
    finally:
        if state is not None:
            state.close()
    data["running"] = running_job(layout)
    return data
