"""Where publishing writes: an S3 bucket (any S3-compatible store) or a plain folder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.config import PublishConfig
from pipeline.errors import ConfigError
from pipeline.fsio import overlapping
from pipeline.publish.folder import DirTarget
from pipeline.publish.s3 import S3Target
from pipeline.publish.store import Listed, Target, Upload, file_digests

__all__ = [
    "DirTarget",
    "Listed",
    "S3Target",
    "Target",
    "Upload",
    "file_digests",
    "open_target",
    "set_cors",
]

_S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<prefix>.*)$")


def _norm_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def open_target(
    spec: str, cfg: PublishConfig, *, out: Path, apart: Sequence[Path] = (), session: Any = None
) -> Target:
    """Open the destination named by ``--to`` (or ``publish.target``).

    Args:
        spec: ``s3://BUCKET[/PREFIX]`` or a folder path.
        cfg: The publish section (endpoint, region, profile, threads, retries, multipart).
        out: The output folder, which a folder target must not overlap.
        apart: Other folders a folder target must not overlap (the scans: a publish with
            ``--delete`` into the masters' folder would delete masters).
        session: A ``boto3.session.Session`` to use instead of one built from ``cfg``.

    Returns:
        The target.

    Raises:
        ConfigError: The spec is malformed or the folder overlaps the output or scans folder.
        PublishError: The AWS profile does not exist.

    """
    if spec.startswith("s3:"):
        match = _S3_URL.match(spec)
        if match is None or not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", match["bucket"]):
            raise ConfigError(f"--to {spec}: expected s3://BUCKET or s3://BUCKET/PREFIX")
        return S3Target(match["bucket"], _norm_prefix(match["prefix"]), cfg, session=session)
    if "://" in spec:
        raise ConfigError(f"--to {spec}: expected s3://BUCKET[/PREFIX] or a folder")
    folder = overlapping(Path(spec), (out, *apart))
    if folder is not None:
        raise ConfigError(f"--to {spec}: the folder must not contain or be inside {folder}")
    return DirTarget(Path(spec).resolve())


def set_cors(target: Target) -> None:
    """Set the CORS rule viewers need on the target's bucket.

    Raises:
        ConfigError: The target is a folder (its web server sets CORS headers).
        PublishError: The store refused.

    """
    if not isinstance(target, S3Target):
        raise ConfigError(
            "CORS headers of a folder are set by the web server that serves it; "
            "`pipeline cors` needs --to s3://BUCKET"
        )
    target.set_cors()
