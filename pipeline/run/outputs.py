"""What a record says a task wrote: every file checksummed, and a cheap check it is there.

A rerun asks :func:`outputs_present` of every current record; ``pipeline verify`` (in
:mod:`pipeline.archive.fixity`) re-hashes every file instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from pipeline.fsio import sha256_file
from pipeline.layout import Layout
from pipeline.records import StageRecord


def page_folders(layout: Layout, volume: str, page: str) -> list[Path]:
    """Folders written as a whole for one page: its tile pyramid (hundreds of files)."""
    return [layout.image_dir(volume, page)]


def _tree(layout: Layout, folder: Path) -> Iterator[tuple[str, Path]]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            yield layout.rel(path), path


def complete_outputs(record: StageRecord, layout: Layout) -> StageRecord:
    """Return the record with a SHA-256 for every file its outputs stand for.

    A stage lists what it wrote. A listed folder stands for every file in it, and so does a
    listed file inside a folder written as a whole for the page (:func:`page_folders`): a tile
    pyramid is recorded tile by tile, so that ``pipeline verify`` can tell which tile drifted.
    Checksums the stage gave are kept.
    """
    if record.status != "ok" or not record.outputs:
        return record
    outputs: dict[str, str] = {}
    entries: dict[str, int] = {}
    folders = page_folders(layout, record.volume, record.page) if record.page else []
    expanded: set[Path] = set()
    for rel, digest in record.outputs.items():
        path = layout.path(rel)
        owner = path if path.is_dir() else next((f for f in folders if f in path.parents), None)
        if owner is None:
            outputs[rel] = digest
            continue
        if owner in expanded:
            continue
        expanded.add(owner)
        entries[layout.rel(owner)] = len(os.listdir(owner))  # noqa: PTH208 (a count)
        for sub, file in _tree(layout, owner):
            outputs[sub] = record.outputs.get(sub) or sha256_file(file)
    return replace(
        record, outputs=dict(sorted(outputs.items())), folder_entries=dict(sorted(entries.items()))
    )


def count_folders(record: StageRecord, layout: Layout) -> StageRecord:
    """Count the page folders of a record stored before folders were counted.

    Call it only once the record's outputs were found file by file: the counts then stand for
    them on later reruns.
    """
    if record.folder_entries or not record.page or not record.outputs:
        return record
    entries: dict[str, int] = {}
    for folder in page_folders(layout, record.volume, record.page):
        prefix = f"{layout.rel(folder)}/"
        if folder.is_dir() and any(rel.startswith(prefix) for rel in record.outputs):
            entries[layout.rel(folder)] = len(os.listdir(folder))  # noqa: PTH208 (a count)
    return replace(record, folder_entries=entries) if entries else record


def outputs_present(record: StageRecord, layout: Layout) -> bool:
    """Whether the files a record lists are still there, checked cheaply (a rerun's question).

    A folder written as a whole (a tile pyramid) is checked by its number of entries and the
    files at its top level (``info.json``) instead of file by file; every other output by a
    stat. ``pipeline verify`` still checks (and hashes) every file. Records stored before
    folders were counted are checked file by file.
    """
    for rel, count in record.folder_entries.items():
        try:
            if len(os.listdir(layout.path(rel))) != count:  # noqa: PTH208 (a count)
                return False
        except OSError:
            return False
    prefixes = tuple(f"{rel}/" for rel in record.folder_entries)
    for rel in record.outputs:
        if prefixes and rel.startswith(prefixes):
            prefix = next(p for p in prefixes if rel.startswith(p))
            if rel.find("/", len(prefix)) >= 0:
                continue  # below a sub-folder (a tile): the folder's count stands for it
        if not layout.path(rel).exists():
            return False
    return True
