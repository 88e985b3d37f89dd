"""Crashes and concurrency, with real processes and real signals.

A job that dies at once right after storing its N-th record (the runner's test hook
``PIPELINE_TEST_EXIT_AFTER_RECORDS``, N chosen to fall mid-stage; with its workers killed too,
or left to notice) leaves nothing that looks finished but is not: every record it stored
passes ``pipeline verify``. Rerun, the output is byte-identical to an
uninterrupted run and no temporary file is left. Ctrl-C (and SIGTERM) stop cleanly with exit
code 130 and keep finished work. A second job on the same output folder refuses to start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from pipeline.layout import TMP_PREFIX
from pipeline.records import PageItem
from pipeline.run.job import CRASH_EXIT_STATUS, EXIT_AFTER_RECORDS
from pipeline.samples.generate import generate_volume
from pipeline.stages.spec import PageInput
from tests.conftest import BASE_URL, have_tesseract, require

pytestmark = pytest.mark.slow

VOLUME = "vol-1"
PAGES = 5
TIMEOUT = 180


def make_scans(root: Path) -> None:
    """A few distinct colour pages, big enough to give each stage some work."""
    folder = root / "scans" / VOLUME
    folder.mkdir(parents=True)
    for n in range(PAGES):
        xyz = pyvips.Image.xyz(900, 1200)
        g = ((xyz[0] * (3 + n) + xyz[1] * (5 + n)) % 256).cast("uchar")
        image = g.bandjoin([(255 - g).cast("uchar"), ((g * 2) % 256).cast("uchar")])
        image.copy(interpretation="srgb").write_to_file(str(folder / f"p{n + 1:02d}.tif"))


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("PIPELINE_") and "__" in k)}
    env.update({f"PIPELINE_{k.upper()}": v for k, v in settings.items()})
    return env


def start(
    root: Path, *args: str, ocr: bool = False, workers: int = 1, exit_after: int = 0
) -> subprocess.Popen[str]:
    """``pipeline ... run`` (or another command) as its own process group, like a terminal job.

    With ``exit_after`` N, the job exits at once (status 75) right after storing record N.
    """
    argv = [sys.executable, "-m", "pipeline", "--scans", str(root / "scans")]
    argv += ["--out", str(root / "out"), "--base-url", BASE_URL, *(args or ("run", "--quiet"))]
    env = environment(ocr__enabled=str(ocr).lower(), run__workers=str(workers))
    if exit_after:
        env[EXIT_AFTER_RECORDS] = str(exit_after)
    return subprocess.Popen(
        argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def run(root: Path, *args: str, ocr: bool = False, workers: int = 1) -> tuple[int, str]:
    proc = start(root, *args, ocr=ocr, workers=workers)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out + err


def published(root: Path) -> dict[str, str]:
    out = root / "out"
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.relative_to(out).as_posix().startswith(".")
    }


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders anywhere under the output or scans folder."""
    found = [str(p) for p in root.rglob(f"{TMP_PREFIX}*")]
    scratch = root / "out" / ".pipeline" / "tmp"
    if scratch.is_dir():
        found += [str(p) for p in scratch.iterdir()]
    return found


def ok_records(root: Path) -> int:
    db = root / "out" / ".pipeline" / "state.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM records WHERE status='ok'").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet, or being created


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def session_processes(sid: int) -> list[int]:
    """Processes still alive in a session (the job, its workers and their tools)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    stat = (entry / "stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] != "Z":
                        alive.append(int(entry.name))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    return alive


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The published output of one uninterrupted run (OCR off)."""
    root = tmp_path_factory.mktemp("baseline")
    make_scans(root)
    code, output = run(root)
    assert code == 0, output
    return published(root)


