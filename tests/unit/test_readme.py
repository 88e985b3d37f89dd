"""The README's exit-code table and command reference say what the code does."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from pipeline.cli import cli
from pipeline.errors import ExitCode

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    """The text of the README's ``## title`` section, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _examples() -> list[list[str]]:
    """The arguments of every ``pipeline ...`` line in the README's shell blocks."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    found = []
    for line in (ln for block in blocks for ln in block.splitlines()):
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("pipeline"):
            found.append(words[1 : words.index(">")] if ">" in words else words[1:])
    return found


def test_the_exit_code_table_lists_every_exit_code_by_number_and_name() -> None:
    rows = [ln for ln in _section("Exit codes").splitlines() if ln.startswith("|")]
    assert rows[:2] == ["| code | name | meaning |", "|---|---|---|"], rows[:2]
    listed = []
    for row in rows[2:]:
        match = re.match(r"^\| (\d+) \| `([A-Z_]+)` \| \S", row)
        assert match, f"README.md exit-code row not in the form '| 0 | `OK` | meaning |': {row}"
        listed.append((int(match[1]), match[2]))
    assert listed == [(int(code), code.name) for code in ExitCode]


def test_the_command_reference_documents_every_command_and_no_other() -> None:
    documented = re.findall(r"^\*\*`pipeline ([a-z-]+)", _section("Commands"), re.MULTILINE)
    assert len(documented) == len(set(documented)), documented
    assert sorted(documented) == sorted(cli.commands)


@pytest.mark.parametrize("args", _examples(), ids=" ".join)
def test_every_example_command_line_parses(args: list[str]) -> None:
    """Each example names a real command and options it takes (nothing is run)."""
    name, *rest = args
    assert name in cli.commands, f"README.md example of an unknown command: pipeline {name}"
    with click.Context(cli, info_name="pipeline") as parent:
        cli.commands[name].make_context(name, rest, parent=parent)


def test_the_examples_cover_the_everyday_commands() -> None:
    used = {args[0] for args in _examples() if args}
    assert {"run", "status", "check", "samples", "publish", "serve"} <= used
    assert used <= set(cli.commands)
    assert all(isinstance(cmd, click.Command) for cmd in cli.commands.values())
