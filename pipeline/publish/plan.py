"""What to publish: the local objects of a volume and whether each differs from the target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import CacheControlConfig
from pipeline.layout import Layout, object_kind
from pipeline.publish.media import cache_control, content_type
from pipeline.publish.store import Listed, Upload, file_digests
from pipeline.state import PublishedObject


@dataclass(frozen=True)
class LocalObject:
    """A file of the output folder as it will be published."""

    key: str
    rel: str
    path: Path
    volume: str
    size: int
    mtime_ns: int
    content_type: str
    cache_control: str

    @property
    def headers(self) -> str:
        """The served headers, stored with the record so a policy change republishes."""
        return f"{self.content_type}\n{self.cache_control}"

    @property
    def is_manifest(self) -> bool:
        """Manifests and collections go up last, after the replay check."""
        return object_kind(self.rel) == "manifests"


def local_object(
    layout: Layout, prefix: str, rel: str, volume: str, policy: CacheControlConfig
) -> LocalObject:
    """Describe one file of the output folder.

    Args:
        layout: The output layout.
        prefix: The target's key prefix.
        rel: The file's layout-relative path.
        volume: Its volume id ("" for the collection).
        policy: Cache-Control per kind.

    Returns:
        The object, with its key and headers.

    """
    path = layout.out / rel
    stat = path.stat()
    return LocalObject(
        key=prefix + rel,
        rel=rel,
        path=path,
        volume=volume,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        content_type=content_type(rel),
        cache_control=cache_control(rel, policy),
    )


def volume_objects(
    layout: Layout, prefix: str, volume: str, pages: set[str], policy: CacheControlConfig
) -> list[LocalObject]:
    """List every published file of a volume's current pages, data first and the manifest last."""
    objects = [
        local_object(layout, prefix, rel, volume, policy)
        for rel in layout.published_rels(volume, pages)
    ]
    return sorted(objects, key=lambda o: (o.is_manifest, o.key))


def unchanged_by_stat(obj: LocalObject, known: PublishedObject | None) -> bool:
    """Whether the file is as last published, judged by size, mtime and headers alone.

    This is the quick check that makes an unchanged re-publish cost no reads and no requests;
    a file whose stat differs is hashed before anything is uploaded.
    """
    return (
        known is not None
        and known.size == obj.size
        and known.mtime_ns == obj.mtime_ns
        and known.headers == obj.headers
    )


@dataclass(frozen=True)
class HashedObject:
    """A file read and hashed, ready to be compared with the target and uploaded."""

    obj: LocalObject
    upload: Upload

    @property
    def sha256(self) -> str:
        """SHA-256 hex of the file's bytes."""
        return self.upload.sha256

    def record(self, etag: str) -> PublishedObject:
        """Return the state-store row once the object is on the target."""
        o = self.obj
        return PublishedObject(
            key=o.key,
            volume=o.volume,
            size=o.size,
            mtime_ns=o.mtime_ns,
            md5=self.upload.md5,
            etag=etag,
            sha256=self.sha256,
            headers=o.headers,
        )


def prepare(obj: LocalObject, multipart_threshold: int) -> HashedObject:
    """Read (when small) and hash a file: MD5 for Content-MD5 and ETags, SHA-256 for records.

    Args:
        obj: The file.
        multipart_threshold: Files at least this large are streamed, not read into memory.

    Returns:
        The hashed file and its upload.

    Raises:
        OSError: The file cannot be read.

    """
    data = obj.path.read_bytes() if obj.size < multipart_threshold else None
    md5, sha = file_digests(obj.path, data)
    upload = Upload(
        key=obj.key,
        path=obj.path,
        size=obj.size,
        md5=md5,
        content_type=obj.content_type,
        cache_control=obj.cache_control,
        data=data,
        sha256=sha,
    )
    return HashedObject(obj=obj, upload=upload)


def listed_as_published(
    obj: LocalObject, known: PublishedObject | None, listed: Listed | None
) -> bool:
    """Whether the target shows the object as last published, without reading the file.

    The file's stat and headers match the state store's row, and the target's listing shows
    an object of that size (and of that ETag, where the store gives one). Anything else is
    hashed and compared before it is uploaded.
    """
    return (
        listed is not None
        and known is not None
        and unchanged_by_stat(obj, known)
        and listed.size == obj.size
        and (not listed.etag or listed.etag == known.etag)
    )


def same_on_target(
    prep: HashedObject,
    known: PublishedObject | None,
    listed: Listed | None,
    stored_md5: Callable[[], str],
    *,
    headers_stored: bool,
) -> bool:
    """Whether the target already holds these bytes (and headers), judged after hashing.

    Args:
        prep: The hashed file.
        known: The state store's row for its key.
        listed: What the target's listing shows under the key.
        stored_md5: Reads the stored object's MD5 (a folder's listing has no ETag).
        headers_stored: Whether the target stores headers (S3) or a web server sets them.

    Returns:
        True when nothing needs uploading.

    """
    obj = prep.obj
    if listed is None or listed.size != obj.size:
        return False
    if headers_stored and (known is None or known.headers != obj.headers):
        return False  # bytes may match, but the served headers are unknown or stale
    if listed.etag:
        if listed.etag == prep.upload.md5:
            return True
        # A multipart ETag is not an MD5: trust it when it is the one this file went up with.
        return known is not None and known.sha256 == prep.sha256 and known.etag == listed.etag
    return stored_md5() == prep.upload.md5
