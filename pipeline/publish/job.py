"""The publish job: data files first, the viewer replay against the target, manifests last."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from pipeline.archive.fixity import (
    Problem,
    RecordedFile,
    drifted,
    missing_derivatives,
    recorded_derivatives,
)
from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError, PublishObjectError
from pipeline.layout import Layout, check_id, object_kind
from pipeline.publish.check import load_json, referenced_rels, viewer_rels
from pipeline.publish.plan import (
    LocalObject,
    Prepared,
    listed_as_published,
    local_object,
    prepare,
    same_on_target,
)
from pipeline.publish.plan import volume_objects as list_volume
from pipeline.publish.pool import BoundedPool
from pipeline.publish.report import NullProgress, PublishProgress, PublishReport
from pipeline.publish.store import Listed, Target
from pipeline.publish.targets import open_target, set_cors
from pipeline.state import PublishedObject, StateStore

log = logging.getLogger(__name__)

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.5


def publish(
    cfg: Config,
    *,
    to: str | None = None,
    volumes: Sequence[str] = (),
    dry_run: bool = False,
    delete: bool = False,
    verify: bool = False,
    progress: PublishProgress | None = None,
    session: Any = None,
) -> PublishReport:
    """Publish the volumes whose manifest is ok (and the collection) to a target.

    Args:
        cfg: The validated configuration.
        to: ``s3://BUCKET[/PREFIX]`` or a folder; default ``publish.target``.
        volumes: Volume ids; empty means every volume with a manifest.
        dry_run: Only report what would be uploaded and deleted (the target is still listed).
        delete: Remove objects under the published volumes that their records no longer list.
        verify: Ask the target for every URL a viewer requests (HEAD), for every volume.
        progress: Progress display.
        session: A ``boto3.session.Session`` to use (default: the standard AWS chain).

    Returns:
        The report (the CLI maps failures to exit code 1).

    Raises:
        ConfigError: No target, or a malformed one.
        JobInputError: Nothing was built in the output folder, or another job holds it.
        PublishError: The target cannot be used at all.

    """
    from pipeline.lock import job_lock
    from pipeline.siteurl import layout_for

    spec = to or cfg.publish.target
    if not spec:
        raise ConfigError(
            "no target: pass --to s3://BUCKET/PREFIX (or a folder) or set publish.target"
        )
    for vid in volumes:
        try:
            check_id(vid)
        except ValueError:
            raise ConfigError(f"{vid!r} is not a volume id") from None
    layout = layout_for(cfg)
    if not layout.state_db.is_file():
        raise JobInputError(f"{layout.out}: nothing has been built here yet (run `pipeline run`)")
    target = open_target(spec, cfg.publish, out=layout.out, apart=[cfg.site.scans], session=session)
    with job_lock(layout), StateStore(layout.state_db) as state:
        job = _Job(cfg, layout, state, target, progress or NullProgress(), dry_run, delete, verify)
        return job.run(volumes)


def configure_cors(cfg: Config, *, to: str | None = None, session: Any = None) -> str:
    """Set the bucket CORS rule viewers need (GET and HEAD from any origin).

    Args:
        cfg: The validated configuration.
        to: ``s3://BUCKET[/PREFIX]``; default ``publish.target``.
        session: A ``boto3.session.Session`` to use (default: the standard AWS chain).

    Returns:
        The bucket's name as shown to the user.

    Raises:
        ConfigError: No target, or a folder target.
        PublishError: The bucket cannot be reached or refused the rule.

    """
    from pipeline.siteurl import layout_for

    spec = to or cfg.publish.target
    if not spec:
        raise ConfigError("no target: pass --to s3://BUCKET or set publish.target")
    target = open_target(
        spec, cfg.publish, out=layout_for(cfg).out, apart=[cfg.site.scans], session=session
    )
    set_cors(target)
    return target.ident


class _Drifted(PublishObjectError):
    """A file differs from the checksum its stage recorded: the volume is not published."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.line())
        self.problem = problem


