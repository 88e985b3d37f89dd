"""The same stages on a real Dask cluster: `dask scheduler` and `dask worker` processes.

Every run goes through the CLI in a child process, like a user's, and is compared with a run
of the same volumes through the local process pool: every published file byte for byte, every
stored record (fingerprints, output digests), the volume reports, the exit code and the
summary. One volume has a truncated scan, so failure isolation is compared too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.layout import TMP_PREFIX
from pipeline.samples.generate import generate_volume
from tests.conftest import BASE_URL, have_tesseract, require
from tests.daskcluster import Cluster, dask_cluster

pytestmark = [pytest.mark.slow, pytest.mark.tesseract]

GOOD, BAD = "vol-1", "vol-bad"
TIMEOUT = 600
ON_WORKER = re.compile(r" \(on dask worker (\S+) \((tcp://127\.0\.0\.1:\d+)\) on host [^)]+\)$")


def make_scans(scans: Path) -> None:
    """Two small volumes of Korean text; the second has a truncated scan."""
    for volume, pages, seed in ((GOOD, 4, 5), (BAD, 2, 6)):
        generate_volume(
            scans, volume_id=volume, pages=pages, seed=seed, width=600, height=850,
            fonts=["print"],
        )  # fmt: skip
    broken = scans / BAD / "p002.tif"
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])


def start(scans: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    """``pipeline ... ARGS`` in its own session, as a terminal job; from a folder without config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_", "DASK_"))}
    env["DASK_TEMPORARY_DIRECTORY"] = str(out.parent)
    argv = [sys.executable, "-m", "pipeline", "--scans", str(scans), "--out", str(out)]
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [*argv, "--base-url", BASE_URL, *args], cwd=out.parent, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def run(scans: Path, out: Path, *args: str) -> tuple[int, str]:
    proc = start(scans, out, *args)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, stdout + stderr


def published(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.relative_to(out).as_posix().startswith(".pipeline/")
    }


def records(out: Path) -> list[tuple[Any, ...]]:
    """What each stored record says about the work, without timings."""
    with sqlite3.connect(out / ".pipeline" / "state.sqlite") as con:
        rows = con.execute("SELECT volume, page, stage, record FROM records ORDER BY 1, 2, 3")
        found = []
        for volume, page, stage, text in rows:
            rec = json.loads(text)
            found.append(
                (volume, page, stage, rec["status"], rec["fingerprint"], rec["outputs"],
                 rec["error_type"], ON_WORKER.sub("", rec["error"]))
            )  # fmt: skip
    return found


def ok_records(out: Path) -> int:
    db = out / ".pipeline" / "state.sqlite"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM records WHERE status='ok'").fetchone()[0])
    except sqlite3.Error:
        return 0


PER_RUN = {"generated", "duration_s", "built_from"}  # report keys that differ between runs


def reports(out: Path) -> dict[str, Any]:
    """The volume reports, without what differs between any two runs (times, paths, digests)."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if k not in PER_RUN}
        if isinstance(node, list):
            return [clean(v) for v in node]
        if isinstance(node, str):
            return ON_WORKER.sub("", node.replace(str(out), "OUT"))
        return node

    folder = out / ".pipeline" / "reports"
    return {p.name: clean(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))}


def summary(output: str) -> tuple[list[str], str]:
    """The failure lines (without the worker) and the counts of the summary line."""
    errors = [ON_WORKER.sub("", ln) for ln in output.splitlines() if ln.startswith("error: ")]
    counts = re.search(r"^(done|interrupted): (.*?) in ", output, re.M)
    assert counts is not None, output
    return errors, f"{counts[1]}: {counts[2]}"


def leftovers(out: Path) -> list[str]:
    found = [str(p) for p in out.rglob(f"{TMP_PREFIX}*")]
    scratch = out / ".pipeline" / "tmp"
    return found + ([str(p) for p in scratch.iterdir()] if scratch.is_dir() else [])


def wait_for(predicate: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def ocr_processes(pid: int) -> list[int]:
    """Child processes of ``pid`` that are tesseract recognising a page (not a version probe)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"hocr" in argv:
            found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class Baseline:
    scans: Path
    out: Path
    code: int
    output: str


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The volumes run through the local process pool, once for all test processes."""
    require(have_tesseract("kor"), "tesseract with kor.traineddata not installed")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's folder, shared by the xdist workers
    root = shared / "dask-baseline"
    root.mkdir(exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = root / "result.json"
        if not result.exists():
            make_scans(root / "scans")
            code, output = run(root / "scans", root / "out", "run", "--quiet", "-j", "2")
            result.write_text(json.dumps({"code": code, "output": output}))
        data = json.loads(result.read_text())
    base = Baseline(root / "scans", root / "out", data["code"], data["output"])
    assert base.code == 1, base.output  # the truncated scan
    return base


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A scheduler and two single-threaded workers, w1 and w2."""
    with dask_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def assert_same_as(baseline: Baseline, out: Path, code: int, output: str) -> None:
    assert code == baseline.code, output
    assert "Traceback" not in output, output
    assert published(out) == published(baseline.out)
    assert records(out) == records(baseline.out)
    assert reports(out) == reports(baseline.out)
    assert summary(output) == summary(baseline.output)


