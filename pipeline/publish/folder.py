"""A plain folder as a publish target, as a web server or a static site host serves it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.errors import PublishError, PublishObjectError
from pipeline.fsio import atomic_file
from pipeline.layout import TMP_PREFIX
from pipeline.publish.store import Listed, Upload, file_digests


class DirTarget:
    """A plain folder, as a web server or a static site host would serve it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def ident(self) -> str:
        """``file://`` URL of the folder."""
        return self.root.as_uri()

    @property
    def prefix(self) -> str:
        """Folders have no key prefix: the output folder's root is the target's root."""
        return ""

    @property
    def headers_stored(self) -> bool:
        """The web server that serves the folder sets the headers."""
        return False

    def check(self) -> None:
        """Fail when the folder cannot be written; it is created on the first copy.

        Its parent must exist: a typo in ``--to`` must not quietly create a tree of folders.

        Raises:
            PublishError: Its parent folder does not exist, or it (or the parent) is not a
                writable folder.

        """
        parent = self.root.parent
        if not parent.is_dir():
            raise PublishError(
                f"{self.root}: its parent folder {parent} does not exist "
                "(create it, or fix --to / publish.target)"
            )
        where = self.root if self.root.exists() else parent
        if not where.is_dir():
            raise PublishError(f"{where}: not a folder")
        if not os.access(where, os.W_OK):
            raise PublishError(f"{where}: not writable")

    def put(self, upload: Upload) -> str:
        """Copy one file into place atomically; its ETag is its MD5.

        Raises:
            PublishObjectError: The copy failed.

        """
        dest = self.root / upload.key
        try:
            with atomic_file(dest) as tmp:
                if upload.data is not None:
                    tmp.write_bytes(upload.data)
                else:
                    shutil.copyfile(upload.path, tmp)
        except OSError as exc:
            raise PublishObjectError(f"{upload.key}: {exc.strerror or exc}") from None
        return upload.md5

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return (self.root / key).is_file()

    def list_keys(self, prefix: str) -> dict[str, Listed]:
        """Every file under ``prefix`` with its size (temporary files of a killed copy excluded)."""
        base = self.root / prefix if prefix else self.root
        if base.is_file() and not prefix.endswith("/"):
            return {prefix: Listed(base.stat().st_size)}
        if not base.is_dir():
            return {}
        found: dict[str, Listed] = {}
        skip = len(str(self.root)) + 1
        for path in _walk_files(base):
            if not path.name.startswith(TMP_PREFIX):
                found[str(path)[skip:].replace(os.sep, "/")] = Listed(path.stat().st_size)
        return found

    def stored_md5(self, key: str) -> str:
        """MD5 hex of the published file.

        Raises:
            PublishObjectError: It cannot be read.

        """
        try:
            return file_digests(self.root / key, None)[0]
        except OSError as exc:
            raise PublishObjectError(f"{key}: cannot read ({exc.strerror or exc})") from None

    def delete(self, keys: Sequence[str]) -> None:
        """Remove files and then any folder left empty.

        Raises:
            PublishError: A file could not be removed.

        """
        parents: set[Path] = set()
        for key in keys:
            path = self.root / key
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise PublishError(f"{path}: cannot delete ({exc.strerror})") from None
            parents.add(path.parent)
        for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            while folder != self.root and folder.is_relative_to(self.root):
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: it still holds published files
                folder = folder.parent


def _walk_files(base: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            yield Path(dirpath) / name
