"""One publish to one target, phase by phase: data files, viewer replay, manifests, pruning."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.archive.fixity import Problem, RecordedFile, missing_derivatives, recorded_derivatives
from pipeline.config import Config
from pipeline.errors import PublishObjectError
from pipeline.layout import Layout
from pipeline.publish.check import load_json
from pipeline.publish.ledger import Ledger
from pipeline.publish.plan import HashedObject, LocalObject, listed_as_published
from pipeline.publish.plan import volume_objects as list_volume
from pipeline.publish.pool import BoundedPool
from pipeline.publish.replay import Replay
from pipeline.publish.report import PublishReport
from pipeline.publish.scope import (
    listings_in_scope,
    ready_volumes,
    stale_objects,
    withdrawn_volumes,
)
from pipeline.publish.store import Listed, Target
from pipeline.publish.targets import set_cors
from pipeline.publish.toplevel import COLLECTION_SCOPE, top_level
from pipeline.publish.transfer import Drifted, Transfer
from pipeline.run.progress import Reporter
from pipeline.state import StateStore


@dataclass(frozen=True)
class PublishOptions:
    """How a publish runs: the command line's switches."""

    dry_run: bool = False
    delete: bool = False
    verify: bool = False


class Publisher:
    """Publishes the built volumes of one output folder to one target, under its lock.

    Data files go up first, then every URL a viewer requests is checked on the target, then
    the manifests, the collection and its search page; objects that no longer belong are
    pruned last.
    """

    def __init__(
        self,
        cfg: Config,
        layout: Layout,
        state: StateStore,
        target: Target,
        reporter: Reporter,
        options: PublishOptions,
    ) -> None:
        self.cfg = cfg
        self.layout = layout
        self.state = state
        self.target = target
        self.reporter = reporter
        self.options = options
        self.report = PublishReport(target=target.ident, dry_run=options.dry_run)
        self.ledger = Ledger(state, target.ident, dry_run=options.dry_run)
        self.failed: set[str] = set()
        self.threshold = cfg.publish.multipart_threshold_mb * 1024 * 1024
        # What the target holds, by volume prefix, as listed before anything is uploaded.
        self.listings: dict[str, dict[str, Listed]] = {}
        self.listed: dict[str, Listed] = {}
        # Keys the target holds as the output folder has them (or will, after a dry run).
        self.present: set[str] = set()
        self.recorded: dict[str, set[str]] = {}
        # The collection and the search page: never in a volume's scope.
        self.top = top_level(cfg, layout, state, target.prefix)
        self.recorded_files: dict[str, RecordedFile] = dict(self.top.recorded)
        ask_all = (options.verify or cfg.publish.check == "head") and not options.dry_run
        self.replay = Replay(layout, target, reporter, self.report, self.present, ask_all=ask_all)
        self.transfer = Transfer(
            target,
            self.ledger.known,
            self.listed,
            self.recorded_files,
            threshold=self.threshold,
            dry_run=options.dry_run,
        )

    def fail_volume(self, volume: str, message: str) -> None:
        """Note a volume (or "" for the collection) that is not published, once."""
        if volume not in self.failed:
            self.failed.add(volume)
            self.report.fail(volume or "collection", message)

    def refuse(self, volume: str, problems: Sequence[Problem], outcome: str) -> None:
        """Fail a volume for recorded files that are missing or changed."""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.fail_volume(volume, f"{problems[0].line()}{more}; {outcome}")

    # -- the job ---------------------------------------------------------------------------------
    def run(self, selected: Sequence[str]) -> PublishReport:
        """Publish ``selected`` volumes (none: every built one) and the collection."""
        started = time.monotonic()
        self.target.check()
        if self.cfg.publish.cors and not self.options.dry_run:
            set_cors(self.target)
        run_id = self.state.start_run(f"publish {self.target.ident}")
        pool = BoundedPool(self.cfg.publish.threads)
        try:
            self.phases(pool, selected)
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            pool.close()
            self.ledger.flush()
            self.report.duration_s = round(time.monotonic() - started, 3)
            summary = f"{self.report.uploaded} uploaded, {len(self.report.failures)} failed"
            self.state.finish_run(run_id, summary)
        return self.report

    def phases(self, pool: BoundedPool, selected: Sequence[str]) -> None:
        """Data files, the replay check, manifests, the collection, then pruning."""
        ready, refused = ready_volumes(self.state, self.layout, self.cfg.site.scans, selected)
        for vid, message in refused:
            self.fail_volume(vid, message)
        volumes = [v for v in ready if self.intact(v)]
        objects = {v: self.volume_objects(v) for v in volumes}
        self.list_target(pool, volumes)
        changed, manifests = self.sync_data(pool, objects)
        for volume in (v for v in volumes if v not in self.failed):
            problem = self.replay.volume_problem(pool, volume)
            if problem is not None:
                self.fail_volume(volume, problem)
        self.sync_manifests(pool, [m for v, m in manifests.items() if v not in self.failed])
        for volume in volumes:
            if volume not in self.failed:
                done = self.report.published if volume in changed else self.report.current
                done.append(volume)
        self.sync_collection(pool, explicit=bool(selected))
        self.ledger.flush()
        self.prune(objects, explicit=bool(selected))

    def volume_objects(self, volume: str) -> list[LocalObject]:
        """List the volume's files, leaving out those of pages no longer in the volume."""
        pages = {r.page for r in self.state.records(volume) if r.page}
        policy = self.cfg.publish.cache_control
        return list_volume(self.layout, self.target.prefix, volume, pages, policy)

    def intact(self, volume: str) -> bool:
        """Check the volume's published files against its records (verify's cheap form).

        Every derivative its records list must still be there; one that is gone refuses the
        whole volume before anything of it is uploaded or deleted. Files hashed for upload are
        also compared with their recorded checksum (:meth:`Transfer.sync`).
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

    def list_target(self, pool: BoundedPool, volumes: Sequence[str]) -> None:
        """List what the target holds under each volume's prefix (1000 keys a request)."""
        prefixes = [self.layout.volume_prefix(self.target.prefix, v) for v in volumes]
        with self.reporter.stage("list", len(prefixes)) as bar:
            for out in pool.run(self.target.list_keys, prefixes):
                bar.advance()
                if out.error is not None:
                    raise out.error
                self.listings[out.item] = out.result or {}
                self.listed.update(out.result or {})

    # -- data files and manifests ----------------------------------------------------------------
    def sync_data(
        self, pool: BoundedPool, objects: dict[str, list[LocalObject]]
    ) -> tuple[set[str], dict[str, HashedObject]]:
        """Upload every data file the target lacks or holds in another version.

        Returns:
            The volumes with any upload, and the manifests to upload (after the replay check).

        """
        todo: list[LocalObject] = []
        known = self.ledger.known
        for obj in (o for objs in objects.values() for o in objs):
            if listed_as_published(obj, known.get(obj.key), self.listed.get(obj.key)):
                self.present.add(obj.key)
            else:
                todo.append(obj)
        self.report.unchanged += len(self.present)
        changed: set[str] = set()
        manifests: dict[str, HashedObject] = {}
        with self.reporter.stage("files", len(todo), nbytes=sum(o.size for o in todo)) as bar:
            for out in pool.run(self.transfer.sync, todo):
                obj = out.item
                bar.advance(nbytes=obj.size)
                if out.error is not None:
                    self._object_failed(obj.volume, out.error)
                elif out.result is not None:
                    hashed, etag, upload = out.result
                    if upload:
                        changed.add(obj.volume)
                        self._synced(hashed, etag, manifests)
                    else:
                        self._touched(hashed, self.listed[obj.key])
        self.ledger.flush()
        return changed, manifests

    def _touched(self, hashed: HashedObject, listed: Listed) -> None:
        """Touched but identical: keep the new mtime so the next run skips it at once."""
        self.report.unchanged += 1
        self.present.add(hashed.obj.key)
        self.ledger.remember(hashed.record(listed.etag or hashed.upload.md5))

    def _synced(self, hashed: HashedObject, etag: str, manifests: dict[str, HashedObject]) -> None:
        """Count an upload (or plan one); a manifest waits for the replay check."""
        if self.ledger.holds(hashed):
            self.report.restored += 1
        if hashed.obj.is_manifest:
            manifests[hashed.obj.volume] = hashed
        elif self.options.dry_run:
            self._plan(hashed)
        else:
            self._uploaded(hashed, etag)

    def _plan(self, hashed: HashedObject) -> None:
        self.report.plan.append(("upload", hashed.obj.key, hashed.obj.size))
        self.present.add(hashed.obj.key)

    def _uploaded(self, hashed: HashedObject, etag: str) -> None:
        self.report.uploaded += 1
        self.report.uploaded_bytes += hashed.obj.size
        self.present.add(hashed.obj.key)
        self.ledger.remember(hashed.record(etag))

    def _object_failed(self, volume: str, error: BaseException) -> None:
        """Fail one volume for an object error; anything else stops the job."""
        if isinstance(error, Drifted):
            self.refuse(volume, [error.problem], "its manifest was not uploaded")
        elif isinstance(error, PublishObjectError):
            self.fail_volume(volume, f"upload failed: {error}")
        else:
            raise error

    def sync_manifests(self, pool: BoundedPool, manifests: list[HashedObject]) -> None:
        """Upload the manifests of volumes whose files all passed the replay check."""
        if self.options.dry_run:
            for hashed in manifests:
                self._plan(hashed)
            return
        nbytes = sum(h.obj.size for h in manifests)
        with self.reporter.stage("manifests", len(manifests), nbytes=nbytes) as bar:
            for out in pool.run(lambda h: self.target.put(h.upload), manifests):
                bar.advance(nbytes=out.item.obj.size)
                if out.error is not None:
                    self._object_failed(out.item.obj.volume, out.error)
                elif out.result is not None:
                    self._uploaded(out.item, out.result)

    # -- the collection and what no longer belongs -----------------------------------------------
    def sync_collection(self, pool: BoundedPool, *, explicit: bool) -> None:
        """Upload the search page, and the collection once every manifest it lists is there."""
        for obj in self.top.objects:
            listed = self.target.list_keys(obj.key).get(obj.key)
            if listed_as_published(obj, self.ledger.known.get(obj.key), listed):
                self.report.unchanged += 1
                self.present.add(obj.key)
                continue
            if listed is not None:
                self.listed[obj.key] = listed
            try:
                hashed, etag, upload = self.transfer.sync(obj)
            except PublishObjectError as exc:
                self._object_failed(COLLECTION_SCOPE, exc)
                continue
            if listed is not None and not upload:
                self._touched(hashed, listed)
            elif not obj.is_manifest or self.links_on_target(pool, obj, explicit=explicit):
                if self.ledger.holds(hashed):
                    self.report.restored += 1
                if self.options.dry_run:
                    self._plan(hashed)
                else:
                    self._uploaded(hashed, etag or self.target.put(hashed.upload))

    def links_on_target(self, pool: BoundedPool, obj: LocalObject, *, explicit: bool) -> bool:
        """Whether every manifest the collection lists is on the target (else say why not)."""
        absent = self.replay.absent_links(pool, load_json(obj.path))
        if not absent:
            return True
        message = f"it links to {absent[0]}, not on the target yet; collection not uploaded"
        if explicit:
            self.report.notes.append(f"{obj.rel}: {message}")
        else:
            self.fail_volume(COLLECTION_SCOPE, message)
        return False

    def prune(self, objects: dict[str, list[LocalObject]], *, explicit: bool) -> None:
        """Delete (or, without ``--delete``, count) objects that no longer belong.

        In scope: the keys under each volume published now that neither its files nor its
        records list, and (when no volume was named) what was published earlier for volumes
        or collections withdrawn from the batch. A volume that failed is never in scope, and
        keys this tool never published outside those volumes are never touched.
        """
        stale = self._stale(objects, explicit=explicit)
        if not self.options.delete:
            if stale:
                self.report.notes.append(
                    f"{len(stale)} object(s) on the target no longer belong to the output "
                    "(`pipeline publish --delete --dry-run` lists them)"
                )
            return
        keys = sorted(stale)
        nbytes = sum(stale.values())
        if self.options.dry_run:
            self.report.plan += [("delete", k, stale[k]) for k in keys]
            return
        with self.reporter.stage("delete", len(keys), nbytes=nbytes) as bar:
            self.target.delete(keys)
            bar.advance(count=len(keys), nbytes=nbytes)
        self.ledger.forget(keys)
        self.report.deleted += len(keys)
        self.report.deleted_bytes += nbytes

    def _stale(self, objects: dict[str, list[LocalObject]], *, explicit: bool) -> dict[str, int]:
        """The objects in scope that no longer belong (see :meth:`prune`), with their sizes."""
        prefix = self.target.prefix
        current = {o.key for objs in objects.values() for o in objs}
        current |= {prefix + rel for rels in self.recorded.values() for rel in rels}
        current |= self.top.current
        scopes = [v for v in objects if v not in self.failed]
        known = self.ledger.known
        withdrawn = (
            set()
            if explicit
            else withdrawn_volumes(self.layout, self.cfg.site.scans, known, self.failed)
        )
        prefixes = [
            self.layout.volume_prefix(prefix, v) for v in scopes + sorted(v for v in withdrawn if v)
        ]
        listings = listings_in_scope(
            prefixes, self.listings, self.target.list_keys if self.options.delete else None
        )
        return stale_objects(known, current, scopes, withdrawn, listings)
