"""What to publish: the local objects of a volume and whether each differs from the target."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import CacheControlConfig
from pipeline.layout import Layout, object_kind
from pipeline.publish.media import cache_control, content_type
from pipeline.publish.targets import Upload, file_digests
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
class Prepared:
    """A file read and hashed: either identical to what the target holds or to be uploaded."""

    obj: LocalObject
    upload: Upload
    sha256: str
    changed: bool

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


def prepare(obj: LocalObject, known: PublishedObject | None, multipart_threshold: int) -> Prepared:
    """Read (when small) and hash a file, and compare it with the last published version.

    Args:
        obj: The file.
        known: What the state store says was last published under its key.
        multipart_threshold: Files at least this large are streamed, not read into memory.

    Returns:
        The prepared upload; ``changed`` is false when the bytes and headers are as published.

    """
    data = obj.path.read_bytes() if obj.size < multipart_threshold else None
    md5, sha = file_digests(obj.path, data)
    changed = known is None or known.sha256 != sha or known.headers != obj.headers
    upload = Upload(
        key=obj.key,
        path=obj.path,
        size=obj.size,
        md5=md5,
        content_type=obj.content_type,
        cache_control=obj.cache_control,
        data=data if changed else None,
    )
    return Prepared(obj=obj, upload=upload, sha256=sha, changed=changed)
