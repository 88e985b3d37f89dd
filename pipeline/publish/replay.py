"""The replay check of a publish: is every URL a viewer will request on the target yet?"""

from __future__ import annotations

import logging
from typing import Any

from pipeline.errors import PublishObjectError
from pipeline.layout import Layout, object_kind
from pipeline.publish.check import load_json, referenced_rels, viewer_rels
from pipeline.publish.pool import BoundedPool
from pipeline.publish.report import PublishReport
from pipeline.publish.store import Target
from pipeline.run.progress import Reporter

log = logging.getLogger(__name__)


class Replay:
    """Asks the target (HEAD) for the URLs a viewer will request that nothing else vouches for.

    Args:
        layout: The output layout.
        target: Where the site goes.
        reporter: Progress display.
        report: The publish's report (counts the URLs checked).
        present: Keys known to be on the target: listed as published, or uploaded by this
            publish (shared with the publisher, which adds to it).
        ask_all: Ask for every key, present or not (``--verify``, ``publish.check = "head"``).
    """

    def __init__(
        self,
        layout: Layout,
        target: Target,
        reporter: Reporter,
        report: PublishReport,
        present: set[str],
        *,
        ask_all: bool,
    ) -> None:
        self.layout = layout
        self.target = target
        self.reporter = reporter
        self.report = report
        self.present = present
        self.ask_all = ask_all

    def missing(self, pool: BoundedPool, keys: list[str], label: str) -> list[str]:
        """HEAD every key on the target; return those that are not there (sorted).

        A request that fails after its retries counts as missing; a job-level error (access
        denied, bucket gone) stops the job.
        """
        if not keys:
            return []
        missing: list[str] = []
        with self.reporter.stage(label, len(keys)) as bar:
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

    def volume_problem(self, pool: BoundedPool, volume: str) -> str | None:
        """Why the volume's manifest may not go up yet, or ``None`` when a viewer finds it all.

        The listing made before the upload and the uploads that succeeded answer for the keys
        they cover; the rest (every key with ``ask_all``) is asked for with HEAD.
        """
        manifest = load_json(self.layout.manifest_path(volume))
        rels, problems = viewer_rels(self.layout, manifest)
        # Other manifests and collections it links to (partOf) go up in the last phase.
        rels |= {r for r in referenced_rels(self.layout, manifest) if object_kind(r) != "manifests"}
        if problems:
            return f"{problems[0]}; manifest not uploaded"
        keys = sorted(self.target.prefix + rel for rel in rels)
        doubtful = keys if self.ask_all else [k for k in keys if k not in self.present]
        self.report.checked += len(keys) - len(doubtful)
        missing = self.missing(pool, doubtful, f"check {volume}")
        if not missing:
            return None
        return (
            f"{len(missing)} of {len(keys)} URL(s) a viewer requests are missing on the "
            f"target (first: {missing[0]}); manifest not uploaded"
        )

    def absent_links(self, pool: BoundedPool, document: Any) -> list[str]:
        """The keys of the files a document (the collection) links to that the target lacks."""
        keys = sorted(self.target.prefix + r for r in referenced_rels(self.layout, document))
        return self.missing(pool, [k for k in keys if k not in self.present], "check collection")
