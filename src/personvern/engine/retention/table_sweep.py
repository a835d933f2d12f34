"""One retention rule on one SQL table: counted, then deleted, anonymised or aggregated.

Everything is decided in the database. A row is due when it is in the rule's scope (its
condition), its trigger is below the boundary of the last due day, the statutory hold
has released it, no hold staff placed keeps it, and (for deletion) no row of a dataset
referencing it remains. The plan finds the first and last key due; the batches walk
that range in key order, each in its own transaction and each at most ``batch_size``
rows (a window of consecutive integer keys, or up to the key one keyset query finds),
and change only the rows of their range *still due*. No table crosses into Python:
at most one key per batch, and for anonymisation only the rows SQL cannot rewrite
itself (personvern.engine.retention.anonymised_field). A run killed between or inside
batches leaves every row either done or still due, so the next run continues where it
stopped: idempotent by construction.
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
from personvern.engine.retention.anonymised_field import anonymised_field
from personvern.engine.retention.summary_table import SummaryTable

#: A dataset referencing the swept one: its table and the column holding the reference.
ChildReference = tuple[str, str, str]


@dataclass(frozen=True)
class TablePlan:
    """What a sweep of one rule on one table would do today."""

    rule: str
    system: str
    dataset: str
    action: RetentionAction
    #: Rows of the table, and of those the rule governs (its condition); in a confirmed
    #: run, which needs no share of the table, the due and held rows only (not counted).
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

    def needs_confirmation(self, max_share: float) -> bool:
        """Whether a run stops at the safety stop here unless confirmed (over ``max_share``)."""
        return self.share > max_share


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
        count_table: bool = True,
    ) -> None:
        """Resolve the rule's columns in the system's tables (ConnectorError if they differ).

        ``count_table=False`` (a confirmed run: no safety stop to weigh) skips counting
        the whole table, the plan's costliest query on a large one.
        """
        self.rule = rule
        self.count_table = count_table
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
        self._has_staff_holds = bool(held_keys)
        self._staff_held = (
            self.key.in_(_coerce_keys(self.key, held_keys)) if held_keys else sa.false()
        )
        self._has_references = self.rule.action is not RetentionAction.ANONYMISE and bool(children)
        self._referenced = self._references(children)
        # Cheapest tests first: "not yet anonymised" is an OR the database stops at the
        # first true term of, and a fresh row is caught by a null test before any regex.
        self._fields = sorted(
            (
                anonymised_field(self._column(name), how, self.connector.engine.dialect.name)
                for name, how in rule.anonymise.items()
            ),
            key=lambda f: _COST[f.how],
        )
        self._pending = self._not_yet_anonymised()
        self.referenced_by = tuple(sorted({c[0] for c in children}))
        self._summary = (
            SummaryTable(rule.aggregate, self.table, self._trigger, self.fmt, connector.engine)
            if rule.aggregate is not None
            else None
        )
        #: The first and last key due, as the plan found them (None: nothing due).
        self.due_keys: tuple[Any, Any] | None = None
        self._planned = False
        self._postgresql = connector.engine.dialect.name == "postgresql"
        self._due_count = 0
        self._python_rows = True
        # PostgreSQL's index on the trigger holds no keys (InnoDB's and SQLite's hold the
        # primary key): the due rows' first and last key cost a heap visit per row, so a
        # deletion with integer keys counts through the index alone and probes the keys.
        self._probed_keys = (
            self._postgresql
            and self._parent is None
            and rule.action is RetentionAction.DELETE
            and _integer(self.key)
        )
        #: The last due key is the newest due row's (an estimate): a run reaching it
        #: short of the rows counted looks for due keys beyond it.
        self._last_estimated = False

    # -- the predicates ---------------------------------------------------------

    @property
    def due(self) -> sa.ColumnElement[bool]:
        """Rows to delete or anonymise today (for anonymisation: not yet anonymised)."""
        return sa.and_(self._governed, self._pending)

    @property
    def _governed(self) -> sa.ColumnElement[bool]:
        """Rows the rule governs today, whether or not already anonymised."""
        return sa.and_(
            self._in_scope,
            self._released,
            sa.not_(self._staff_held),
            sa.not_(self._referenced),
        )

    def plan(self) -> TablePlan:
        """Count what a sweep would do, in the database (nothing changes).

        Three queries at most, each one aggregate: the table's rows; the due rows (their
        number, first and last key, oldest trigger), found through an index on the
        trigger column when there is one; the held ones among the rows past the rule,
        only for a rule that can have them (a statutory hold, holds placed by staff,
        referencing datasets). The range of keys due is what the batches then walk.
        On PostgreSQL a deletion with integer keys takes that range from index probes
        instead (``_probe_due_keys``), so the count can be answered by the index alone.
        """
        past = sa.and_(self._in_scope, self._past_rule)
        table: dict[str, sa.ColumnElement[Any]] = {"total": sa.func.count()}
        if self.rule.condition is not None:
            table["in_scope"] = _number_of(self._in_scope)
        due: dict[str, sa.ColumnElement[Any]] = {"due": sa.func.count()}
        if not self._probed_keys:
            due |= {"first": sa.func.min(self.key), "last": sa.func.max(self.key)}
        if self._parent is None:
            due["oldest"] = sa.func.min(self._trigger)
        by_python = [f.python_pending for f in self._fields if f.python_pending is not None]
        if by_python:
            due["python"] = _number_of(sa.or_(*by_python))
        held: dict[str, sa.ColumnElement[Any]] = {}
        if self.rule.statutory is not None:
            held["law"] = _number_of(sa.not_(self._released))
        if self._has_staff_holds:
            held["staff"] = _number_of(sa.and_(self._released, self._staff_held))
        if self._has_references:
            held["reference"] = _number_of(
                sa.and_(self._released, sa.not_(self._staff_held), self._referenced)
            )
        with (
            self.connector.guarded("count the rows due", self.rule.dataset),
            self.connector.engine.connect() as conn,
        ):
            counts = self._figures(conn, table, sa.true()) if self.count_table else {}
            row = self._figures(conn, due, self.due)
            if held:
                counts |= self._figures(conn, held, past)
            count = int(row["due"] or 0)
            if not count:
                oldest = None
            elif self._parent is None:
                oldest = self._trigger_day(row["oldest"])
            else:
                oldest = self._oldest(conn)
            if count and self._probed_keys:
                row |= self._probe_due_keys(conn, count)
        counts = {name: int(value or 0) for name, value in counts.items()}
        if not self.count_table:
            counts["total"] = count + sum(counts.get(k, 0) for k in ("law", "staff", "reference"))
        self.due_keys = (row["first"], row["last"]) if count else None
        self._due_count = count
        # No due row needs Python: the batches skip looking for them (one appearing
        # meanwhile stays due for the next run).
        self._python_rows = bool(row.get("python"))
        self._planned = True
        return TablePlan(
            rule=self.rule.key,
            system=self.rule.system,
            dataset=self.rule.dataset,
            action=self.rule.action,
            total=counts["total"],
            in_scope=counts.get("in_scope", counts["total"]),
            due=count,
            held_by_law=counts.get("law", 0),
            held_by_staff=counts.get("staff", 0),
            held_by_reference=counts.get("reference", 0),
            oldest_due=oldest,
            last_due_day=self.last_due_day,
            statutory=self.rule.statutory.reference if self.rule.statutory else None,
            referenced_by=self.referenced_by if self._has_references else (),
        )

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Delete or anonymise every due row in batches, each its own transaction.

        The batches walk the keys the plan found due, first to last: each finds its
        last key with one keyset query (the ``batch_size``-th due key after the previous
        batch), then changes the rows of that key range still due. A batch holding the
        last due key ends the run; rows due after the plan began wait for the next run.
        """
        if not self._planned:
            self.plan()
        if self.due_keys is None:
            return progress
        if self._summary is not None:
            with self.connector.guarded("create the summary table", self.rule.dataset):
                self._summary.ensure()
        first, last = self.due_keys
        # Integer keys mostly due between the first and the last (an append-only log
        # past its period): a window of batch_size consecutive keys holds at most
        # batch_size rows, so no query needs to look for where a batch ends.
        windows = (
            isinstance(first, int)
            and isinstance(last, int)
            and last - first + 1 <= _DENSE * self._due_count
        )
        after: Any = None
        swept = 0
        # One connection for every batch, each batch still its own transaction: checking
        # a connection out of the pool pings the server and checking it in rolls back,
        # two more round trips a batch, which a sweep of many small batches felt.
        with self.connector.guarded(self._doing(), self.rule.dataset):
            held = self.connector.engine.connect()
        single = self._one_statement_batches()
        if single:
            held = held.execution_options(isolation_level="AUTOCOMMIT")
        # Asynchronous commits, set for the session in autocommit (else per transaction).
        asynchronous = False
        with held as conn:
            try:
                while True:
                    with self.connector.guarded(self._doing(), self.rule.dataset), conn.begin():
                        if windows:
                            upto = min(last, (first - 1 if after is None else after) + batch_size)
                        else:
                            upto = self._batch_end(conn, after, last, batch_size)
                        # A batch lost in a server crash is still due and redone by the
                        # next run, so only the last batch waits for its commit to reach
                        # the disk (which flushes every earlier one with it).
                        if single and asynchronous != (upto != last):
                            asynchronous = upto != last
                            conn.execute(_ASYNCHRONOUS[asynchronous])
                        elif not single and upto != last and self._postgresql:
                            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
                        changed = self._batch(conn, after, upto, pseudonymise)
                    self._tell(progress, changed, first, upto)
                    after = upto
                    swept += changed
                    if on_batch is not None:
                        on_batch(progress)
                    if upto == last:
                        if not self._last_estimated or swept >= self._due_count:
                            return progress
                        # Short of the rows counted at the newest due row's key: keys not
                        # in time order, or rows gone meanwhile. Any due key beyond it is
                        # swept by keyset batches up to the last one; none ends the run.
                        with (
                            self.connector.guarded(self._doing(), self.rule.dataset),
                            conn.begin(),
                        ):
                            beyond = self._due_beyond(conn, last)
                        if beyond is None:
                            return progress
                        last, windows, self._last_estimated = beyond, False, False
            except BaseException:
                if asynchronous:
                    # Never back to the pool with the session's commits asynchronous.
                    conn.invalidate()
                raise

    def _batch(
        self, conn: sa.Connection, after: Any, upto: Any, pseudonymise: Pseudonymiser | None
    ) -> int:
        """Delete, anonymise or count and delete the due rows after ``after`` up to ``upto``."""
        if self.rule.action is RetentionAction.ANONYMISE:
            return self._anonymise_batch(conn, after, upto, pseudonymise)
        if self._summary is not None:
            return self._summary.count_and_delete(conn, self._in_batch(after, upto))
        return self._delete_batch(conn, after, upto)

    def _one_statement_batches(self) -> bool:
        """Whether each batch is one statement PostgreSQL can run as its own transaction.

        A deletion, or an anonymisation SQL does whole: sent in autocommit, a batch is
        one round trip instead of four (BEGIN, the commit setting, it, COMMIT).
        """
        if not self._postgresql:
            return False
        if self.rule.action is RetentionAction.DELETE:
            return self._summary is None
        return self.rule.action is RetentionAction.ANONYMISE and not self._needs_python()

    def _tell(self, progress: TableProgress, changed: int, first: Any, upto: Any) -> None:
        """Count a committed batch into the progress."""
        progress.batches += 1
        progress.done += changed
        if self.rule.action is RetentionAction.ANONYMISE:
            progress.anonymised += changed
        else:
            progress.deleted += changed
        if changed:
            # The evidence's first key: where the range of due keys began.
            progress.first_key = progress.first_key or str(first)
            progress.last_key = str(upto)

    def _needs_python(self) -> bool:
        """Whether an anonymisation batch reads rows only Python can rewrite."""
        return self._python_rows and any(f.python_pending is not None for f in self._fields)

    # -- batches ------------------------------------------------------------------

    def _batch_end(self, conn: sa.Connection, after: Any, last: Any, size: int) -> Any:
        """The batch's last key: the ``size``-th due key after ``after`` (or ``last``)."""
        query = sa.select(self.key).where(self.due).where(self.key <= last)
        if after is not None:
            query = query.where(self.key > after)
        found = conn.execute(query.order_by(self.key).offset(size - 1).limit(1)).scalar()
        return last if found is None else found

    def _in_batch(
        self, after: Any, upto: Any, pending: sa.ColumnElement[bool] | None = None
    ) -> sa.ColumnElement[bool]:
        """The batch's key range and still due: a row changed since the plan stays.

        ``pending`` narrows "not yet anonymised" to what one step of a batch changes.
        """
        # The first batch starts at the first key due, so a window of keys holds at most
        # batch_size rows even if rows before it became due since the plan.
        first = self.key >= self.due_keys[0] if self.due_keys is not None else sa.true()
        in_range = sa.and_(first if after is None else self.key > after, self.key <= upto)
        return sa.and_(
            in_range,
            self.due if pending is None else self._governed,
            *(() if pending is None else (pending,)),
        )

    def _delete_batch(self, conn: sa.Connection, after: Any, upto: Any) -> int:
        # The batch's key range, not its keys: one small statement instead of thousands
        # of parameters. Only rows still due go (a row changed since it was counted
        # stays for the next run); a due row added inside the range meanwhile goes too.
        statement = sa.delete(self.table).where(self._in_batch(after, upto))
        return int(conn.execute(statement).rowcount)

    def _anonymise_batch(
        self,
        conn: sa.Connection,
        after: Any,
        upto: Any,
        pseudonymise: Pseudonymiser | None,
    ) -> int:
        """Rows only Python can anonymise first (read, rewritten by key), then one UPDATE."""
        changed = 0
        by_python = [f.python_pending for f in self._fields if f.python_pending is not None]
        if by_python and self._python_rows:
            changed += self._anonymise_in_python(
                conn, self._in_batch(after, upto, sa.or_(*by_python)), pseudonymise
            )
        by_sql = [f for f in self._fields if f.sql_pending is not None]
        if by_sql:
            # Every row left pending in the range needs only SQL: those with a field only
            # Python anonymises were done whole above.
            pending = sa.or_(*(f.sql_pending for f in by_sql if f.sql_pending is not None))
            statement = (
                sa.update(self.table)
                .where(self._in_batch(after, upto, pending))
                .values({f.column.name: f.sql for f in by_sql})
            )
            changed += int(conn.execute(statement).rowcount)
        return changed

    def _anonymise_in_python(
        self,
        conn: sa.Connection,
        where: sa.ColumnElement[bool],
        pseudonymise: Pseudonymiser | None,
    ) -> int:
        columns = [f.column for f in self._fields]
        rows = conn.execute(sa.select(self.key, *columns).where(where)).all()
        params: list[dict[str, Any]] = []
        for row in rows:
            key = row[0]
            values: list[Any] = list(row[1:])
            new = [
                self._anonymised(f.column, f.how, value, key, pseudonymise)
                for (f, value) in zip(self._fields, values, strict=True)
            ]
            if new != values:
                params.append({"pv_key": key, **{f"pv_{i}": value for i, value in enumerate(new)}})
        if not params:
            return 0
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
        return len(params)

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

    def _figures(
        self,
        conn: sa.Connection,
        figures: dict[str, sa.ColumnElement[Any]],
        where: sa.ColumnElement[bool],
    ) -> dict[str, Any]:
        """Several aggregates of the rows meeting ``where``, in one query."""
        query = (
            sa.select(*(value.label(name) for name, value in figures.items()))
            .select_from(self.table)
            .where(where)
        )
        return dict(conn.execute(query).one()._mapping)

    def _probe_due_keys(self, conn: sa.Connection, count: int) -> dict[str, Any]:
        """The due rows' first and last key, from index probes where the keys allow.

        Three probes: the table's smallest key (its key index), the oldest and the newest
        due row's keys (the trigger index, each end). Keys growing with time as an
        append-only log's (smallest <= oldest's <= newest's) and due rows filling at least
        half of the keys up to the newest's: the first due key is the first met walking
        the key index (the smallest when it is the oldest row's), and the newest due row's
        key stands for the last (a run short of the rows counted there looks beyond it).
        Otherwise the due rows' keys are aggregated, one heap visit per due row.
        """
        smallest = conn.execute(sa.select(sa.func.min(self.key))).scalar()
        ends = [
            conn.execute(sa.select(self.key).where(self.due).order_by(order).limit(1)).scalar()
            for order in (self._trigger.asc(), self._trigger.desc())
        ]
        oldest, newest = ends
        if (
            smallest is not None
            and oldest is not None
            and newest is not None
            and smallest <= oldest <= newest
            and newest - smallest < _DENSE * count
        ):
            first = (
                smallest
                if oldest == smallest
                else conn.execute(
                    sa.select(self.key).where(self.due).order_by(self.key).limit(1)
                ).scalar()
            )
            if first is not None:
                self._last_estimated = True
                return {"first": first, "last": max(first, newest)}
        keys: dict[str, sa.ColumnElement[Any]] = {
            "first": sa.func.min(self.key),
            "last": sa.func.max(self.key),
        }
        return self._figures(conn, keys, self.due)

    def _due_beyond(self, conn: sa.Connection, last: Any) -> Any:
        """The last key still due after ``last`` (None: none)."""
        query = sa.select(sa.func.max(self.key)).where(self.due).where(self.key > last)
        return conn.execute(query).scalar()

    def _trigger_day(self, value: Any) -> date | None:
        return None if value is None else trigger_day(self.fmt, value, self.rule.timezone)

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
        return self._trigger_day(conn.execute(query).scalar_one())

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
        if self.rule.action is RetentionAction.ANONYMISE or not children:
            return sa.false()
        clauses = []
        for dataset, column_name, parent_column in children:
            child, _key = self.connector.sweep_table(dataset)
            target = self.table.c.get(parent_column, self.key)
            clauses.append(sa.exists().where(child.c[column_name] == target))
        return sa.or_(*clauses)

    def _not_yet_anonymised(self) -> sa.ColumnElement[bool]:
        """Rows some field of which does not show its anonymised form yet.

        Null, mask and pseudonym leave a form SQL recognises; so do a year and a
        truncated IPv4 address SQL computes (PostgreSQL, MySQL/MariaDB). A field only
        Python anonymises (a year in text, an IPv6 address, anything on SQLite) is
        pending while it holds a value: each batch compares it in Python and rewrites
        nothing already done.
        """
        if self.rule.action is not RetentionAction.ANONYMISE:
            return sa.true()
        pending = [
            p for f in self._fields for p in (f.sql_pending, f.python_pending) if p is not None
        ]
        return sa.or_(*pending) if pending else sa.false()

    def _column(self, name: str) -> sa.Column[Any]:
        column = self.table.c.get(name)
        if column is None:
            raise ConnectorError(f"{self.rule.target}.{name}: the table has no such column")
        return column

    def _doing(self) -> str:
        return {
            RetentionAction.DELETE: "delete due rows",
            RetentionAction.ANONYMISE: "anonymise",
            RetentionAction.AGGREGATE: "count and delete due rows",
        }[self.rule.action]


