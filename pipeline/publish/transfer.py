"""One object's way to the target: hashed, checked against its record, compared, put."""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.archive.fixity import Problem, RecordedFile, drifted
from pipeline.errors import PublishObjectError
from pipeline.publish.plan import HashedObject, LocalObject, prepare, same_on_target
from pipeline.publish.store import Listed, Target
from pipeline.state import PublishedObject


class Drifted(PublishObjectError):
    """A file differs from the checksum its stage recorded: the volume is not published."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.line())
        self.problem = problem


class Transfer:
    """Moves single objects; safe to call from the publish's threads (it only reads its maps).

    Args:
        target: Where objects go.
        known: The state store's rows of the target, by key.
        listed: What the target's listing showed, by key.
        recorded: The checksums the stages recorded, by layout-relative path.
        threshold: Files at least this large are streamed, not read into memory.
        dry_run: Decide only; put nothing.
    """

    def __init__(
        self,
        target: Target,
        known: Mapping[str, PublishedObject],
        listed: Mapping[str, Listed],
        recorded: Mapping[str, RecordedFile],
        *,
        threshold: int,
        dry_run: bool,
    ) -> None:
        self.target = target
        self.known = known
        self.listed = listed
        self.recorded = recorded
        self.threshold = threshold
        self.dry_run = dry_run

    def sync(self, obj: LocalObject) -> tuple[HashedObject, str, bool]:
        """Hash the file, compare it with its record and the target, upload if needed.

        A manifest is only hashed and compared: it goes up after the replay check.

        Returns:
            The hashed file, the ETag of the upload ("" if none yet) and whether it is needed.

        Raises:
            PublishObjectError: The file cannot be read or the upload failed.
            Drifted: The file differs from its recorded checksum.
        """
        try:
            hashed = prepare(obj, self.threshold)
        except OSError as exc:
            raise PublishObjectError(f"{obj.rel}: cannot read ({exc.strerror})") from None
        check = self.recorded.get(obj.rel)
        problem = drifted(check, hashed.sha256) if check is not None else None
        if problem is not None:
            raise Drifted(problem)
        if self.on_target(hashed, self.listed.get(obj.key)):
            return hashed, "", False
        if obj.is_manifest or self.dry_run:
            return hashed, "", True
        return hashed, self.target.put(hashed.upload), True

    def on_target(self, hashed: HashedObject, listed: Listed | None) -> bool:
        """Whether the target already holds the hashed file (see :func:`same_on_target`)."""
        key = hashed.obj.key
        return same_on_target(
            hashed,
            self.known.get(key),
            listed,
            lambda: self.target.stored_md5(key),
            headers_stored=self.target.headers_stored,
        )
