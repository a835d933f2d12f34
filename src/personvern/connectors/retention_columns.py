"""The trigger column of a retention rule in a SQL table, and how it stores time.

Shared by the sweep (personvern.engine.retention) and ``personvern check --connect``
(personvern.connectors.readiness), so a column the sweep would refuse is named before
any sweep runs. A declared ``trigger_format`` must fit the column's SQL type: comparing
text with a number, or a date with text, sorts wrongly and would remove the wrong rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from personvern.connectors.port import ConnectorError
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import TriggerFormat
from personvern.domain.retention.rule import SweepRule

#: The SQL types a trigger column of each declared format may have.
_HOLDS: dict[TriggerFormat, type[Any] | tuple[type[Any], ...]] = {
    TriggerFormat.DATE: (sa.Date, sa.DateTime),
    TriggerFormat.TIMESTAMP: sa.DateTime,
    TriggerFormat.NAIVE_LOCAL: sa.DateTime,
    TriggerFormat.ISO_TEXT: sa.String,
    TriggerFormat.EPOCH_SECONDS: (sa.Integer, sa.Numeric),
    TriggerFormat.EPOCH_MILLIS: (sa.Integer, sa.Numeric),
}

#: The table holding the trigger (the referenced one, with ``trigger_via``) and its key.
Parent = tuple[sa.Table, sa.Column[Any]]


def trigger_column(
    rule: SweepRule, connector: SqlConnector
) -> tuple[sa.Column[Any], Parent | None]:
    """The column the rule's period runs from, and the referenced table when it is there."""
    source = rule.trigger
    if source.parent_dataset is None:
        table, _key = connector.sweep_table(rule.dataset)
        column = table.c.get(source.field)
        if column is None:
            raise ConnectorError(f"{rule.target}.{source.field}: the table has no such column")
        return column, None
    parent, parent_key = connector.sweep_table(source.parent_dataset)
    column = parent.c.get(source.field)
    if column is None:
        raise ConnectorError(
            f"{rule.system}.{source.parent_dataset}.{source.field}: the table has no such column"
        )
    if source.parent_key is not None and source.parent_key in parent.c:
        parent_key = parent.c[source.parent_key]
    return column, (parent, parent_key)


def trigger_format(rule: SweepRule, column: sa.Column[Any]) -> TriggerFormat:
    """How ``column`` stores time for ``rule``; ConnectorError when it cannot hold it."""
    column_type = column.type
    declared = rule.trigger_format
    if declared is not None:
        if not isinstance(column_type, _HOLDS[declared]):
            raise ConnectorError(
                f"{rule.target}: the trigger column {column.name} ({column_type}) "
                f"cannot hold {declared.value} times",
                hint="fix trigger_format: in the data map (date, timestamp, iso_text, "
                "epoch_seconds, epoch_millis, naive_local)",
            )
        return declared
    if isinstance(column_type, sa.DateTime):
        return TriggerFormat.TIMESTAMP
    if isinstance(column_type, sa.Date):
        return TriggerFormat.DATE
    raise ConnectorError(
        f"{rule.target}: the trigger column {column.name} ({column_type}) "
        "is no SQL date or timestamp",
        hint="say how it stores time: trigger_format: iso_text, epoch_seconds, "
        "epoch_millis or naive_local",
    )
