"""``pipeline doctor``: the tools this machine and every Dask worker run, and what is missing."""

from __future__ import annotations

import platform
import socket
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.config import Config
from pipeline.errors import MissingDependencyError

LOCAL = "this machine"


def probe(languages: Sequence[str] = (), paths: Sequence[str] = ()) -> dict[str, Any]:
    """Versions of Python, this package, libvips, tesseract and its languages, here.

    Runs on this machine and, through ``Client.run``, on every worker of a cluster.

    Args:
        languages: Tesseract languages the configuration needs (``kor``, ``kor+rus``).
        paths: Folders that must be visible (the scans and output folders, on a worker).

    Returns:
        JSON-able facts plus ``problems``: one line each, empty when all is well.
    """
    problems: list[str] = []
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "pipeline": __version__,
    }
    try:
        import pyvips

        from pipeline.imaging.vips import check_dzsave, vips_version

        info["pyvips"] = pyvips.__version__
        info["libvips"] = vips_version()
        check_dzsave()
    except MissingDependencyError as exc:
        problems.append(str(exc))
    except (ImportError, OSError) as exc:
        problems.append(f"pyvips cannot load libvips ({exc}): install libvips or pyvips-binary")
    from pipeline.ocr import tesseract

    # A long-lived worker may have had languages installed since it last looked.
    tesseract.version.cache_clear()
    tesseract.languages.cache_clear()
    try:
        info["tesseract"] = tesseract.version()
        info["languages"] = sorted(tesseract.languages())
        tesseract.check_languages(list(languages))
    except MissingDependencyError as exc:
        problems.append(str(exc))
    try:
        info["dask"] = metadata.version("distributed")
    except metadata.PackageNotFoundError:
        info["dask"] = None
    problems += [f"cannot see {path} (not mounted at the same path?)" for path in paths
                 if not Path(path).is_dir()]  # fmt: skip
    info["problems"] = problems
    return info


def check(cfg: Config, scheduler: str | None = None) -> dict[str, Any]:
    """Probe this machine and, given a scheduler address, every worker connected to it.

    Returns:
        ``{"machines": {name: probe}}`` with ``this machine`` first, then workers by address.

    Raises:
        MissingDependencyError: Dask is not installed, or the scheduler cannot be reached.
    """
    languages = cfg.ocr.languages if cfg.ocr.enabled else []
    machines: dict[str, dict[str, Any]] = {LOCAL: probe(languages)}
    if scheduler:
        try:
            from pipeline.run.dask import connect
            from pipeline.run.dask_worker import worker_label
        except ImportError as exc:
            raise MissingDependencyError(
                f"checking a cluster needs Dask ({exc}): pip install 'pipeline[dask]'"
            ) from None
        paths = [str(p.absolute()) for p in (cfg.site.scans, cfg.site.out) if p.is_dir()]
        client = connect(scheduler, timeout_s=10)
        try:
            answers = client.run(probe, languages, paths, on_error="return")
            names = {
                a: str(w.get("name", a)) for a, w in client.scheduler_info()["workers"].items()
            }
        finally:
            client.close()  # type: ignore[no-untyped-call]
        if not answers:
            machines[LOCAL]["problems"].append(f"no Dask worker is connected to {scheduler}")
        for address, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                reason = f"{type(answer).__name__}: {answer}"
                answer = {"problems": [f"cannot run this pipeline ({reason}): install it"]}
            elif answer["pipeline"] != __version__:
                answer["problems"].append(
                    f"runs pipeline {answer['pipeline']}, this machine {__version__}"
                )
            machines[f"worker {worker_label(names.get(address, address), address)}"] = answer
    return {"machines": machines}


def describe(result: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Human-readable lines of a :func:`check` result: (facts, problems)."""
    facts: list[str] = []
    problems: list[str] = []
    for name, info in result["machines"].items():
        if "python" in info:
            tools = ", ".join(
                f"{tool} {info[tool]}"
                for tool in ("python", "pipeline", "pyvips", "libvips", "tesseract", "dask")
                if info.get(tool)
            )
            facts.append(f"{name} (host {info['host']}): {tools}")
            facts.append(f"  tesseract languages: {', '.join(info.get('languages', [])) or '-'}")
        problems += [f"{name}: {problem}" for problem in info["problems"]]
    return facts, problems
