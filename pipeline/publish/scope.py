"""What a publish covers: the volumes ready to go, those withdrawn, and objects that are stale."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from pipeline.layout import Layout
from pipeline.publish.store import Listed
from pipeline.state import PublishedObject, StateStore


def is_withdrawn(layout: Layout, scans: Path, volume: str) -> bool:
    """Whether a volume was removed from the batch: no scans and no output folder.

    A volume whose output folder is gone but whose scans are still there was damaged, not
    withdrawn: its objects stay (and :func:`ready_volumes` reports the missing manifest).
    Without the scans folder itself (another working directory, no ``--scans``) nothing
    counts as withdrawn.
    """
    return scans.is_dir() and not (scans / volume).is_dir() and not (layout.out / volume).is_dir()


def ready_volumes(
    state: StateStore, layout: Layout, scans: Path, selected: Sequence[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The volumes that may be published: their manifest record is ok and its files are there.

    Args:
        state: The state store.
        layout: The output layout.
        scans: The scans folder (to tell a withdrawn volume from a damaged one).
        selected: The volumes named on the command line; none means every built volume.

    Returns:
        The ready volumes, and each refused volume with the reason (a volume never built is
        refused only when it was named).
    """
    explicit = bool(selected)
    ids = list(dict.fromkeys(selected)) or [v for v in state.volumes() if v]
    ready: list[str] = []
    refused: list[tuple[str, str]] = []
    for vid in ids:
        rec = state.get(vid, "", "manifest")
        if rec is None:
            if explicit:
                refused.append((vid, f"no manifest has been built (run `pipeline run {vid}`)"))
            continue
        if rec.status != "ok":
            why = rec.error or rec.status
            refused.append((vid, f"its manifest is not ok ({why}); fix it and rerun"))
            continue
        missing = [rel for rel in rec.outputs if not layout.path(rel).is_file()]
        if missing and not explicit and is_withdrawn(layout, scans, vid):
            continue  # removed from the batch: its objects are pruned, not an error
        if missing:
            refused.append((vid, f"{missing[0]} is missing; rerun `pipeline run {vid}`"))
            continue
        ready.append(vid)
    return ready, refused


def withdrawn_volumes(
    layout: Layout, scans: Path, known: Mapping[str, PublishedObject], failed: Collection[str]
) -> set[str]:
    """Volumes (and "" for collections) published earlier whose objects may be pruned."""
    volumes = {rec.volume for rec in known.values()} - set(failed)
    return {v for v in volumes if not v or is_withdrawn(layout, scans, v)}


def stale_objects(
    known: Mapping[str, PublishedObject],
    current: Collection[str],
    scopes: Sequence[str],
    withdrawn: Collection[str],
    listings: Mapping[str, Mapping[str, Listed]],
) -> dict[str, int]:
    """The objects that no longer belong, by key, with their sizes.

    Args:
        known: The state store's rows of the target.
        current: The keys that belong: the volumes' files and records, the collection.
        scopes: The volumes published now (their whole prefix is in scope).
        withdrawn: Volumes (and "" for collections) withdrawn from the batch.
        listings: What the target holds under each in-scope volume prefix (where listed).

    Returns:
        Size by key of every recorded or listed object in scope that is not current.
    """
    stale: dict[str, int] = {}
    for key, rec in known.items():
        if key not in current and (rec.volume in scopes or rec.volume in withdrawn):
            stale[key] = rec.size
    for listed in listings.values():
        stale.update({k: e.size for k, e in listed.items() if k not in current})
    return stale


def listings_in_scope(
    prefixes: Sequence[str],
    listings: Mapping[str, dict[str, Listed]],
    list_keys: Callable[[str], dict[str, Listed]] | None,
) -> dict[str, dict[str, Listed]]:
    """The listing of each prefix: as listed before the upload, else listed now if allowed.

    Args:
        prefixes: Volume prefixes in scope.
        listings: Listings made earlier in the job.
        list_keys: Lists a prefix on the target; None to list nothing more (no ``--delete``).

    Returns:
        The listings by prefix (prefixes neither listed nor listable are left out).
    """
    found: dict[str, dict[str, Listed]] = {}
    for prefix in prefixes:
        if prefix in listings:
            found[prefix] = listings[prefix]
        elif list_keys is not None:
            found[prefix] = list_keys(prefix)
    return found