def test_a_cluster_run_matches_the_local_pool_byte_for_byte(
    baseline: Baseline, cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = run(baseline.scans, out, "run", "--quiet", "--scheduler", cluster.address)
    assert_same_as(baseline, out, code, output)
    assert (
        any(k.endswith(".hocr") for k in published(out)) and (out / GOOD / "manifest.json").exists()
    )
    # The truncated scan failed on a worker, which its line names; the rest went on.
    failures = [ln for ln in output.splitlines() if ln.startswith("error: ")]
    assert failures and all(ON_WORKER.search(ln) for ln in failures), output
    assert f"error: {BAD}/p002.tif [ingest]: " in output
    assert {ON_WORKER.search(ln)[1] for ln in failures} <= {"w1", "w2"}  # type: ignore[index]
    assert leftovers(out) == []
    # Up-to-date work never reaches a cluster: rerunning a finished volume needs no scheduler.
    nowhere = "tcp://127.0.0.1:9"
    code, output = run(baseline.scans, out, "run", "--quiet", "--scheduler", nowhere, GOOD)
    assert code == 0 and "done: 0 ok, 0 failed, 0 skipped, " in output, output


def test_a_local_dask_cluster_matches_the_local_pool(baseline: Baseline, tmp_path: Path) -> None:
    """``--executor dask`` without an address starts a cluster of this machine's cores."""
    out = tmp_path / "out"
    code, output = run(baseline.scans, out, "run", "--quiet", "--executor", "dask", "-j", "2")
    assert code == baseline.code, output
    assert published(out) == published(baseline.out)
    assert records(out) == records(baseline.out)
    assert summary(output)[1] == summary(baseline.output)[1]
    # What the workers logged reached the job log, naming stage and page.
    log = (out / ".pipeline" / "job.log").read_text(encoding="utf-8")
    assert re.search(r"pipeline\.stages\.ingest: \[ingest \S+/\S+\] ingested ", log), log[-2000:]


def test_a_worker_killed_while_it_holds_tasks_changes_nothing(
    baseline: Baseline, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with dask_cluster(tmp_path / "cluster") as cluster:
        proc = start(baseline.scans, out, "run", "--quiet", "--scheduler", cluster.address)

        def busy() -> list[tuple[str, int]]:
            """Workers running tesseract (an OCR task in progress), with that process."""
            return [
                (name, pid)
                for name, worker in cluster.workers.items()
                for pid in ocr_processes(worker.pid)
            ]

        wait_for(lambda: busy() or proc.poll() is not None)
        assert proc.poll() is None, "the job ended before a worker was seen running OCR"
        name, tesseract = busy()[0]
        os.kill(cluster.workers[name].pid, signal.SIGKILL)  # as the out-of-memory killer would
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
        output = stdout + stderr
    # The job went on: Dask ran the lost tasks again on the other worker.
    assert "lost Dask worker(s) tcp://127.0.0.1:" in output, output
    assert_same_as(baseline, out, proc.returncode, output)  # counts equal: nothing twice
    wait_for(lambda: not Path(f"/proc/{tesseract}").exists(), timeout=60)  # the orphan's exit
    assert leftovers(out) == []


def test_a_worker_without_a_configured_language_fails_its_pages_and_says_which(
    baseline: Baseline, tmp_path: Path
) -> None:
    listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    tessdata = Path(re.search(r'"(.+?)"', listing)[1])  # type: ignore[index]
    partial = tmp_path / "tessdata"
    partial.mkdir()
    for lang in ("eng", "osd"):
        (partial / f"{lang}.traineddata").symlink_to(tessdata / f"{lang}.traineddata")
    out = tmp_path / "out"
    with dask_cluster(tmp_path / "cluster", workers=0) as cluster:
        cluster.start_worker("good")
        cluster.start_worker("nokor", env={"TESSDATA_PREFIX": str(partial)})
        code, output = run(
            baseline.scans, out, "run", "--quiet", "--scheduler", cluster.address, GOOD
        )
        doctor_code, doctor = run(baseline.scans, out, "doctor", "--scheduler", cluster.address)
    assert code == 1, output
    assert "Traceback" not in output
    # Warned before the stage, then every page it took failed, naming it and the language.
    assert re.search(r"dask worker nokor \(tcp://127\.0\.0\.1:\d+\) on host \S+ cannot run ocr: "
                     r"tesseract language 'kor' is not installed", output), output  # fmt: skip
    errors = [ln for ln in output.splitlines() if ln.startswith("error: ")]
    # The volume's PDF, when that worker takes it, fails for the same reason: its tessdata
    # folder lacks the font of searchable PDFs too.
    failures = [ln for ln in errors if f"{GOOD} [pdf]: " not in ln]
    assert failures, output
    for line in failures:
        assert re.match(
            rf"error: {GOOD}/p00\d\.tif \[ocr\]: tesseract language 'kor' is not installed "
            r"\(.*installed: eng, osd\) \(on dask worker nokor \(tcp://", line
        )  # fmt: skip
    for line in set(errors) - set(failures):
        assert re.match(rf"error: {GOOD} \[pdf\]: tesseract's pdf.ttf .* is not in {partial}"
                        r".* \(on dask worker nokor \(tcp://", line), line  # fmt: skip
    ok = [r for r in records(out) if r[2] == "ocr" and r[3] == "ok"]
    assert len(ok) + len(failures) == 4, output
    assert doctor_code == 3, doctor
    assert re.search(r"^error: worker nokor \(tcp://\S+\): tesseract language 'kor' is not "
                     r"installed", doctor, re.M), doctor  # fmt: skip
    assert re.search(r"^worker good \(tcp://\S+\) \(host \S+\): python ", doctor, re.M), doctor


def test_a_worker_that_cannot_see_the_folders_stops_the_job_naming_it(tmp_path: Path) -> None:
    """A worker where the shared folder is not mounted (here: an empty tmpfs over it)."""
    blind = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs tmpfs "$0" && exec "$@"']  # fmt: skip
    probe = subprocess.run([*blind, str(tmp_path), "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"needs mount namespaces (root): {probe.stderr.decode().strip()}")
    data = tmp_path / "data"
    generate_volume(data / "scans", volume_id=GOOD, pages=1, seed=5, width=300, height=400)
    with dask_cluster(tmp_path / "cluster", workers=0) as cluster:
        cluster.start_worker("sighted")
        cluster.start_worker("blind", wrap=[*blind, str(data)])
        code, output = run(data / "scans", data / "out", "run", "--quiet", "--scheduler",
                           cluster.address)  # fmt: skip
    assert code == 3, output
    assert re.search(
        rf"^error: dask worker blind \(tcp://127\.0\.0\.1:\d+\) on host \S+ cannot see "
        rf"{re.escape(str(data / 'out'))}: every worker must mount the scans and output folders "
        r"at the same path as this machine \(a shared filesystem\)$", output, re.M,
    ), output  # fmt: skip
    assert "Traceback" not in output
    assert not (data / "out" / GOOD).exists()  # nothing ran


def test_ctrl_c_cancels_outstanding_tasks_and_keeps_finished_work(
    baseline: Baseline, cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start(baseline.scans, out, "run", "--quiet", "--scheduler", cluster.address)
    wait_for(lambda: ok_records(out) >= 6 or proc.poll() is not None)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole foreground group
    stdout, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted: " in stderr and "Traceback" not in stderr, stderr
    kept = ok_records(out)
    assert kept >= 6
    # Nothing of the job is left queued on the cluster (the running tasks finish, then go).
    wait_for(lambda: cluster.scheduler_tasks() == 0, timeout=120)
    code, output = run(baseline.scans, out, "run", "--quiet", "--scheduler", cluster.address)
    current = re.search(r"(\d+) up to date", output)
    assert current is not None and int(current[1]) >= kept, output
    assert code == baseline.code, output
    assert published(out) == published(baseline.out)
    assert records(out) == records(baseline.out)


def test_doctor_checks_this_machine_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(tmp_path / "scans", out, "doctor", "--json")
    assert code == 0, output
    here = json.loads(output[: output.rindex("}") + 1])["machines"]["this machine"]
    assert here["problems"] == [] and "kor" in here["languages"]
    assert {"python", "pipeline", "pyvips", "libvips", "tesseract"} <= set(here)
    config = tmp_path / "site.toml"
    config.write_text('[ocr]\nlanguages = ["kor", "zzz"]\n')
    code, output = run(tmp_path / "scans", out, "--config", str(config), "doctor")
    assert code == 3, output
    assert "error: this machine: tesseract language 'zzz' is not installed" in output
    assert output.rstrip().endswith("checked 1 machine(s): 1 problem(s)")
