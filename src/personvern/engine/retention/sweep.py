"""Plan and run every retention rule of the data map on the SQL systems it governs.

Rules run children before parents (a dataset referencing another is swept first), so
deleting invoice lines due today lets their invoices go in the same run. Before a rule
changes anything its table is counted: a rule that would delete or anonymise more than
``max_share`` of its table stops unless confirmed, since that usually means a wrong rule
or a wrong clock; the other rules run on. Each table's outcome is handed to ``record``
(personvern.engine.retention.evidence keeps it in the store and the audit trail).
"""

from __future__ import annotations

import graphlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from personvern.connectors.port import ConnectorError, Pseudonymiser
from personvern.connectors.registry import ConnectorPool
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import DataMap, SystemKind
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.rule import SweepRule, UnsweptRule, sweep_rules
from personvern.domain.retention.trigger_time import today_in
from personvern.engine.retention.table_sweep import (
    ChildReference,
    ProgressCallback,
    TablePlan,
    TableProgress,
    TableSweep,
)
from personvern.errors import PersonvernError

#: Keys per batch, each batch its own transaction (PERSONVERN_RETENTION_BATCH_SIZE).
DEFAULT_BATCH_SIZE = 10_000
#: The share of a table one rule may remove without --confirm (PERSONVERN_RETENTION_MAX_SHARE).
DEFAULT_MAX_SHARE = 0.2
_SQL = frozenset({SystemKind.SQLITE, SystemKind.POSTGRESQL, SystemKind.MYSQL})


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
    """Enforces the data map's retention rules in the company's SQL systems."""

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
    ) -> None:
        """Sweep ``datamap``'s rules through ``pool``'s connectors as of ``now`` (aware)."""
        self.datamap = datamap
        self.environ = environ
        self.pool = pool
        self.now = now or datetime.now(UTC)
        self.batch_size = batch_size
        self.max_share = max_share
        self.staff_holds = tuple(staff_holds)
        self.pseudonymise = pseudonymise

    def rules(self, system: str | None = None) -> tuple[list[SweepRule], list[UnsweptRule]]:
        """The rules to sweep (children before parents) and those no sweep enforces."""
        rules, unswept = sweep_rules(self.datamap)
        for rule in list(rules):
            found = self.datamap.system(rule.system)
            if found is not None and found.kind not in _SQL:
                rules.remove(rule)
                unswept.append(
                    UnsweptRule(
                        rule.key,
                        f"sweeps of {found.kind.value} systems are not built yet",
                        rule.target,
                    )
                )
        if system is not None:
            if self.datamap.system(system) is None:
                raise UnknownSystemError(
                    f"no system '{system}' in the data map",
                    hint="name a system key, as `personvern check` lists them",
                )
            rules = [r for r in rules if r.system == system]
            unswept = [u for u in unswept if (u.dataset or "").startswith(f"{system}.")]
        return _children_first(self.datamap, rules), unswept

    def plan(self, system: str | None = None) -> RetentionPlan:
        """Count, per rule and table, what a run would do today; change nothing."""
        rules, unswept = self.rules(system)
        tables: list[TablePlan] = []
        failed: list[TableOutcome] = []
        for rule in rules:
            try:
                tables.append(self._table(rule).plan())
            except (ConnectorError, PersonvernError) as exc:
                failed.append(_failure(rule, exc))
        return RetentionPlan(tables, unswept, failed)

    def run(
        self,
        system: str | None = None,
        *,
        confirm: bool = False,
        on_batch: ProgressCallback | None = None,
        on_table: Callable[[TablePlan], None] | None = None,
        record: Recorder | None = None,
    ) -> RetentionRun:
        """Delete or anonymise what is due, table by table; each outcome goes to ``record``.

        An exception from ``on_batch`` (or an interrupt) stops the run after the batch
        it follows: that table is recorded as interrupted and the exception goes on.
        """
        run_id = str(uuid.uuid4())
        rules, unswept = self.rules(system)
        run = RetentionRun(run_id, [], unswept)
        for rule in rules:
            outcome = self._run_table(rule, confirm=confirm, on_batch=on_batch, on_table=on_table)
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

    def _run_table(
        self,
        rule: SweepRule,
        *,
        confirm: bool,
        on_batch: ProgressCallback | None,
        on_table: Callable[[TablePlan], None] | None,
    ) -> TableOutcome | tuple[TableOutcome, BaseException]:
        try:
            table = self._table(rule)
            plan = table.plan()
        except (ConnectorError, PersonvernError) as exc:
            return _failure(rule, exc)
        if plan.share > self.max_share and not confirm:
            return TableOutcome(
                plan,
                rule.key,
                rule.target,
                TableStatus.REFUSED,
                message=f"would {_verb(plan)} {plan.due:,} of {plan.total:,} rows "
                f"({plan.share:.0%}), more than the {self.max_share:.0%} allowed "
                "without confirmation",
            )
        if on_table is not None:
            on_table(plan)
        progress = TableProgress(rule.key, rule.target, plan.due)
        try:
            table.run(
                progress,
                batch_size=self.batch_size,
                pseudonymise=self.pseudonymise,
                on_batch=on_batch,
            )
        except (ConnectorError, PersonvernError) as exc:
            return TableOutcome(
                plan, rule.key, rule.target, TableStatus.FAILED, progress, message=str(exc)
            )
        except BaseException as exc:
            interrupted = TableOutcome(
                plan,
                rule.key,
                rule.target,
                TableStatus.INTERRUPTED,
                progress,
                message="stopped after a committed batch; the next run continues",
            )
            return interrupted, exc
        return TableOutcome(plan, rule.key, rule.target, TableStatus.COMPLETED, progress)

    def _table(self, rule: SweepRule) -> TableSweep:
        system = self.datamap.system(rule.system)
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
        )


def _verb(plan: TablePlan) -> str:
    return "anonymise" if plan.action.value == "anonymise" else "delete"


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