#: Keys from the first due to the last at most this many times the rows due: batches
#: are windows of consecutive keys (at least half of them due on average).
_DENSE = 2


#: PostgreSQL's commit setting for the session: asynchronous (True), or back to the
#: server's own (which the last batch's commit waits for, as any other commit would).
_ASYNCHRONOUS = {
    True: sa.text("SET synchronous_commit = off"),
    False: sa.text("RESET synchronous_commit"),
}


#: How costly each anonymisation's SQL tests are, cheapest first.
_COST = {
    Anonymisation.NULL: 0,
    Anonymisation.MASK: 1,
    Anonymisation.YEAR: 2,
    Anonymisation.PSEUDONYM: 3,
    Anonymisation.TRUNCATE_IP: 4,
}


def _number_of(predicate: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    """How many rows meet ``predicate``, as one aggregate of a shared scan."""
    return sa.func.coalesce(sa.func.sum(sa.case((predicate, 1), else_=0)), 0)


def _coerce_keys(column: sa.Column[Any], keys: Sequence[str]) -> list[Any]:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return list(keys)
    if python_type is int:
        return [int(k) for k in keys if k.lstrip("-").isdigit()]
    return list(keys)


def _integer(column: sa.Column[Any]) -> bool:
    """Whether the column holds integers (keys a window of consecutive values can bound)."""
    try:
        return column.type.python_type is int
    except NotImplementedError:
        return False


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
