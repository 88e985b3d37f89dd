"""From volumes and stored records to the tasks a stage still has to run.

For each stage the :class:`Planner` builds one task per page, volume or the collection, with
its fingerprint; a task whose stored record is ``ok``, has the same fingerprint and whose
outputs are still there is current and is not run again. A task whose required upstream
record is not ``ok`` gets a ``skipped`` record instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, JsonValue

from pipeline.input.volumes import Volume
from pipeline.layout import Layout
from pipeline.layout.order import sort_key
from pipeline.records import PageItem, StageRecord
from pipeline.run.fingerprint import (
    fingerprint,
    item_key,
    result_digest,
    settings_data,
    transcript_key,
)
from pipeline.run.local import Task
from pipeline.run.outputs import count_folders, outputs_present
from pipeline.stages import AnyStage, stage_by_name
from pipeline.stages.spec import CollectionInput, PageInput, Upstream, VolumeInput
from pipeline.state import StateStore

COLLECTION_KEY = ""


@dataclass
class Checked:
    """A record found current (or read as upstream) in this job, with its result digest."""

    record: StageRecord
    _digest: str = ""

    @property
    def digest(self) -> str:
        """The record's result digest, computed once."""
        if not self._digest:
            self._digest = result_digest(self.record)
        return self._digest


@dataclass
class Plan:
    """What a stage will do: the tasks to run, records that are current, records skipped."""

    total: int = 0
    tasks: list[Task] = field(default_factory=list)
    current: list[StageRecord] = field(default_factory=list)
    skipped: list[StageRecord] = field(default_factory=list)


