"""Aggregate then delete: a batch's rows counted into a summary table, then deleted.

The summary table lives in the swept table's database: ``day`` (the trigger's day),
the rule's ``by`` fields (typed as in the swept table) and ``row_count``, unique per
day and fields, created when missing. Each batch adds its counts and deletes its rows
in one transaction, so a run killed at any point has either counted and deleted a
batch or done neither: nothing is counted twice or lost.

- PostgreSQL: one statement, ``WITH gone AS (DELETE ... RETURNING day, by...) INSERT
  INTO summary SELECT ... FROM gone GROUP BY ... ON CONFLICT DO UPDATE``: exactly the
  rows deleted are counted.
- MySQL/MariaDB: the batch's rows are locked first (``SELECT ... FOR UPDATE``), then
  counted (``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE``) and deleted.
- SQLite: counted, then deleted; the transaction's write lock keeps other writers out
  between the two.

The day is the trigger's date as the column stores it: a DATE itself, a timestamp's
date in UTC (naive timestamps hold UTC), the date written at the start of ISO text,
the UTC date of epoch seconds or milliseconds, the wall-clock date of naive local time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Engine

from personvern.connectors.port import ConnectorError
from personvern.domain.datamap import RetentionAggregate, TriggerFormat

_EPOCH = frozenset({TriggerFormat.EPOCH_SECONDS, TriggerFormat.EPOCH_MILLIS})


class SummaryTable:
    """The summary table of one ``aggregate`` rule, and the statements that fill it."""

    def __init__(
        self,
        aggregate: RetentionAggregate,
        source: sa.Table,
        trigger: sa.Column[Any],
        fmt: TriggerFormat,
        engine: Engine,
    ) -> None:
        """The summary of ``source``'s rows per day of ``trigger`` (stored as ``fmt``)."""
        self.aggregate = aggregate
        self.source = source
        self.engine = engine
        self.dialect = engine.dialect.name
        missing = [name for name in aggregate.by if name not in source.c]
        if missing:
            raise ConnectorError(
                f"{source.name}.{missing[0]}: the table has no such column to count per",
                hint="aggregate by: names columns of the swept table",
            )
        self.by = [source.c[name] for name in aggregate.by]
        self.day = _day(trigger, fmt, self.dialect)
        metadata = sa.MetaData()
        self.table = sa.Table(
            aggregate.table,
            metadata,
            sa.Column("day", sa.Date, nullable=False),
            *(sa.Column(c.name, c.type) for c in self.by),
            sa.Column("row_count", sa.BigInteger, nullable=False),
        )
        self.keys = [self.table.c.day, *(self.table.c[c.name] for c in self.by)]
        sa.Index(f"ux_{aggregate.table}"[:60], *self.keys, unique=True)

    def ensure(self) -> None:
        """Create the summary table when missing; refuse one that lacks its columns."""
        with self.engine.begin() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(self.table.name):
                self.table.create(conn)
                return
            have = {c["name"] for c in inspector.get_columns(self.table.name)}
        lacking = [c.name for c in self.table.columns if c.name not in have]
        if lacking:
            raise ConnectorError(
                f"{self.table.name}: the summary table exists without the column {lacking[0]}",
                hint="rename the existing table or the rule's aggregate table",
            )

    def count_and_delete(self, conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
        """Add the counts of the rows meeting ``where`` to the summary, delete them; how many."""
        if self.dialect == "postgresql":
            return self._postgresql(conn, where)
        if self.dialect in {"mysql", "mariadb"}:
            locked = sa.select(sa.func.count()).select_from(self.source).where(where)
            conn.execute(locked.with_for_update())
        counts = (
            sa.select(self.day.label("day"), *self.by, sa.func.count().label("row_count"))
            .where(where)
            .group_by(self.day, *self.by)
        )
        names = ["day", *(c.name for c in self.by), "row_count"]
        if self.dialect == "sqlite":
            lite = sqlite.insert(self.table).from_select(names, counts)
            conn.execute(
                lite.on_conflict_do_update(
                    index_elements=self.keys,
                    set_={"row_count": self.table.c.row_count + lite.excluded.row_count},
                )
            )
        else:
            my = mysql.insert(self.table).from_select(names, counts)
            conn.execute(
                my.on_duplicate_key_update(row_count=self.table.c.row_count + my.inserted.row_count)
            )
        return int(conn.execute(sa.delete(self.source).where(where)).rowcount)

    def _postgresql(self, conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
        gone = (
            sa.delete(self.source)
            .where(where)
            .returning(self.day.label("day"), *self.by)
            .cte("pv_gone")
        )
        by = [gone.c[c.name] for c in self.by]
        counts = sa.select(gone.c.day, *by, sa.func.count()).group_by(gone.c.day, *by)
        insert = postgresql.insert(self.table).from_select(
            ["day", *(c.name for c in self.by), "row_count"], counts
        )
        added = insert.on_conflict_do_update(
            index_elements=self.keys,
            set_={"row_count": self.table.c.row_count + insert.excluded.row_count},
        ).cte("pv_added")
        statement = sa.select(sa.func.count()).select_from(gone).add_cte(added)
        return int(conn.execute(statement).scalar_one())


def _day(trigger: sa.Column[Any], fmt: TriggerFormat, dialect: str) -> sa.ColumnElement[Any]:
    """The trigger's date, as an SQL DATE (see the module's docstring)."""
    seconds = trigger if fmt is TriggerFormat.EPOCH_SECONDS else trigger // 1000
    epoch = fmt in _EPOCH
    if dialect == "sqlite":
        # SQLite keeps dates as text: the first ten characters are the date.
        if epoch:
            return sa.func.date(seconds, "unixepoch")
        return sa.func.substr(trigger, 1, 10)
    if fmt is TriggerFormat.ISO_TEXT:
        return sa.cast(sa.func.substr(trigger, 1, 10), sa.Date)
    if epoch:
        return _epoch_day(seconds, dialect)
    if dialect == "postgresql" and getattr(trigger.type, "timezone", False):
        # A timestamp with a zone: its date in UTC, whatever the session's zone.
        return sa.cast(sa.func.timezone("UTC", trigger), sa.Date)
    return sa.cast(trigger, sa.Date)


def _epoch_day(seconds: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """The UTC date of Unix epoch seconds, on a server."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", sa.func.to_timestamp(seconds)), sa.Date)
    return sa.func.date(sa.func.timestampadd(sa.text("SECOND"), seconds, "1970-01-01"))
