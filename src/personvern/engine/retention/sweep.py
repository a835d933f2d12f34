"""Plan and run every retention rule of the data map on the systems it governs.

Rules run children before parents (a dataset referencing another is swept first), so
deleting invoice lines due today lets their invoices go in the same run. Before a rule
changes anything its table is counted: a rule that would delete or anonymise more than
``max_share`` of its table stops unless confirmed, since that usually means a wrong rule
or a wrong clock; the other rules run on. Each table's outcome is handed to ``record``
(personvern.engine.retention.evidence keeps it in the store and the audit trail).
personvern's own records (system ``personvern``, engine.retention.own_records) are
swept after the data map's rules, the same way.
"""

from __future__ import annotations

import functools
import graphlib
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from personvern.connectors.port import ConnectorError, ConnectorNotConfiguredError, Pseudonymiser
from personvern.connectors.registry import ConnectorPool
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import DataMap, SystemKind
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.own_records import OWN_SYSTEM
from personvern.domain.retention.rule import SweepRule, UnsweptRule, sweep_rules
from personvern.domain.retention.trigger_time import today_in
from personvern.engine.retention.file_sweep import FilePlan, FileSweep, file_sweep
from personvern.engine.retention.own_records import OwnTableSweep
from personvern.engine.retention.table_sweep import (
    ChildReference,
    ProgressCallback,
    TablePlan,
    TableProgress,
    TableSweep,
)
from personvern.engine.retention.webhook_sweep import WebhookPlan, WebhookSweep, webhook_sweep
from personvern.errors import PersonvernError

#: Keys per batch, each batch its own transaction (PERSONVERN_RETENTION_BATCH_SIZE).
DEFAULT_BATCH_SIZE = 10_000
#: The share of a table one rule may remove without --confirm (PERSONVERN_RETENTION_MAX_SHARE).
DEFAULT_MAX_SHARE = 0.2
_SQL = frozenset({SystemKind.SQLITE, SystemKind.POSTGRESQL, SystemKind.MYSQL})
#: Kinds a sweep reaches: SQL tables, file stores (engine.retention.file_sweep), webhook
#: systems (engine.retention.webhook_sweep).
_SWEPT = _SQL | {SystemKind.FILES, SystemKind.WEBHOOK}


class TableStatus(StrEnum):
    """How one rule's sweep of one table ended."""

    COMPLETED = "completed"
    #: The safety stop: more than the allowed share would go; nothing was changed.
    REFUSED = "refused"
    #: Stopped between batches (killed, interrupted): the next run continues.
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass
class TableOutcome:
    """One rule on one table: its plan, what was done, and how it ended."""

    plan: TablePlan | None
    rule: str
    target: str
    status: TableStatus
    progress: TableProgress | None = None
    message: str | None = None
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class RetentionPlan:
    """Per rule and table, what a run would do; rules no sweep enforces; tables that failed."""

    tables: list[TablePlan]
    unswept: list[UnsweptRule]
    failed: list[TableOutcome]


@dataclass
class RetentionRun:
    """What a real run did, table by table."""

    run_id: str
    outcomes: list[TableOutcome]
    unswept: list[UnsweptRule]

    @property
    def stopped(self) -> list[TableOutcome]:
        """Tables the safety stop refused."""
        return [o for o in self.outcomes if o.status is TableStatus.REFUSED]

    @property
    def failed(self) -> list[TableOutcome]:
        """Tables whose sweep failed."""
        return [o for o in self.outcomes if o.status is TableStatus.FAILED]


class UnknownSystemError(PersonvernError):
    """``--system`` names no system the data map's rules govern."""

    title = "Unknown system"


Recorder = Callable[[str, TableOutcome], None]


