"""One retention rule on one file dataset: counted, then its due files deleted in batches.

A record's trigger is the value its ``trigger_field`` holds (a sidecar field, or
``modified_at`` for files owned by their path or a row), or, when the rule names none,
the latest modification time of its content files. It is due when, in the rule's time
zone, that day is on or before the last due day (the statutory hold respected), it is
in the rule's scope (its condition, on the record's values) and no hold staff placed
on its key applies. A record whose trigger cannot be read is never due; a record with
a symbolic link among its files is never touched.

The plan is the listing a run deletes from: each record is deleted through the files
connector only if its files are still as stamped when planned
(personvern.connectors.files_retention), in batches of ``batch_size`` records. A run
stopped at any point leaves every record either gone or still due, found by the next
run's own plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from personvern.connectors.files import FileConnector
from personvern.connectors.files_retention import FileRecord
from personvern.connectors.port import ConnectorError, Pseudonymiser
from personvern.connectors.registry import ConnectorPool
from personvern.domain.datamap import RetentionCondition, System, TriggerFormat
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.rule import SweepRule
from personvern.domain.retention.trigger_time import today_in, trigger_day
from personvern.engine.retention.table_sweep import ProgressCallback, TablePlan, TableProgress


@dataclass(frozen=True)
class FilePlan(TablePlan):
    """What a sweep of one rule on one file dataset would do today (counts are records)."""

    #: Records whose trigger is missing or unreadable: never due.
    undated: int = 0
    #: Records refused: a symbolic link among their files, or a key of several owners.
    refused: int = 0
    #: What the period runs from: the field, or "modification time".
    trigger: str = ""


class FileSweep:
    """Plans and deletes the due records of one rule on one dataset of a files system."""

    def __init__(
        self,
        rule: SweepRule,
        connector: FileConnector,
        *,
        today: date,
        staff_holds: Sequence[SubjectHold] = (),
    ) -> None:
        """Sweep ``rule`` through ``connector`` as of ``today`` (in the rule's time zone)."""
        self.rule = rule
        self.connector = connector
        self.today = today
        self.rule_day = rule.rule_last_due_day(today)
        self.last_due_day = rule.last_due_day(today)
        self.held_keys = {
            h.record_key for h in staff_holds if h.dataset == rule.target and h.applies_on(today)
        }
        self._due: list[FileRecord] = []

    def plan(self) -> FilePlan:
        """List the dataset's records and count what a sweep would delete (nothing changes)."""
        records = self.connector.retention_records(self.rule.dataset)
        in_scope = [r for r in records if _meets(self.rule.condition, r)]
        due: list[tuple[date, FileRecord]] = []
        law = staff = undated = refused = 0
        for record in in_scope:
            day = self._day(record)
            if day is None:
                undated += 1
                continue
            if self.rule_day is None or day > self.rule_day:
                continue
            if self.last_due_day is None or day > self.last_due_day:
                law += 1
            elif record.key in self.held_keys:
                staff += 1
            elif record.refused:
                refused += 1
            else:
                due.append((day, record))
        self._due = [record for _day, record in due]
        return FilePlan(
            rule=self.rule.key,
            system=self.rule.system,
            dataset=self.rule.dataset,
            action=self.rule.action,
            total=len(records),
            in_scope=len(in_scope),
            due=len(due),
            held_by_law=law,
            held_by_staff=staff,
            held_by_reference=0,
            oldest_due=min((day for day, _record in due), default=None),
            last_due_day=self.last_due_day,
            statutory=self.rule.statutory.reference if self.rule.statutory else None,
            undated=undated,
            refused=refused,
            trigger="modification time"
            if self.rule.trigger.file_modified
            else self.rule.trigger.field,
        )

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Delete the records the last plan found due, in batches; unchanged ones only."""
        del pseudonymise  # files are deleted whole
        for start in range(0, len(self._due), batch_size):
            batch = self._due[start : start + batch_size]
            deleted = self.connector.delete_unchanged(self.rule.dataset, batch)
            progress.batches += 1
            progress.done += len(batch)
            progress.deleted += len(deleted)
            if deleted:
                if progress.first_key is None:
                    progress.first_key = deleted[0].key
                progress.last_key = deleted[-1].key
            if on_batch is not None:
                on_batch(progress)
        return progress

    def _day(self, record: FileRecord) -> date | None:
        """The record's trigger day in the rule's zone; None when it has none."""
        if self.rule.trigger.file_modified:
            value: object = record.modified
        else:
            value = record.values.get(self.rule.trigger.field)
        if value is None or isinstance(value, bool):
            return None
        fmt = self.rule.trigger_format or TriggerFormat.TIMESTAMP
        if fmt in {TriggerFormat.EPOCH_SECONDS, TriggerFormat.EPOCH_MILLIS} and isinstance(
            value, float
        ):
            value = int(value)
        return trigger_day(fmt, value, self.rule.timezone)


def file_sweep(
    rule: SweepRule,
    system: System,
    pool: ConnectorPool,
    environ: Mapping[str, str],
    now: datetime,
    staff_holds: Sequence[SubjectHold],
) -> FileSweep:
    """The sweep of ``rule`` on its files system, through the pool's connector."""
    connector = pool.get(system, environ)
    if not isinstance(connector, FileConnector):  # pragma: no cover - registry maps files
        raise ConnectorError(f"{rule.target}: not a files connector")
    return FileSweep(rule, connector, today=today_in(now, rule.timezone), staff_holds=staff_holds)


def _meets(condition: RetentionCondition | None, record: FileRecord) -> bool:
    """Whether the record's values meet the rule's condition (none: every record)."""
    if condition is None:
        return True
    value = record.values.get(condition.field)
    if condition.is_null is not None:
        return (value is None) is condition.is_null
    if condition.in_ is not None:
        return value in condition.in_
    return bool(value == condition.equals)