class _Job:
    def __init__(
        self,
        cfg: Config,
        layout: Layout,
        state: StateStore,
        target: Target,
        progress: PublishProgress,
        dry_run: bool,
        delete: bool,
        verify: bool,
    ) -> None:
        self.cfg = cfg
        self.layout = layout
        self.state = state
        self.target = target
        self.progress = progress
        self.dry_run = dry_run
        self.delete = delete
        self.verify = verify
        self.report = PublishReport(target=target.ident, dry_run=dry_run)
        self.known: dict[str, PublishedObject] = {}
        self.pending: list[PublishedObject] = []
        self.flushed = time.monotonic()
        self.failed: set[str] = set()
        self.threshold = cfg.publish.multipart_threshold_mb * 1024 * 1024
        # What the target holds, by volume prefix, as listed before anything is uploaded.
        self.listings: dict[str, dict[str, Listed]] = {}
        self.listed: dict[str, Listed] = {}
        # Keys the target holds as the output folder has them (or will, after a dry run).
        self.present: set[str] = set()
        self.recorded: dict[str, set[str]] = {}
        self.recorded_files: dict[str, RecordedFile] = {}

    # -- bookkeeping -----------------------------------------------------------------------------
    def remember(self, record: PublishedObject) -> None:
        """Queue a state-store row; rows are written in batches (a kill loses at most one)."""
        self.known[record.key] = record
        if self.dry_run:
            return
        self.pending.append(record)
        now = time.monotonic()
        if len(self.pending) >= FLUSH_EVERY or now - self.flushed > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write queued rows."""
        if self.pending:
            self.state.put_published(self.target.ident, self.pending)
            self.pending = []
        self.flushed = time.monotonic()

    def fail_volume(self, volume: str, message: str) -> None:
        if volume not in self.failed:
            self.failed.add(volume)
            self.report.fail(volume or "collection", message)

    # -- the job ---------------------------------------------------------------------------------
    def run(self, selected: Sequence[str]) -> PublishReport:
        started = time.monotonic()
        self.target.check()
        if self.cfg.publish.cors and not self.dry_run:
            set_cors(self.target)
        run_id = self.state.start_run(f"publish {self.target.ident}")
        self.known = self.state.published(self.target.ident)
        pool = BoundedPool(self.cfg.publish.threads)
        try:
            volumes = [v for v in self.select(selected) if self.intact(v)]
            objects = {v: self.volume_objects(v) for v in volumes}
            self.list_target(pool, volumes)
            changed, manifests = self.sync_data(pool, objects)
            for volume in volumes:
                if volume not in self.failed:
                    self.replay(pool, volume)
            self.sync_manifests(pool, [m for v, m in manifests.items() if v not in self.failed])
            for volume in volumes:
                if volume not in self.failed:
                    (self.report.published if volume in changed else self.report.current).append(
                        volume
                    )
            self.sync_collection(pool, explicit=bool(selected))
            self.flush()
            self.prune(objects, explicit=bool(selected))
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            pool.close()
            self.flush()
            self.report.duration_s = round(time.monotonic() - started, 3)
            summary = f"{self.report.uploaded} uploaded, {len(self.report.failures)} failed"
            self.state.finish_run(run_id, summary)
        return self.report

    def volume_objects(self, volume: str) -> list[LocalObject]:
        """List the volume's files, leaving out those of pages no longer in the volume."""
        pages = {r.page for r in self.state.records(volume) if r.page}
        policy = self.cfg.publish.cache_control
        return list_volume(self.layout, self.target.prefix, volume, pages, policy)

    def select(self, selected: Sequence[str]) -> list[str]:
        """Return the volumes that may be published: their manifest record is ok and intact."""
        explicit = bool(selected)
        ids = list(dict.fromkeys(selected)) or [v for v in self.state.volumes() if v]
        ready: list[str] = []
        for vid in ids:
            rec = self.state.get(vid, "", "manifest")
            if rec is None:
                if explicit:
                    self.fail_volume(vid, f"no manifest has been built (run `pipeline run {vid}`)")
                continue
            if rec.status != "ok":
                why = rec.error or rec.status
                self.fail_volume(vid, f"its manifest is not ok ({why}); fix it and rerun")
                continue
            missing = [rel for rel in rec.outputs if not self.layout.path(rel).is_file()]
            if missing and not explicit and self.is_withdrawn(vid):
                continue  # removed from the batch: its objects are pruned, not an error
            if missing:
                self.fail_volume(vid, f"{missing[0]} is missing; rerun `pipeline run {vid}`")
                continue
            ready.append(vid)
        return ready

    def intact(self, volume: str) -> bool:
        """Check the volume's published files against its records (verify's cheap form).

        Every derivative its records list must still be there; one that is gone refuses the
        whole volume before anything of it is uploaded or deleted. Files hashed for upload are
        also compared with their recorded checksum (:meth:`_sync_one`).
        """
        checks = recorded_derivatives(list(self.state.records(volume)), self.layout)
        public = {r: c for r, c in checks.items() if self.layout.is_published(c.file)}
        self.recorded[volume] = set(public)
        self.recorded_files.update(public)
        missing = missing_derivatives(public.values())
        if missing:
            self.refuse(volume, missing, "nothing of it was uploaded or deleted")
            return False
        return True

    def refuse(self, volume: str, problems: Sequence[Problem], outcome: str) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.fail_volume(volume, f"{problems[0].line()}{more}; {outcome}")

    def list_target(self, pool: BoundedPool, volumes: Sequence[str]) -> None:
        """List what the target holds under each volume's prefix (1000 keys a request)."""
        prefixes = [self.layout.volume_prefix(self.target.prefix, v) for v in volumes]
        with self.progress.phase("list", len(prefixes), 0) as bar:
            for out in pool.run(self.target.list_keys, prefixes):
                bar.advance()
                if out.error is not None:
                    raise out.error
                self.listings[out.item] = out.result or {}
                self.listed.update(out.result or {})

    def sync_data(
        self, pool: BoundedPool, objects: dict[str, list[LocalObject]]
    ) -> tuple[set[str], dict[str, Prepared]]:
        """Upload every data file the target lacks or holds in another version.

        Returns:
            The volumes with any upload, and the manifests to upload (after the replay check).

        """
        todo: list[LocalObject] = []
        for obj in (o for objs in objects.values() for o in objs):
            if listed_as_published(obj, self.known.get(obj.key), self.listed.get(obj.key)):
                self.present.add(obj.key)
            else:
                todo.append(obj)
        self.report.unchanged += len(self.present)
        changed: set[str] = set()
        manifests: dict[str, Prepared] = {}
        with self.progress.phase("files", len(todo), sum(o.size for o in todo)) as bar:
            for out in pool.run(self._sync_one, todo):
                obj = out.item
                bar.advance(1, obj.size)
                if out.error is not None:
                    self._object_failed(obj.volume, out.error)
                    continue
                assert out.result is not None
                prep, etag, upload = out.result
                if not upload:
                    # Touched but identical: keep the new mtime so the next run skips it at once.
                    self.report.unchanged += 1
                    self.present.add(obj.key)
                    listed = self.listed[obj.key]
                    self.remember(prep.record(listed.etag or prep.upload.md5))
                    continue
                changed.add(obj.volume)
                self._count_restore(prep)
                if obj.is_manifest:
                    manifests[obj.volume] = prep
                elif self.dry_run:
                    self._plan(prep)
                else:
                    self._uploaded(prep, etag)
        self.flush()
        return changed, manifests

    def _sync_one(self, obj: LocalObject) -> tuple[Prepared, str, bool]:
        """Worker: hash the file, compare it with its record and the target, upload if needed.

        Returns:
            The hashed file, the ETag of the upload ("" if none yet) and whether it is needed.

        """
        try:
            prep = prepare(obj, self.threshold)
        except OSError as exc:
            raise PublishObjectError(f"{obj.rel}: cannot read ({exc.strerror})") from None
        check = self.recorded_files.get(obj.rel)
        problem = drifted(check, prep.sha256) if check is not None else None
        if problem is not None:
            raise _Drifted(problem)
        if same_on_target(
            prep,
            self.known.get(obj.key),
            self.listed.get(obj.key),
            lambda: self.target.stored_md5(obj.key),
            headers_stored=self.target.headers_stored,
        ):
            return prep, "", False
        if obj.is_manifest or self.dry_run:
            return prep, "", True
        return prep, self.target.put(prep.upload), True

    def _count_restore(self, prep: Prepared) -> None:
        """Count an upload of a file the state store says is published as it is."""
        known = self.known.get(prep.obj.key)
        if known is not None and known.sha256 == prep.sha256 and known.headers == prep.obj.headers:
            self.report.restored += 1

    def _plan(self, prep: Prepared) -> None:
        self.report.plan.append(("upload", prep.obj.key, prep.obj.size))
        self.present.add(prep.obj.key)

    def _uploaded(self, prep: Prepared, etag: str) -> None:
        self.report.uploaded += 1
        self.report.uploaded_bytes += prep.obj.size
        self.present.add(prep.obj.key)
        self.remember(prep.record(etag))

    def _object_failed(self, volume: str, error: BaseException) -> None:
        """Fail one volume for an object error; anything else stops the job."""
        if isinstance(error, _Drifted):
            self.refuse(volume, [error.problem], "its manifest was not uploaded")
        elif isinstance(error, PublishObjectError):
            self.fail_volume(volume, f"upload failed: {error}")
        else:
            raise error

    def missing_on_target(self, pool: BoundedPool, keys: list[str], label: str) -> list[str]:
        """HEAD every key on the target; return those that are not there (sorted).

        A request that fails after its retries counts as missing; a job-level error (access
        denied, bucket gone) stops the job.
        """
        missing: list[str] = []
        with self.progress.phase(label, len(keys), 0) as bar:
            for out in pool.run(self.target.exists, keys):
                bar.advance()
                if isinstance(out.error, PublishObjectError):
                    log.warning("check failed: %s", out.error)
                    missing.append(out.item)
                elif out.error is not None:
                    raise out.error
                elif not out.result:
                    missing.append(out.item)
        self.report.checked += len(keys)
        return sorted(missing)

    def replay(self, pool: BoundedPool, volume: str) -> None:
        """Check that every URL a viewer will request for this volume is on the target.

        The listing made before the upload and the uploads that succeeded answer for the keys
        they cover; the rest (and, with ``--verify`` or ``publish.check = "head"``, every key)
        is asked for with HEAD.
        """
        manifest = load_json(self.layout.manifest_path(volume))
        rels, problems = viewer_rels(self.layout, manifest)
        # Other manifests and collections it links to (partOf) go up in the last phase.
        rels |= {r for r in referenced_rels(self.layout, manifest) if object_kind(r) != "manifests"}
        if problems:
            self.fail_volume(volume, f"{problems[0]}; manifest not uploaded")
            return
        keys = sorted(self.target.prefix + rel for rel in rels)
        ask_all = (self.verify or self.cfg.publish.check == "head") and not self.dry_run
        doubtful = keys if ask_all else [k for k in keys if k not in self.present]
        self.report.checked += len(keys) - len(doubtful)
        missing = self.missing_on_target(pool, doubtful, f"check {volume}") if doubtful else []
        if missing:
            self.fail_volume(
                volume,
                f"{len(missing)} of {len(keys)} URL(s) a viewer requests are missing on the "
                f"target (first: {missing[0]}); manifest not uploaded",
            )

    def sync_manifests(self, pool: BoundedPool, manifests: list[Prepared]) -> None:
        """Upload the manifests of volumes whose files all passed the replay check."""
        if self.dry_run:
            for prep in manifests:
                self._plan(prep)
            return
        with self.progress.phase(
            "manifests", len(manifests), sum(p.obj.size for p in manifests)
        ) as bar:
            for out in pool.run(lambda p: self.target.put(p.upload), manifests):
                bar.advance(1, out.item.obj.size)
                if out.error is not None:
                    self._object_failed(out.item.obj.volume, out.error)
                elif out.result is not None:
                    self._uploaded(out.item, out.result)

    def sync_collection(self, pool: BoundedPool, *, explicit: bool) -> None:
        """Upload the collection once every manifest it lists is on the target."""
        rec = self.state.get("", "", "collection")
        path = self.layout.collection_path(self.cfg.collection.id)
        if rec is None or rec.status != "ok" or not path.is_file():
            return
        obj = local_object(
            self.layout,
            self.target.prefix,
            self.layout.rel(path),
            "",
            self.cfg.publish.cache_control,
        )
        known = self.known.get(obj.key)
        listed = self.target.list_keys(obj.key).get(obj.key)
        if listed_as_published(obj, known, listed):
            self.report.unchanged += 1
            self.present.add(obj.key)
            return
        prep = prepare(obj, self.threshold)
        stored = lambda: self.target.stored_md5(obj.key)  # noqa: E731
        if listed is not None and same_on_target(
            prep, known, listed, stored, headers_stored=self.target.headers_stored
        ):
            self.report.unchanged += 1
            self.present.add(obj.key)
            self.remember(prep.record(listed.etag or prep.upload.md5))
            return
        keys = sorted(self.target.prefix + r for r in referenced_rels(self.layout, load_json(path)))
        doubtful = [k for k in keys if k not in self.present]
        absent = self.missing_on_target(pool, doubtful, "check collection") if doubtful else []
        if absent:
            message = f"it links to {absent[0]}, not on the target yet; collection not uploaded"
            if explicit:
                self.report.notes.append(f"{obj.rel}: {message}")
            else:
                self.fail_volume("", message)
            return
        self._count_restore(prep)
        if self.dry_run:
            self._plan(prep)
            return
        self._uploaded(prep, self.target.put(prep.upload))

    def is_withdrawn(self, volume: str) -> bool:
        """Whether a volume was removed from the batch: no scans and no output folder.

        A volume whose output folder is gone but whose scans are still there was damaged,
        not withdrawn: its objects stay (and ``select`` reports the missing manifest). Without
        the scans folder itself (another working directory, no ``--scans``) nothing counts
        as withdrawn.
        """
        scans = self.cfg.site.scans
        return (
            scans.is_dir()
            and not (scans / volume).is_dir()
            and not (self.layout.out / volume).is_dir()
        )

    def _withdrawn(self, explicit: bool) -> set[str]:
        """Volumes (and "" for collections) published earlier whose objects may be pruned."""
        if explicit:
            return set()
        volumes = {rec.volume for rec in self.known.values()} - self.failed
        return {v for v in volumes if not v or self.is_withdrawn(v)}

    def prune(self, objects: dict[str, list[LocalObject]], *, explicit: bool) -> None:
        """Delete (or, without ``--delete``, count) objects that no longer belong.

        In scope: the keys under each volume published now that neither its files nor its
        records list, and (when no volume was named) what was published earlier for volumes
        or collections withdrawn from the batch. A volume that failed is never in scope, and
        keys this tool never published outside those volumes are never touched.
        """
        prefix = self.target.prefix
        current = {o.key for objs in objects.values() for o in objs}
        current |= {prefix + rel for rels in self.recorded.values() for rel in rels}
        current.add(
            self.layout.object_key(prefix, self.layout.collection_path(self.cfg.collection.id))
        )
        scopes = [v for v in objects if v not in self.failed]
        withdrawn = self._withdrawn(explicit)
        stale: dict[str, int] = {}
        for key, rec in self.known.items():
            if key not in current and (rec.volume in scopes or rec.volume in withdrawn):
                stale[key] = rec.size
        for volume in scopes + sorted(v for v in withdrawn if v):
            vprefix = self.layout.volume_prefix(prefix, volume)
            if vprefix in self.listings:
                listed = self.listings[vprefix]
            elif self.delete:
                listed = self.target.list_keys(vprefix)
            else:
                continue
            stale.update({k: e.size for k, e in listed.items() if k not in current})
        if not self.delete:
            if stale:
                self.report.notes.append(
                    f"{len(stale)} object(s) on the target no longer belong to the output "
                    "(`pipeline publish --delete --dry-run` lists them)"
                )
            return
        keys = sorted(stale)
        nbytes = sum(stale.values())
        if self.dry_run:
            self.report.plan += [("delete", k, stale[k]) for k in keys]
            return
        with self.progress.phase("delete", len(keys), nbytes) as bar:
            self.target.delete(keys)
            bar.advance(len(keys), nbytes)
        self.state.forget_published(self.target.ident, keys)
        for key in keys:
            self.known.pop(key, None)
        self.report.deleted += len(keys)
        self.report.deleted_bytes += nbytes