class RetentionSweep:
    """Enforces the data map's retention rules in the company's SQL, file and webhook systems."""

    def __init__(
        self,
        datamap: DataMap,
        *,
        environ: Mapping[str, str],
        pool: ConnectorPool,
        now: datetime | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_share: float = DEFAULT_MAX_SHARE,
        staff_holds: Sequence[SubjectHold] = (),
        pseudonymise: Pseudonymiser | None = None,
        own_records: Sequence[OwnTableSweep] = (),
    ) -> None:
        """Sweep ``datamap``'s rules through ``pool``'s connectors as of ``now`` (aware).

        ``own_records`` are the rules of personvern's own records (system ``personvern``),
        swept after the data map's with the same safety stop and evidence.
        """
        self.datamap = datamap
        self.environ = environ
        self.pool = pool
        self.now = now or datetime.now(UTC)
        self.batch_size = batch_size
        self.max_share = max_share
        self.staff_holds = tuple(staff_holds)
        self.pseudonymise = pseudonymise
        self.own_records = tuple(own_records)

    def rules(
        self, system: str | None = None, only: Collection[str] | None = None
    ) -> tuple[list[SweepRule], list[UnsweptRule]]:
        """The rules to sweep (children before parents) and those no sweep enforces.

        ``only``: just the rules with these keys (a rule's own schedule).
        """
        rules, unswept = sweep_rules(self.datamap)
        if only is not None:
            rules = [r for r in rules if r.key in only]
            unswept = [u for u in unswept if u.key in only]
        for rule in list(rules):
            found = self.datamap.system(rule.system)
            if found is not None and found.kind not in _SWEPT:
                rules.remove(rule)
                unswept.append(
                    UnsweptRule(
                        rule.key,
                        f"sweeps of {found.kind.value} systems are not built yet",
                        rule.target,
                    )
                )
        if system is not None:
            if self.datamap.system(system) is None and system != OWN_SYSTEM:
                raise UnknownSystemError(
                    f"no system '{system}' in the data map",
                    hint="name a system key, as `personvern check` lists them",
                )
            rules = [r for r in rules if r.system == system]
            unswept = [u for u in unswept if (u.dataset or "").startswith(f"{system}.")]
        return _children_first(self.datamap, rules), unswept

    def plan(self, system: str | None = None, only: Collection[str] | None = None) -> RetentionPlan:
        """Count, per rule and table, what a run would do today; change nothing."""
        rules, unswept = self.rules(system, only)
        tables: list[TablePlan] = []
        failed: list[TableOutcome] = []
        for rule in rules:
            try:
                tables.append(self._table(rule).plan())
            except ConnectorNotConfiguredError as exc:
                # As `personvern check --connect` says it (a warning): a system without
                # its connection set is not swept; a real run records the rule as failed.
                unswept.append(UnsweptRule(rule.key, str(exc), rule.target))
            except (ConnectorError, PersonvernError) as exc:
                failed.append(_failure(rule, exc))
        for own in self.own_tables(system, only):
            try:
                tables.append(own.plan())
            except PersonvernError as exc:
                failed.append(
                    TableOutcome(None, own.key, own.target, TableStatus.FAILED, message=str(exc))
                )
        return RetentionPlan(tables, unswept, failed)

    def run(
        self,
        system: str | None = None,
        *,
        confirm: bool = False,
        on_batch: ProgressCallback | None = None,
        on_table: Callable[[TablePlan], None] | None = None,
        record: Recorder | None = None,
        run_id: str | None = None,
        only: Collection[str] | None = None,
    ) -> RetentionRun:
        """Delete or anonymise what is due, table by table; each outcome goes to ``record``.

        An exception from ``on_batch`` (or an interrupt) stops the run after the batch
        it follows: that table is recorded as interrupted and the exception goes on.
        """
        run_id = run_id or str(uuid.uuid4())
        rules, unswept = self.rules(system, only)
        run = RetentionRun(run_id, [], unswept)
        work: list[tuple[str, str, Callable[[], SweepsTable]]] = [
            (rule.key, rule.target, functools.partial(self._table, rule, confirm=confirm))
            for rule in rules
        ]
        work += [
            (own.key, own.target, functools.partial(_itself, own))
            for own in self.own_tables(system, only)
        ]
        for key, target, table in work:
            outcome = self._run_table(
                key, target, table, confirm=confirm, on_batch=on_batch, on_table=on_table
            )
            if isinstance(outcome, tuple):
                interrupted, exc = outcome
                run.outcomes.append(interrupted)
                if record is not None:
                    record(run_id, interrupted)
                raise exc
            run.outcomes.append(outcome)
            if record is not None:
                record(run_id, outcome)
        return run

    def own_tables(
        self, system: str | None, only: Collection[str] | None = None
    ) -> tuple[OwnTableSweep, ...]:
        """personvern's own records a run of ``system`` (None: all) and rules ``only`` covers."""
        if system not in (None, OWN_SYSTEM):
            return ()
        return tuple(own for own in self.own_records if only is None or own.key in only)

    def _run_table(
        self,
        key: str,
        target: str,
        make_table: Callable[[], SweepsTable],
        *,
        confirm: bool,
        on_batch: ProgressCallback | None,
        on_table: Callable[[TablePlan], None] | None,
    ) -> TableOutcome | tuple[TableOutcome, BaseException]:
        try:
            table = make_table()
            plan = table.plan()
        except (ConnectorError, PersonvernError) as exc:
            return TableOutcome(None, key, target, TableStatus.FAILED, message=str(exc))
        if plan.needs_confirmation(self.max_share) and not confirm:
            return TableOutcome(
                plan,
                key,
                target,
                TableStatus.REFUSED,
                message=f"would {_verb(plan)} {plan.due:,} of {plan.total:,} {_unit(plan)} "
                f"({plan.share:.0%}), more than the {self.max_share:.0%} allowed "
                "without confirmation",
            )
        if on_table is not None:
            on_table(plan)
        progress = TableProgress(key, target, plan.due)
        try:
            table.run(
                progress,
                batch_size=self.batch_size,
                pseudonymise=self.pseudonymise,
                on_batch=on_batch,
            )
        except (ConnectorError, PersonvernError) as exc:
            return TableOutcome(plan, key, target, TableStatus.FAILED, progress, message=str(exc))
        except BaseException as exc:
            interrupted = TableOutcome(
                plan,
                key,
                target,
                TableStatus.INTERRUPTED,
                progress,
                message="stopped after a committed batch; the next run continues",
            )
            return interrupted, exc
        return TableOutcome(plan, key, target, TableStatus.COMPLETED, progress)

    def _table(
        self, rule: SweepRule, *, confirm: bool = False
    ) -> TableSweep | FileSweep | WebhookSweep:
        system = self.datamap.system(rule.system)
        if system is not None and system.kind is SystemKind.FILES:
            return file_sweep(rule, system, self.pool, self.environ, self.now, self.staff_holds)
        if system is not None and system.kind is SystemKind.WEBHOOK:
            return webhook_sweep(rule, system, self.pool, self.environ, self.now, self.staff_holds)
        if system is None or system.kind not in _SQL:
            kind = system.kind.value if system else "unknown"
            raise ConnectorError(
                f"{rule.target}: sweeps of {kind} systems are not supported yet",
                hint="only SQLite, PostgreSQL and MySQL/MariaDB systems are swept",
            )
        connector = self.pool.get(system, self.environ)
        if not isinstance(connector, SqlConnector):  # pragma: no cover - registry maps SQL kinds
            raise ConnectorError(f"{rule.target}: not a SQL connector")
        return TableSweep(
            rule,
            connector,
            today=today_in(self.now, rule.timezone),
            staff_holds=self.staff_holds,
            children=_children(self.datamap, rule),
            # Confirmed, the share of the table is not asked: the table need not be counted.
            count_table=not confirm,
        )


