"""One retention rule on one SQL table: counted, then deleted or anonymised in batches.

Everything is decided in the database. A row is due when it is in the rule's scope (its
condition), its trigger is below the boundary of the last due day, the statutory hold
has released it, no hold staff placed keeps it, and (for deletion) no row of a dataset
referencing it remains. Each batch selects up to ``batch_size`` due keys in key order,
then deletes or updates those keys *still due*, in its own transaction; only keys
cross into Python, never a table (anonymisation also reads the batch's fields it
rewrites). A run killed between or inside batches leaves every row either done or
still due, so the next run continues where it stopped: idempotent by construction.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from personvern.connectors.port import ConnectorError, Pseudonymiser
from personvern.connectors.retention_columns import trigger_column, trigger_format
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import Anonymisation, RetentionAction
from personvern.domain.records import MASK
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.rule import SweepRule
from personvern.domain.retention.trigger_time import Boundary, boundary, trigger_day

#: A dataset referencing the swept one: its table and the column holding the reference.
ChildReference = tuple[str, str, str]


@dataclass(frozen=True)
class TablePlan:
    """What a sweep of one rule on one table would do today."""

    rule: str
    system: str
    dataset: str
    action: RetentionAction
    #: Rows of the table, and of those the rule governs (its condition).
    total: int
    in_scope: int
    due: int
    #: Rows past the rule kept by a statutory hold, a staff hold, or a referencing row.
    held_by_law: int
    held_by_staff: int
    held_by_reference: int
    #: The trigger day of the oldest due row (None: nothing due).
    oldest_due: date | None
    #: The latest trigger day due today (None: no day is due yet).
    last_due_day: date | None
    #: The statutory hold's source ("bokføringsloven § 13"), when the rule has one.
    statutory: str | None = None
    #: The datasets whose rows keep a row by referencing it.
    referenced_by: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """ "system.dataset"."""
        return f"{self.system}.{self.dataset}"

    @property
    def held(self) -> int:
        """Rows past the rule that something keeps."""
        return self.held_by_law + self.held_by_staff + self.held_by_reference

    @property
    def share(self) -> float:
        """The share of the table this sweep would delete or anonymise."""
        return self.due / self.total if self.total else 0.0


@dataclass
class TableProgress:
    """How far a table's sweep has come (told after each committed batch)."""

    rule: str
    target: str
    due: int
    done: int = 0
    deleted: int = 0
    anonymised: int = 0
    batches: int = 0
    first_key: str | None = None
    last_key: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


ProgressCallback = Callable[[TableProgress], None]


