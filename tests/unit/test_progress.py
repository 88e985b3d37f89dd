"""One progress protocol for every job: bars on a terminal, log lines without one, or nothing."""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from pipeline.records import StageRecord
from pipeline.run.logcontext import demote_warnings
from pipeline.run.progress import (
    LogReporter,
    NullReporter,
    Reporter,
    RichReporter,
    make_reporter,
)


def _console() -> tuple[Console, io.StringIO]:
    sink = io.StringIO()
    return Console(file=sink, force_terminal=True, width=120, color_system=None), sink


def _drive(reporter: Reporter) -> None:
    """What the runner does for a stage (tasks, one up to date) and a publish phase (bytes)."""
    with reporter.stage("ocr", 3) as bar:
        bar.advance("up to date")
        for page, status in (("p001", "ok"), ("p002", "failed")):
            rec = StageRecord("ocr", "MS-0042", page, status, duration_s=1.5)  # type: ignore[arg-type]
            bar.advance(rec.subject, rec)
    with reporter.stage("files", 2, nbytes=3_000) as bar:
        bar.advance(nbytes=1_000)
        bar.advance(nbytes=2_000)
    with reporter.stage("delete", 4, nbytes=40) as bar:
        bar.advance(count=4, nbytes=40)


def test_a_terminal_gets_a_bar_per_stage_with_bytes_where_a_stage_has_them() -> None:
    console, sink = _console()
    _drive(RichReporter(console))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", sink.getvalue())
    lines = [ln.rstrip() for ln in re.split(r"[\r\n]", text) if ln.strip()]
    final = {ln.split()[0]: ln for ln in lines}  # each stage's last state
    assert "3/3" in final["ocr"] and "MS-0042/p002" in final["ocr"], lines
    assert "2/2" in final["files"] and "3.0/3.0 kB" in final["files"], lines
    assert "4/4" in final["delete"] and "40/40 bytes" in final["delete"], lines
    assert "kB" not in final["ocr"]


def test_an_empty_stage_draws_nothing() -> None:
    console, sink = _console()
    with RichReporter(console).stage("manifests", 0) as bar:
        bar.advance()
    assert sink.getvalue() == ""


def test_without_a_terminal_each_task_and_stage_is_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = StageRecord("ocr", "MS-0042", "p001", "ok", duration_s=3.21)
    with (
        caplog.at_level(logging.INFO, logger="pipeline.run.progress"),
        LogReporter().stage("ocr", 3) as bar,
    ):
        bar.advance("up to date")
        bar.advance(rec.subject, rec)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "ocr MS-0042/p001: ok in 3.21 s"
    assert messages[1].startswith("ocr: 1 run, 1 up to date, of 3 in ")
    assert len(messages) == 2


@pytest.mark.parametrize(
    ("quiet", "log_lines", "kind"),
    [
        pytest.param(True, True, NullReporter, id="quiet"),
        pytest.param(False, True, LogReporter, id="run-without-terminal"),
        pytest.param(False, False, NullReporter, id="publish-without-terminal"),
    ],
)
def test_the_reporter_fits_the_output(quiet: bool, log_lines: bool, kind: type) -> None:
    # Under pytest stderr is captured, not a terminal.
    assert isinstance(make_reporter(quiet=quiet, log_lines=log_lines), kind)


def test_the_null_reporter_takes_every_call_shape() -> None:
    _drive(NullReporter())


def test_a_library_warning_goes_to_the_job_log_only_and_its_errors_stay_errors() -> None:
    logger = logging.getLogger("tests.demoted-library")
    demote_warnings(logger)
    demote_warnings(logger)
    assert len(logger.filters) == 1
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = seen.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("error in tile 0 x 88")
        logger.error("out of memory")
    finally:
        logger.removeHandler(handler)
    assert [(r.levelname, r.getMessage()) for r in seen] == [
        ("DEBUG", "error in tile 0 x 88"),
        ("ERROR", "out of memory"),
    ]
