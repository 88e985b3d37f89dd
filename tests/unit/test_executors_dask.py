"""The Dask executor's seams that need no cluster: pickling, dispatch, keys, messages, config."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.errors import ConfigError, MissingDependencyError
from pipeline.input.descriptor import Descriptor
from pipeline.ocr.tesseract import RESOURCE
from pipeline.records import PageItem, StageRecord
from pipeline.results import Failure, IngestResult, ManifestResult
from pipeline.run.executors import make_executor
from pipeline.run.local import Task
from pipeline.siteurl import layout_for
from pipeline.stages import STAGES
from pipeline.stages.spec import CollectionInput, PageInput, Upstream, VolumeInput


def page_item(tmp_path: Path, page: str = "p001") -> PageItem:
    return PageItem(
        volume="vol-1",
        page=page,
        source=str(tmp_path / "scans" / "vol-1" / f"{page}.tif"),
        index=0,
        label={"none": ["1"]},
        ocr_languages=("kor", "rus"),
    )


def tasks_of_every_stage(cfg: Config, tmp_path: Path) -> list[Task]:
    """A task per stage, with inputs shaped as the runner builds them."""
    layout = layout_for(cfg)
    upstream = Upstream(ingest=IngestResult(width=600, sha256="ab"))
    page = PageInput(item=page_item(tmp_path), upstream=upstream)
    manifest = ManifestResult(id="https://example.org/iiif/vol-1/manifest.json")
    inputs: dict[str, PageInput | VolumeInput | CollectionInput] = {
        "page": page,
        "volume": VolumeInput(
            volume="vol-1",
            descriptor=Descriptor.model_validate({"label": {"en": ["Vol"]}}),
            pages=(page,),
            missing=("p002",),
            order=("p001", "p002"),
        ),  # fmt: skip
        "collection": CollectionInput(volumes=(("vol-1", manifest),)),
    }
    tasks = []
    for stage in STAGES:
        inp = inputs[stage.scope]
        page_id = "p001" if stage.scope == "page" else ""
        tasks.append(Task(stage.name, "vol-1", page_id, inp, stage.settings(cfg), layout, "f" * 64))
    return tasks


def test_tasks_and_records_cross_process_boundaries_by_plain_pickle(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    """What Dask ships: plain pickle suffices (no closures, no open handles, no locks)."""
    for task in tasks_of_every_stage(make_cfg(), tmp_path):
        back = pickle.loads(pickle.dumps(task))
        assert back == task, task.stage
        assert back.settings.model_dump() == task.settings.model_dump()
    record = StageRecord(
        stage="ocr", volume="vol-1", page="p001", status="failed", fingerprint="f" * 64,
        outputs={"vol-1/ocr/p001.txt": "0" * 64}, data={"file": "p001.tif", "lines": [1, 2]},
        tool_versions={"tesseract": "5.3.0"}, error_type="OcrError", error="x", duration_s=1.5,
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(record)) == record
    assert record.result == Failure(file="p001.tif", lines=[1, 2])  # decoded once read ...
    back = pickle.loads(pickle.dumps(record))
    assert "result" not in vars(back)  # ... and shipped only in its stored form
    assert back.result == record.result


def test_task_keys_are_unique_per_submission_and_name_the_work(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from pipeline.run.dask import _key

    task = tasks_of_every_stage(make_cfg(), tmp_path)[0]
    first, second = _key(task), _key(task)
    assert first != second  # a rerun must run again, not be served a remembered result
    assert first.startswith(f"{task.stage}-vol-1-p001-")


def test_workers_must_see_the_output_folder_and_every_scan_folder(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from pipeline.run.dask import _visible_paths

    cfg = make_cfg()
    tasks = tasks_of_every_stage(cfg, tmp_path)
    paths = _visible_paths(tasks)
    assert str(cfg.site.out.absolute()) in paths
    assert str(tmp_path / "scans" / "vol-1") in paths
    assert len(paths) == 2


def test_only_ocr_holds_the_tesseract_resource() -> None:
    wanted = {stage.name: dict(stage.resources) for stage in STAGES}
    assert {name: r for name, r in wanted.items() if r} == {"ocr": {RESOURCE: 1}}


def test_a_failure_on_a_worker_names_it(make_cfg: Callable[..., Config], tmp_path: Path) -> None:
    """Outside a worker the message names the host; on a worker, the worker (integration)."""
    pytest.importorskip("distributed")
    from pipeline.run.dask_worker import run_task

    ingest = tasks_of_every_stage(make_cfg(), tmp_path)[0]  # its scan does not exist
    record = run_task(ingest)
    assert record.status == "failed"
    assert record.error_type == "ScanError"
    assert record.error.endswith(")") and "(on host " in record.error
    assert record.data == {"file": "p001.tif"}
    assert record.fingerprint == "f" * 64


def test_dask_executor_without_dask_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.delitem(sys.modules, "pipeline.run.dask", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'pipeline\[dask\]'"):
        make_executor("dask", 2, scheduler="tcp://127.0.0.1:8786")


def test_the_default_executor_never_imports_dask() -> None:
    code = (
        "import sys\n"
        "from pipeline.cli import cli\n"
        "from pipeline.run.job import run_job\n"
        "from pipeline.run.executors import make_executor\n"
        "make_executor('local', 1).close()\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dask_executor_connects_only_when_there_is_work() -> None:
    pytest.importorskip("distributed")
    executor = make_executor("dask", 2, scheduler="tcp://127.0.0.1:1")
    assert list(executor.map([])) == []  # all up to date: no cluster needed
    executor.close()


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:8786",
        "tls://scheduler.example.org:8786",
        "10.0.0.5:8786",
        "tcp://[::1]:8786",
    ],
)
def test_scheduler_addresses_dask_accepts(make_cfg: Callable[..., Config], address: str) -> None:
    assert make_cfg(run={"executor": "dask", "scheduler": address}).run.scheduler == address


@pytest.mark.parametrize(
    "address", ["http://scheduler:8786", "scheduler", "tcp:/scheduler:8786", "tcp://a b:1"]
)
def test_scheduler_addresses_that_are_not(make_cfg: Callable[..., Config], address: str) -> None:
    with pytest.raises(ConfigError, match=r"run\.scheduler: must be a Dask scheduler address"):
        make_cfg(run={"executor": "dask", "scheduler": address})


def test_the_worker_check_tells_a_same_named_folder_from_the_shared_one(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from pipeline.run.dask_worker import probe_worker

    work = tmp_path / "out" / ".pipeline"
    work.mkdir(parents=True)
    token = work / ".tmp-cluster-x"
    token.write_text("written-by-this-machine")
    ok = probe_worker([str(tmp_path / "out")], str(token), "written-by-this-machine", [])
    assert ok["problems"] == [] and ok["missing"] == []
    other = probe_worker([str(tmp_path / "out")], str(token), "another-machine's", [])
    assert other["problems"] == [f"sees a different {tmp_path / 'out'} than this machine"]
    gone = probe_worker([str(tmp_path / "elsewhere")], str(token), "x", [])
    assert gone["problems"] == [f"cannot see {tmp_path / 'elsewhere'}"]


def test_what_a_task_that_returned_no_record_becomes(
    make_cfg: Callable[..., Config], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from concurrent.futures import CancelledError
    from types import SimpleNamespace

    from distributed.scheduler import KilledWorker

    from pipeline.run.dask import DaskExecutor

    task = tasks_of_every_stage(make_cfg(), tmp_path)[2]
    executor = DaskExecutor("tcp://127.0.0.1:1")
    died = executor._record(task, KilledWorker("k", SimpleNamespace(address="tcp://h:1"), 3))
    assert (died.status, died.error_type, died.fingerprint) == ("failed", "WorkerDied", "f" * 64)
    assert "tcp://h:1" in died.error and "a rerun tries again" in died.error
    try:
        raise ValueError("cannot unpickle")
    except ValueError as exc:
        bug = executor._record(task, exc)
    assert (bug.error_type, bug.error) == (
        "internal",
        "the Dask task failed: ValueError: cannot unpickle",
    )
    assert "Traceback" in bug.data["traceback"] and bug.data["file"] == "p001.tif"
    with pytest.raises(MissingDependencyError, match="dropped this job's tasks"):
        executor._record(task, CancelledError("lost"))


def test_a_connection_closed_by_ctrl_c_goes_to_the_job_log_not_the_terminal() -> None:
    """Tornado logs a client call whose connection closed (the job was stopped) as an ERROR
    with a traceback; it is demoted to INFO (the job log), other errors stay errors."""
    import logging

    from distributed.comm.core import CommClosedError
    from tornado.iostream import StreamClosedError

    from pipeline.run.dask import quiet_dask_logging

    quiet_dask_logging()
    logger = logging.getLogger("tornado.application")

    def logged(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException as caught:
            record = logger.makeRecord(
                logger.name, logging.ERROR, __file__, 1, "Exception in callback %r", ("cb",),
                (type(caught), caught, caught.__traceback__),
            )  # fmt: skip
        for f in logger.filters:
            f.filter(record)
        return record

    try:
        try:
            raise StreamClosedError()
        except StreamClosedError as inner:
            raise CommClosedError("in <TCP (closed) ConnectionPool.gather>") from inner
    except CommClosedError as chained:
        assert logged(chained).levelno == logging.INFO
    assert logged(ValueError("a real bug")).levelno == logging.ERROR