class TableSweep:
    """The statements of one rule on one table of a SQL system."""

    def __init__(
        self,
        rule: SweepRule,
        connector: SqlConnector,
        *,
        today: date,
        staff_holds: Sequence[SubjectHold] = (),
        children: Sequence[ChildReference] = (),
    ) -> None:
        """Resolve the rule's columns in the system's tables (ConnectorError if they differ)."""
        self.rule = rule
        self.connector = connector
        self.today = today
        self.table, self.key = connector.sweep_table(rule.dataset)
        self._trigger, self._parent = trigger_column(rule, connector)
        self.fmt = trigger_format(rule, self._trigger)
        self._in_scope = self._condition()
        rule_day = rule.rule_last_due_day(today)
        self.last_due_day = rule.last_due_day(today)
        self._past_rule = self._before(rule_day)
        self._released = self._before(self.last_due_day)
        held_keys = [
            h.record_key for h in staff_holds if h.dataset == rule.target and h.applies_on(today)
        ]
        self._staff_held = (
            self.key.in_(_coerce_keys(self.key, held_keys)) if held_keys else sa.false()
        )
        self._referenced = self._references(children)
        self._pending = self._not_yet_anonymised()
        self.referenced_by = tuple(sorted({c[0] for c in children}))

    # -- the predicates ---------------------------------------------------------

    @property
    def due(self) -> sa.ColumnElement[bool]:
        """Rows to delete or anonymise today (for anonymisation: not yet anonymised)."""
        return sa.and_(
            self._in_scope,
            self._released,
            sa.not_(self._staff_held),
            sa.not_(self._referenced),
            self._pending,
        )

    def plan(self) -> TablePlan:
        """Count what a sweep would do, in the database (nothing changes)."""
        past = sa.and_(self._in_scope, self._past_rule)
        law = sa.and_(past, sa.not_(self._released))
        staff = sa.and_(past, self._released, self._staff_held)
        reference = sa.and_(past, self._released, sa.not_(self._staff_held), self._referenced)
        with (
            self.connector.guarded("count the rows due", self.rule.dataset),
            self.connector.engine.connect() as conn,
        ):
            counts = [
                self._count(conn, predicate)
                for predicate in (sa.true(), self._in_scope, self.due, law, staff, reference)
            ]
            oldest = self._oldest(conn) if counts[2] else None
        return TablePlan(
            rule=self.rule.key,
            system=self.rule.system,
            dataset=self.rule.dataset,
            action=self.rule.action,
            total=counts[0],
            in_scope=counts[1],
            due=counts[2],
            held_by_law=counts[3],
            held_by_staff=counts[4],
            held_by_reference=counts[5],
            oldest_due=oldest,
            last_due_day=self.last_due_day,
            statutory=self.rule.statutory.reference if self.rule.statutory else None,
            referenced_by=self.referenced_by if self.rule.action is RetentionAction.DELETE else (),
        )

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Delete or anonymise every due row in batches, each its own transaction."""
        after: Any = None
        while True:
            with (
                self.connector.guarded(self._doing(), self.rule.dataset),
                self.connector.engine.begin() as conn,
            ):
                if self.rule.action is RetentionAction.DELETE:
                    keys, changed = self._delete_batch(conn, after, batch_size)
                else:
                    keys, changed = self._anonymise_batch(conn, after, batch_size, pseudonymise)
            if not keys:
                return progress
            after = keys[-1]
            progress.batches += 1
            progress.done += len(keys)
            if self.rule.action is RetentionAction.DELETE:
                progress.deleted += changed
            else:
                progress.anonymised += changed
            if changed:
                progress.first_key = progress.first_key or str(keys[0])
                progress.last_key = str(keys[-1])
            if on_batch is not None:
                on_batch(progress)

    # -- batches ------------------------------------------------------------------

    def _batch_keys(
        self, conn: sa.Connection, after: Any, size: int, *columns: sa.Column[Any]
    ) -> list[sa.Row[Any]]:
        query = sa.select(self.key, *columns).where(self.due).order_by(self.key).limit(size)
        if after is not None:
            query = query.where(self.key > after)
        return list(conn.execute(query).all())

    def _delete_batch(self, conn: sa.Connection, after: Any, size: int) -> tuple[list[Any], int]:
        keys = [row[0] for row in self._batch_keys(conn, after, size)]
        if not keys:
            return [], 0
        # The batch's key range, not its keys: one small statement instead of thousands
        # of parameters. Only rows still due go (a row changed since it was selected
        # stays for the next run); a due row added inside the range meanwhile goes too.
        statement = (
            sa.delete(self.table)
            .where(self.key >= keys[0])
            .where(self.key <= keys[-1])
            .where(self.due)
        )
        return keys, conn.execute(statement).rowcount

    def _anonymise_batch(
        self,
        conn: sa.Connection,
        after: Any,
        size: int,
        pseudonymise: Pseudonymiser | None,
    ) -> tuple[list[Any], int]:
        columns = [self._column(name) for name in self.rule.anonymise]
        rows = self._batch_keys(conn, after, size, *columns)
        if not rows:
            return [], 0
        params: list[dict[str, Any]] = []
        for row in rows:
            key = row[0]
            values: list[Any] = list(row[1:])
            new = [
                self._anonymised(column, how, value, key, pseudonymise)
                for (column, how, value) in zip(
                    columns, self.rule.anonymise.values(), values, strict=True
                )
            ]
            if new != values:
                params.append({"pv_key": key, **{f"pv_{i}": value for i, value in enumerate(new)}})
        if not params:
            return [row[0] for row in rows], 0
        statement = (
            sa.update(self.table)
            .where(self.key == sa.bindparam("pv_key", type_=self.key.type))
            .where(self.due)
            .values(
                {
                    column.name: sa.bindparam(f"pv_{i}", type_=column.type)
                    for i, column in enumerate(columns)
                }
            )
        )
        conn.execute(statement, params)
        return [row[0] for row in rows], len(params)

    def _anonymised(
        self,
        column: sa.Column[Any],
        how: Anonymisation,
        value: Any,
        key: Any,
        pseudonymise: Pseudonymiser | None,
    ) -> Any:
        if value is None or how is Anonymisation.NULL:
            return None
        if how is Anonymisation.PSEUDONYM:
            if pseudonymise is None:
                raise ConnectorError(
                    f"{self.rule.target}.{column.name}: no key to make pseudonyms with"
                )
            return _fit(column, pseudonymise(self.rule.dataset, column.name, str(key)))
        return _GENERALISED[how](column, value)

    # -- building blocks ----------------------------------------------------------

    def _count(self, conn: sa.Connection, predicate: sa.ColumnElement[bool]) -> int:
        query = sa.select(sa.func.count()).select_from(self.table).where(predicate)
        return int(conn.execute(query).scalar_one())

    def _oldest(self, conn: sa.Connection) -> date | None:
        if self._parent is None:
            query = sa.select(sa.func.min(self._trigger)).where(self.due)
        else:
            parent, parent_key = self._parent
            via = self._column(str(self.rule.trigger.via))
            query = (
                sa.select(sa.func.min(self._trigger))
                .select_from(self.table.join(parent, via == parent_key))
                .where(self.due)
            )
        value = conn.execute(query).scalar_one()
        return None if value is None else trigger_day(self.fmt, value, self.rule.timezone)

    def _before(self, last_day: date | None) -> sa.ColumnElement[bool]:
        """Rows whose trigger day is on or before ``last_day`` (NULL triggers never are)."""
        if last_day is None:
            return sa.false()
        below: sa.ColumnElement[bool] = self._trigger < self._bound(
            boundary(self.fmt, last_day, self.rule.timezone)
        )
        if self._parent is None:
            return below
        _parent, parent_key = self._parent
        via = self._column(str(self.rule.trigger.via))
        return via.in_(sa.select(parent_key).where(below))

    def _bound(self, value: Boundary) -> Any:
        column_type = self._trigger.type
        naive_column = not getattr(column_type, "timezone", False)
        if isinstance(value, datetime) and value.tzinfo is not None and naive_column:
            # A naive timestamp column holds UTC.
            return value.astimezone(UTC).replace(tzinfo=None)
        return sa.literal(value, column_type)

    def _condition(self) -> sa.ColumnElement[bool]:
        condition = self.rule.condition
        if condition is None:
            return sa.true()
        column = self._column(condition.field)
        if condition.is_null is not None:
            return column.is_(None) if condition.is_null else column.is_not(None)
        if condition.in_ is not None:
            return column.in_(condition.in_)
        return column == condition.equals

    def _references(self, children: Sequence[ChildReference]) -> sa.ColumnElement[bool]:
        if self.rule.action is not RetentionAction.DELETE or not children:
            return sa.false()
        clauses = []
        for dataset, column_name, parent_column in children:
            child, _key = self.connector.sweep_table(dataset)
            target = self.table.c.get(parent_column, self.key)
            clauses.append(sa.exists().where(child.c[column_name] == target))
        return sa.or_(*clauses)

    def _not_yet_anonymised(self) -> sa.ColumnElement[bool]:
        """Rows whose fields do not all show their anonymised form yet.

        Null, mask and pseudonym leave a form SQL can recognise; a year or a truncated
        address does not, so a rule with such a field treats every due row as pending
        (each batch then compares in Python and rewrites nothing already done).
        """
        if self.rule.action is not RetentionAction.ANONYMISE:
            return sa.true()
        pending: list[sa.ColumnElement[bool]] = []
        for name, how in self.rule.anonymise.items():
            column = self._column(name)
            if how is Anonymisation.NULL:
                pending.append(column.is_not(None))
            elif how is Anonymisation.PSEUDONYM:
                pending.append(sa.not_(sa.func.coalesce(column, "pv-").startswith("pv-")))
            elif how is Anonymisation.MASK and _is_text(column):
                pending.append(sa.func.coalesce(column, MASK) != _fit(column, MASK))
            else:
                # A field whose anonymised form SQL cannot recognise: every row may be pending.
                return sa.true()
        return sa.or_(*pending)

    def _column(self, name: str) -> sa.Column[Any]:
        column = self.table.c.get(name)
        if column is None:
            raise ConnectorError(f"{self.rule.target}.{name}: the table has no such column")
        return column

    def _doing(self) -> str:
        return "delete due rows" if self.rule.action is RetentionAction.DELETE else "anonymise"


def _coerce_keys(column: sa.Column[Any], keys: Sequence[str]) -> list[Any]:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return list(keys)
    if python_type is int:
        return [int(k) for k in keys if k.lstrip("-").isdigit()]
    return list(keys)


def _is_text(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.String)


def _fit(column: sa.Column[Any], text: str) -> str:
    length = getattr(column.type, "length", None)
    return text[:length] if length else text


def _year(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, date):
        return value.replace(month=1, day=1)
    text = str(value)
    return text[:4] if isinstance(value, str) and text[:4].isdigit() else None


def _truncated_ip(value: Any) -> Any:
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


#: The anonymisations that depend on the value alone (null and pseudonym are above).
_GENERALISED: dict[Anonymisation, Callable[[sa.Column[Any], Any], Any]] = {
    Anonymisation.MASK: lambda column, value: (
        _fit(column, MASK) if isinstance(value, str) else None
    ),
    Anonymisation.YEAR: lambda _column, value: _year(value),
    Anonymisation.TRUNCATE_IP: lambda _column, value: _truncated_ip(value),
}