@dataclass
class Planner:
    """Finds each stage's tasks over the job's volumes, reading the state store."""

    layout: Layout
    state: StateStore
    volumes: list[Volume]
    scans: Path
    tools: dict[str, dict[str, str]] = field(default_factory=dict)
    # Records found current in this job, by (volume, page, stage): a later stage reading them
    # as upstream neither reads nor checks them again. A record stored since is dropped.
    checked: dict[tuple[str, str, str], Checked] = field(default_factory=dict)
    # Stored records read a stage and volume at a time (one query, not one per page), as JSON
    # until decoded; a record stored since replaces its row.
    _rows: dict[tuple[str, str], dict[str, str | StageRecord]] = field(default_factory=dict)
    _settings: dict[str, JsonValue] = field(default_factory=dict)

    def forget(self, rec: StageRecord) -> None:
        """A record was stored: what was checked of its task no longer holds."""
        self.checked.pop((rec.volume, rec.page, rec.stage), None)
        rows = self._rows.get((rec.volume, rec.stage))
        if rows is not None:
            rows[rec.page] = rec

    def stored(self, volume: str, page: str, stage: str) -> StageRecord | None:
        """The stored record of one page (or volume) and stage."""
        rows = self._rows.get((volume, stage))
        if rows is None:
            rows = self._rows[volume, stage] = dict(self.state.stage_rows(volume, stage))
        row = rows.get(page)
        return StageRecord.from_json(row) if isinstance(row, str) else row

    def current(self, volume: str, page: str, stage: str, fp: str) -> StageRecord | None:
        """The stored record if it is ok, has the same fingerprint and its outputs exist."""
        rec = self.stored(volume, page, stage)
        if rec is None or rec.status != "ok" or rec.fingerprint != fp:
            return None
        if not outputs_present(rec, self.layout):
            return None
        if not rec.folder_entries:
            # Stored before folders were counted (found file by file): count them now, so that
            # the next rerun checks the folder instead. Fingerprints do not depend on this.
            counted = count_folders(rec, self.layout)
            if counted is not rec:
                self.state.put(counted)
                self.forget(counted)
                rec = counted
        self.checked[volume, page, stage] = Checked(rec)
        return rec

    def upstream(
        self, stage: AnyStage, volume: str, page: str
    ) -> tuple[dict[str, Checked], StageRecord | None]:
        """Upstream records of a task, or the ``skipped`` record when a required one is not ok."""
        found: dict[str, Checked] = {}
        for name in stage.requires + stage.uses:
            checked = self.checked.get((volume, page, name))
            if checked is not None:
                found[name] = checked
                continue
            rec = self.stored(volume, page, name)
            if rec is not None and rec.status == "ok" and outputs_present(rec, self.layout):
                found[name] = self.checked[volume, page, name] = Checked(rec)
            elif name in stage.requires:
                if rec is None:
                    why = f"upstream not run: {name}"
                elif rec.status == "ok":
                    why = f"upstream output missing: {name} (run that stage again)"
                else:
                    why = f"upstream failed: {name}"
                skipped = StageRecord(
                    stage=stage.name, volume=volume, page=page, status="skipped", error=why
                )
                return found, skipped
        return found, None

    def _fingerprint(self, stage: AnyStage, settings: BaseModel, key: JsonValue) -> str:
        if stage.name not in self._settings:
            self._settings[stage.name] = settings_data(settings)
        return fingerprint(stage, self._settings[stage.name], key, self.tools.get(stage.name, {}))

    def page_tasks(self, stage: AnyStage, settings: BaseModel) -> Plan:
        """One task per page of every volume."""
        plan = Plan()
        for volume in self.volumes:
            for item in volume.pages:
                plan.total += 1
                up, skipped = self.upstream(stage, item.volume, item.page)
                if skipped is not None:
                    plan.skipped.append(skipped)
                    continue
                key: dict[str, JsonValue] = {
                    "item": item_key(item, stage.item_fields),
                    "upstream": _digests(up),
                }
                if stage.reads_master:
                    # Its name and stat stand for its bytes (ingest hashes them; downstream
                    # stages depend on that hash).
                    key["file"] = Path(item.source).name
                    key["stat"] = _stat(item.source)
                if stage.reads_transcript:
                    found = item.transcript
                    key["transcript"] = transcript_key(found, _stat(found.path) if found else None)
                fp = self._fingerprint(stage, settings, key)
                rec = self.current(item.volume, item.page, stage.name, fp)
                if rec is not None:
                    plan.current.append(rec)
                    continue
                inp = PageInput(item=item, upstream=_upstream(up))
                plan.tasks.append(
                    Task(stage.name, item.volume, item.page, inp, settings, self.layout, fp)
                )
        return plan

    def volume_tasks(self, stage: AnyStage, settings: BaseModel) -> Plan:
        """One task per volume, over the pages whose required upstream records are ok."""
        plan = Plan(total=len(self.volumes))
        for volume in self.volumes:
            task, rec = self._volume_task(stage, settings, volume)
            if rec is not None:
                plan.current.append(rec)
            elif task is not None:
                plan.tasks.append(task)
        return plan

    def _volume_task(
        self, stage: AnyStage, settings: BaseModel, volume: Volume
    ) -> tuple[Task | None, StageRecord | None]:
        pages: list[tuple[PageItem, dict[str, Checked]]] = []
        missing: list[str] = []
        digests: list[JsonValue] = []
        for item in volume.pages:
            up, skipped = self.upstream(stage, item.volume, item.page)
            if skipped is not None:
                missing.append(item.page)
                continue
            pages.append((item, up))
            digests.append([item_key(item), _digests(up)])
        key: dict[str, JsonValue] = {
            "volume": volume.id,
            "descriptor": volume.descriptor.model_dump(mode="json", exclude_none=True),
            "pages": digests,
            "missing": list(missing),
        }
        volume_up = self._volume_upstream(stage, volume.id)
        if volume_up:
            key["volume_upstream"] = {n: result_digest(r) for n, r in sorted(volume_up.items())}
        fp = self._fingerprint(stage, settings, key)
        rec = self.current(volume.id, "", stage.name, fp)
        if rec is not None:
            return None, rec
        inp = VolumeInput(
            volume=volume.id,
            descriptor=volume.descriptor,
            pages=tuple(PageInput(item=item, upstream=_upstream(up)) for item, up in pages),
            missing=tuple(missing),
            upstream=Upstream.of(volume_up),
            order=tuple(item.page for item in volume.pages),
        )
        return Task(stage.name, volume.id, "", inp, settings, self.layout, fp), None

    def _volume_upstream(self, stage: AnyStage, volume: str) -> dict[str, StageRecord]:
        """The ok records of earlier volume-scope stages that a volume stage requires or uses."""
        found: dict[str, StageRecord] = {}
        for name in stage.requires + stage.uses:
            rec = self.stored(volume, "", name)
            if rec is not None and rec.status == "ok":
                found[name] = rec
        return found

    def collection_tasks(self, stage: AnyStage, settings: BaseModel) -> Plan:
        """The collection's one task, over every volume with an ok record it requires."""
        entries = list(self._collection_entries(stage))
        key: list[JsonValue] = [[vid, rec.data] for vid, rec in entries]
        fp = self._fingerprint(stage, settings, key)
        rec = self.current(COLLECTION_KEY, "", stage.name, fp)
        if rec is not None:
            return Plan(total=1, current=[rec])
        inp = CollectionInput.of(entries)
        task = Task(stage.name, COLLECTION_KEY, "", inp, settings, self.layout, fp)
        return Plan(total=1, tasks=[task])

    def _collection_entries(self, stage: AnyStage) -> Iterator[tuple[str, StageRecord]]:
        for vid in sorted(self.state.volumes(), key=sort_key):
            if not vid or not (self.scans / vid).is_dir():
                continue
            for name in stage.requires:
                rec = self.state.get(vid, "", name)
                if rec is not None and rec.status == "ok":
                    yield vid, rec

    def plan(self, stage: AnyStage, settings: BaseModel) -> Plan:
        """The stage's tasks, current records and skipped records, by its scope."""
        if stage.scope == "page":
            return self.page_tasks(stage, settings)
        if stage.scope == "volume":
            return self.volume_tasks(stage, settings)
        return self.collection_tasks(stage, settings)


def _stat(path: str) -> JsonValue:
    """Size and modification time of a master (``None``: it is gone)."""
    try:
        stat = os.stat(path)  # noqa: PTH116 (once per page and rerun: no Path object)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _digests(found: dict[str, Checked]) -> dict[str, JsonValue]:
    """The result digests of a task's upstream records, as its fingerprint holds them.

    A record of a stage whose empty result means "nothing here" (``empty_is_absent``: a page
    without a transcription file) is left out, as if the stage had not run: adding such a
    stage redoes nothing downstream where it has nothing to say.
    """
    return {
        name: checked.digest
        for name, checked in sorted(found.items())
        if checked.record.data or checked.record.outputs or not stage_by_name(name).empty_is_absent
    }


def _upstream(found: dict[str, Checked]) -> Upstream:
    return Upstream.of({name: checked.record for name, checked in found.items()})
