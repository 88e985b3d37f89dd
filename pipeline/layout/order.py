"""The natural order of names: volume folders, page files, index files (``p2`` before ``p10``)."""

from __future__ import annotations

import re
from typing import Any


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``p2`` before ``p10``."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def sort_key(name: str) -> tuple[list[Any], str]:
    """Natural order with ties (``p01``/``p1``, ``A``/``a``) broken by the name itself.

    Without the tie-break, names that ``natural_key`` treats as equal would keep the order the
    file system lists them in, which differs between machines and copies of a folder.
    """
    return natural_key(name), name
