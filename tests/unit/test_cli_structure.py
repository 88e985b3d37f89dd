"""The CLI package is a tree: the group, then command modules, assembled by ``__init__``."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import click

import pipeline.cli

PACKAGE = Path(pipeline.cli.__file__).parent


def _imports(path: Path) -> set[str]:
    """The ``pipeline.cli`` modules a module imports (at any level of its code)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n == "pipeline.cli" or n.startswith("pipeline.cli.")}
    modules = {f"pipeline.cli.{p.stem}" for p in PACKAGE.glob("*.py")} | {"pipeline.cli"}
    return found & modules


def test_no_cli_module_imports_the_package_or_a_module_that_imports_it_back() -> None:
    graph = {
        f"pipeline.cli.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"
    }
    assert not [m for m, deps in graph.items() if "pipeline.cli" in deps], graph
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message is the point
        raise AssertionError(f"import cycle in pipeline/cli: {exc.args[1]}") from None


def test_every_command_defined_is_added_to_the_group() -> None:
    from pipeline.cli import archive, cli, publish, run, transcripts

    defined = {
        obj.name
        for module in (archive, publish, run, transcripts)
        for obj in vars(module).values()
        if isinstance(obj, click.Command)
    }
    assert defined == set(cli.commands)
    assert sorted(cli.commands) == [
        "check", "cors", "doctor", "export-bag", "export-gt", "publish", "review-export", "run",
        "samples", "serve", "status", "verify",
    ]  # fmt: skip