class SweepsTable(Protocol):
    """One rule on one table: a data map's (TableSweep) or personvern's own (OwnTableSweep)."""

    def plan(self) -> TablePlan:
        """Count what a sweep would do today."""
        ...

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Delete or anonymise what is due, in batches."""
        ...


def _itself(table: OwnTableSweep) -> SweepsTable:
    return table


def _verb(plan: TablePlan) -> str:
    return "anonymise" if plan.action.value == "anonymise" else "delete"


def _unit(plan: TablePlan) -> str:
    if isinstance(plan, FilePlan):
        return "files"
    return "records" if isinstance(plan, WebhookPlan) else "rows"


def _failure(rule: SweepRule, exc: BaseException) -> TableOutcome:
    return TableOutcome(None, rule.key, rule.target, TableStatus.FAILED, message=str(exc))


def _children(datamap: DataMap, rule: SweepRule) -> list[ChildReference]:
    """Datasets of the same system whose fields reference the rule's dataset."""
    system = datamap.system(rule.system)
    if system is None:
        return []
    found: list[ChildReference] = []
    for dataset in system.datasets:
        for data_field in dataset.fields:
            reference = data_field.references
            if reference is None:
                continue
            parts = reference.split(".")
            if len(parts) == 3 and parts[0] != system.key:
                continue
            target_dataset, target_field = parts[-2], parts[-1]
            if target_dataset == rule.dataset and dataset.name != rule.dataset:
                found.append((dataset.name, data_field.name, target_field))
    return found


def _children_first(datamap: DataMap, rules: list[SweepRule]) -> list[SweepRule]:
    """``rules`` ordered so that a dataset's referencing datasets are swept before it."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for rule in rules:
        sorter.add(rule.target, *(f"{rule.system}.{c[0]}" for c in _children(datamap, rule)))
    try:
        order = {target: index for index, target in enumerate(sorter.static_order())}
    except graphlib.CycleError:
        return rules
    return sorted(rules, key=lambda r: order.get(r.target, 0))
