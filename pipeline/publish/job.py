"""The publish job's entry points: check the arguments, take the lock, open the target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.config import Config
from pipeline.errors import ConfigError, JobInputError
from pipeline.layout import check_volume_id
from pipeline.lock import job_lock
from pipeline.publish.publisher import Publisher, PublishOptions
from pipeline.publish.report import PublishReport
from pipeline.publish.targets import open_target, set_cors
from pipeline.run.progress import NullReporter, Reporter
from pipeline.siteurl import layout_for
from pipeline.state import StateStore


def publish(
    cfg: Config,
    *,
    to: str | None = None,
    volumes: Sequence[str] = (),
    dry_run: bool = False,
    delete: bool = False,
    verify: bool = False,
    reporter: Reporter | None = None,
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
        reporter: Progress display (default: none).
        session: A ``boto3.session.Session`` to use (default: the standard AWS chain).

    Returns:
        The report (the CLI maps failures to exit code 1).

    Raises:
        ConfigError: No target, or a malformed one.
        JobInputError: Nothing was built in the output folder, or another job holds it.
        PublishError: The target cannot be used at all.

    """
    spec = to or cfg.publish.target
    if not spec:
        raise ConfigError(
            "no target: pass --to s3://BUCKET/PREFIX (or a folder) or set publish.target"
        )
    for vid in volumes:
        check_volume_id(vid)
    layout = layout_for(cfg)
    if not layout.state_db.is_file():
        raise JobInputError(f"{layout.out}: nothing has been built here yet (run `pipeline run`)")
    target = open_target(spec, cfg.publish, out=layout.out, apart=[cfg.site.scans], session=session)
    with job_lock(layout), StateStore(layout.state_db) as state:
        options = PublishOptions(dry_run=dry_run, delete=delete, verify=verify)
        publisher = Publisher(cfg, layout, state, target, reporter or NullReporter(), options)
        return publisher.run(volumes)


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
    spec = to or cfg.publish.target
    if not spec:
        raise ConfigError("no target: pass --to s3://BUCKET or set publish.target")
    target = open_target(
        spec, cfg.publish, out=layout_for(cfg).out, apart=[cfg.site.scans], session=session
    )
    set_cors(target)
    return target.ident