@pytest.fixture
def scans(baseline: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    make_scans(tmp_path)
    yield tmp_path
    # Whatever happened, nothing of the job may outlive the test.
    for pid in children(os.getpid()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def crash_after(root: Path, records: int, *, workers: int, group: bool, ocr: bool = False) -> None:
    """Run a job that dies right after storing ``records`` records; with ``group``, its workers too.

    Without ``group`` the workers are left running: they must notice and stop writing.
    """
    proc = start(root, ocr=ocr, workers=workers, exit_after=records)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == CRASH_EXIT_STATUS, out + err
    if group:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the whole job at once, like a power cut
    wait_for(lambda: not session_processes(proc.pid), timeout=15)


# Records stored in order: ingest of the 5 pages (1-5), then their tiles (6-10), ...
@pytest.mark.parametrize(
    ("crashes", "workers", "group"),
    [
        pytest.param((2,), 1, False, id="mid-ingest-serial"),
        pytest.param((7,), 1, True, id="mid-tiles-serial-group"),
        pytest.param((3,), 2, False, id="mid-ingest-pool"),
        pytest.param((8,), 2, True, id="mid-tiles-pool-group"),
        pytest.param((4, 3), 2, False, id="pool-twice"),
    ],
)
def test_a_crash_then_rerun_gives_identical_output(
    scans: Path, baseline: dict[str, str], crashes: tuple[int, ...], workers: int, group: bool
) -> None:
    # With two crashes, the second lands during the recovery run (its own third record).
    for records in crashes:
        crash_after(scans, records, workers=workers, group=group)
        if (scans / "out" / ".pipeline" / "state.sqlite").exists():
            # Everything recorded as done is really there, whole: done means outputs in place.
            code, output = run(scans, "verify")
            assert code == 0, output
    code, output = run(scans, workers=workers)
    assert code == 0, output
    assert published(scans) == baseline
    assert leftovers(scans) == []


@pytest.mark.tesseract
def test_a_crash_during_ocr_then_rerun_gives_identical_output(
    tmp_path: Path, nanum_fonts: None
) -> None:
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    roots = [tmp_path / "whole", tmp_path / "killed"]
    for root in roots:
        generate_volume(
            root / "scans", volume_id=VOLUME, pages=3, seed=11, width=600, height=850,
            fonts=["print"],
        )  # fmt: skip
    code, output = run(roots[0], ocr=True)
    assert code == 0, output
    # ingest and tiles of the 3 pages, then one page recognised: die mid-OCR.
    crash_after(roots[1], 7, workers=1, group=True, ocr=True)
    code, output = run(roots[1], ocr=True)
    assert code == 0, output
    assert published(roots[1]) == published(roots[0])
    assert any(k.endswith(".hocr") for k in published(roots[1]))
    assert leftovers(roots[1]) == []


@pytest.mark.parametrize(
    ("sig", "workers"),
    [
        pytest.param(signal.SIGINT, 2, id="ctrl-c-pool"),
        pytest.param(signal.SIGINT, 1, id="ctrl-c-serial"),
        pytest.param(signal.SIGTERM, 2, id="sigterm"),
    ],
)
def test_interrupt_exits_130_and_keeps_finished_work(
    scans: Path, baseline: dict[str, str], sig: signal.Signals, workers: int
) -> None:
    proc = start(scans, workers=workers)
    wait_for(lambda: ok_records(scans) >= 2 or proc.poll() is not None)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # a terminal sends Ctrl-C to the whole foreground group
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, out + err
    assert "interrupted: " in err and "Traceback" not in err, err
    kept = ok_records(scans)
    assert kept >= 2
    code, output = run(scans, "status")
    assert code == 0, output
    code, output = run(scans, workers=workers)
    assert code == 0, output
    current = re.search(r"(\d+) up to date", output)
    assert current is not None and int(current[1]) >= 2, output  # finished work was kept
    assert published(scans) == baseline
    assert leftovers(scans) == []


def test_second_job_refuses_while_one_runs_and_status_works(scans: Path) -> None:
    first = start(scans, workers=1)
    wait_for(lambda: ok_records(scans) >= 1 or first.poll() is not None)
    # Slow the first job down so that it is surely still running: stop it, ask, resume it.
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        code, output = run(scans, workers=1)
        assert code == 4, output
        assert "another pipeline job is running on this output folder" in output
        assert f"pid {first.pid}" in output and "wait for it to finish" in output
        code, output = run(scans, "verify")
        assert code == 4 and "another pipeline job is running" in output, output
        code, output = run(scans, "status")
        assert code == 0 and f"{VOLUME} ({PAGES} pages)" in output, output
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, out + err


def test_a_worker_killed_by_the_system_does_not_stop_the_batch(
    scans: Path, baseline: dict[str, str]
) -> None:
    proc = start(scans, workers=2)

    def workers() -> list[int]:
        return [w for fs in children(proc.pid) for w in children(fs)]

    wait_for(lambda: len(workers()) >= 2 or proc.poll() is not None)
    victims = workers()
    if victims:
        os.kill(victims[0], signal.SIGKILL)  # as the out-of-memory killer would
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out + err
    assert "a worker died; rerunning" in err and "Traceback" not in err, err
    assert published(scans) == baseline
    assert leftovers(scans) == []


def test_no_stale_temp_survives_a_new_job(scans: Path) -> None:
    """Temporaries of a killed job (any depth, files or folders) are removed at the next start."""
    code, output = run(scans)
    assert code == 0, output
    out = scans / "out"
    (out / VOLUME / "images" / f"{TMP_PREFIX}p01-abc").mkdir()
    (out / VOLUME / "images" / f"{TMP_PREFIX}p01-abc" / "p01").mkdir()
    (out / VOLUME / f"{TMP_PREFIX}manifest.json-123").write_text("{")
    (out / ".pipeline" / "tmp").mkdir(exist_ok=True)
    (out / ".pipeline" / "tmp" / "ocr-p01-xyz").mkdir()
    code, output = run(scans)
    assert code == 0, output
    assert leftovers(scans) == []
    shutil.rmtree(out)


class KillsItsWorker(PageInput):
    """A page whose item cannot be read in a worker process without the worker dying.

    The job process (which names the page's file in the failed record) reads it safely.
    """

    def __init__(self, item: PageItem) -> None:  # noqa: D107
        object.__setattr__(self, "_item", item)
        object.__setattr__(self, "_job", os.getpid())

    @property
    def item(self) -> PageItem:  # type: ignore[override]
        if os.getpid() != self._job:  # type: ignore[attr-defined]
            os.kill(os.getpid(), signal.SIGKILL)
        return self._item  # type: ignore[attr-defined,no-any-return]


def test_a_task_that_kills_its_worker_fails_alone(tmp_path: Path, make_scan) -> None:  # type: ignore[no-untyped-def]
    from pipeline.config import load_config
    from pipeline.run.local import LocalExecutor, Task
    from pipeline.siteurl import layout_for
    from pipeline.stages import ingest

    cfg = load_config(None, overrides={"site": {"out": str(tmp_path / "out")}}, environ={})
    layout, settings = layout_for(cfg), ingest.settings(cfg)

    def task(page: str, inp: object) -> Task:
        return Task("ingest", VOLUME, page, inp, settings, layout, f"fp-{page}")

    bad = PageItem(VOLUME, "bad", str(tmp_path / "scans" / VOLUME / "bad.tif"), 0, {}, ("kor",))
    tasks = [task("bad", KillsItsWorker(bad))]
    for n in (1, 2, 3):
        source = make_scan(f"{VOLUME}/p{n}.tif", 200, 300)
        item = PageItem(VOLUME, f"p{n}", str(source), n, {"none": [str(n)]}, ("kor",))
        tasks.append(task(f"p{n}", PageInput(item=item)))
    executor = LocalExecutor(2)
    try:
        records = {r.page: r for r in executor.map(tasks)}
    finally:
        executor.close()
    assert set(records) == {"bad", "p1", "p2", "p3"}
    assert records["bad"].status == "failed" and records["bad"].error_type == "WorkerDied"
    assert "worker process died" in records["bad"].error
    assert all(records[f"p{n}"].status == "ok" for n in (1, 2, 3))
