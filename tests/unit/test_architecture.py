"""The package's architecture, checked on its source with ``ast``.

Subpackages and foundation modules sit in layers; a module imports only from its own layer
or below (README, "Code map"), the import graph has no cycles, modules stay under 400 lines
and functions under 60 lines of code (docstrings not counted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "pipeline"

# Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "records", "results", "layout", "fsio"),
    ("imaging",),
    ("pdf",),
    ("ocr",),
    ("iiif",),
    ("config", "state", "siteurl", "lock"),
    ("search",),
    ("input",),
    ("stages",),
    ("archive",),
    ("run",),
    ("publish",),
    ("samples",),
    ("cli", "__main__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every pipeline module ``name`` imports (a package's ``__init__`` counts as the package)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != "pipeline" and target != name:
                yield target, node.lineno


def _layer(module: str) -> str:
    return module.split(".")[1]


GRAPH = {name: sorted(set(_imports(name, path))) for name, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    unplaced = {_layer(m) for m in MODULES if m != "pipeline"} - set(RANK)
    assert not unplaced, f"add to LAYERS (and to the README's code map): {sorted(unplaced)}"


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{MODULES[m].relative_to(ROOT.parent)}:{line} imports {target}"
        for m, imports in GRAPH.items()
        if m != "pipeline"
        for target, line in imports
        if target != "pipeline" and RANK[_layer(target)] > RANK[_layer(m)]
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    edges = {m: {t for t, _ in imports} for m, imports in GRAPH.items()}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_short(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


@pytest.mark.parametrize("name", sorted(MODULES))
def test_functions_are_short(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    long = [
        f"{node.name} (line {node.lineno}): {_code_lines(node)} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _code_lines(node) > MAX_FUNCTION_LINES
    ]
    assert not long, f"{name}: " + "; ".join(long)
