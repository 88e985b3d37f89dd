"""Atomic file writes and checksums: nothing half-written ever looks finished."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipeline.layout import TMP_PREFIX

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def temp_sibling(final: Path) -> Path:
    """A unique temporary name in the same folder as ``final`` (same filesystem, hidden)."""
    return final.with_name(f"{TMP_PREFIX}{final.name}-{uuid.uuid4().hex[:12]}")


def write_bytes_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Returns:
        The SHA-256 of the data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return sha256_bytes(data)


def write_text_atomic(path: Path, text: str) -> str:
    """UTF-8 variant of :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a not-yet-existing folder path whose content replaces ``final`` as a whole.

    The yielded path has the same base name as ``final`` (tools such as dzsave derive names from
    it) and sits in a hidden temporary folder beside ``final``. When the block succeeds it is
    renamed into place; an existing ``final`` is moved aside first and deleted only after the
    new one is in place. On failure the temporary folder is removed and ``final`` stays as it was.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    container = temp_sibling(final)
    container.mkdir()
    work = container / final.name
    try:
        yield work
        old = None
        if final.exists():
            old = temp_sibling(final)
            final.rename(old)
        work.rename(final)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(container)


def remove_stale_temps(root: Path) -> int:
    """Delete temporary files and folders left by a killed job under ``root``.

    Returns:
        How many were removed.
    """
    removed = 0
    if not root.exists():
        return 0
    for path in sorted(root.rglob(f"{TMP_PREFIX}*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed
