"""What every publish target is: the object to put, a listing entry and the Target protocol."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MIB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """One file to put: its key, where its bytes are and the headers it is served with."""

    key: str
    path: Path
    size: int
    md5: str
    content_type: str
    cache_control: str
    data: bytes | None = None
    sha256: str = ""


@dataclass(frozen=True)
class Listed:
    """One object as a listing of the target shows it.

    Its size and, where the store gives one, its ETag (the MD5 hex of a single-part upload;
    a folder gives none).
    """

    size: int
    etag: str = ""


class Target(Protocol):
    """What the publish job needs from a destination. Methods are safe to call from threads."""

    @property
    def ident(self) -> str:
        """Stable name of the destination in the state store (never holds credentials)."""
        ...

    @property
    def prefix(self) -> str:
        """Key prefix of the output folder's root ("" or ending with "/")."""
        ...

    @property
    def headers_stored(self) -> bool:
        """Whether objects carry their own headers (S3) or a web server sets them (a folder)."""
        ...

    def check(self) -> None:
        """Fail fast when the destination cannot be written at all (raise PublishError)."""
        ...

    def put(self, upload: Upload) -> str:
        """Store one object; return its ETag (MD5 hex for single-part uploads)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the object is there, asked of the destination itself."""
        ...

    def list_keys(self, prefix: str) -> dict[str, Listed]:
        """Every key under ``prefix`` with its size (and ETag where the store gives it)."""
        ...

    def stored_md5(self, key: str) -> str:
        """MD5 hex of a stored object whose listing gave no ETag (a folder's file)."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Remove objects."""
        ...


def file_digests(path: Path, data: bytes | None) -> tuple[str, str]:
    """MD5 and SHA-256 hex digests of a file (or of its bytes already read)."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    if data is not None:
        md5.update(data)
        sha.update(data)
    else:
        with path.open("rb") as fh:
            while chunk := fh.read(MIB):
                md5.update(chunk)
                sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()
