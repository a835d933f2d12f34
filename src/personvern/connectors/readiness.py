"""Connect to every system of the data map, read-only, and see whether it is ready for requests.

What ``personvern check --connect`` runs. Per system: does the database have the
tables and columns the map names, does an index serve each query a request asks (the
database's own planner is asked, with the engine's own query: personvern.connectors.sql
builds it), how many rows each dataset holds, and how many files no owner rule
attributes to anyone (personvern.connectors.files_attribution). What to make of these
facts is decided in personvern.domain.system_readiness.

Nothing here writes: SQL sessions are opened read-only (the server refuses writes),
planners are asked with EXPLAIN only, files are listed, and webhook systems get the
contract's ``check`` call. Nothing here runs during a request either.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from personvern.connectors.files_attribution import unattributed_files
from personvern.connectors.port import (
    Connector,
    ConnectorError,
    ConnectorUnavailableError,
    FileInventory,
)
from personvern.connectors.registry import connector_for
from personvern.connectors.sql import (
    SqlConnector,
    contains_any,
    equals_any,
    failure_reason,
    read_only_engine,
)
from personvern.domain.datamap import DataMap, IdentityKind, System, SystemKind
from personvern.domain.file_ownership import owner_column
from personvern.domain.system_readiness import (
    DatasetFacts,
    Level,
    Readiness,
    free_text_fields,
    is_mysql,
    searched_fields,
    sql_readiness,
)

_SQL_KINDS = frozenset({SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE})
#: What the planner is asked to find (a value no store holds; only the plan is read).
_PROBE_TEXT = "probe@example.invalid"
_PROBE_NUMBER = 0
_EXPRESSION_INDEX_WARNING = "Skipped unsupported reflection of expression-based index"


@dataclass
class SystemReport:
    """What connecting to one system showed."""

    key: str
    kind: SystemKind
    #: "connected", or why not ("PERSONVERN_CRM_URL is not set", "connection refused").
    status: str
    #: The kind of database reached (postgresql, mysql, mariadb, sqlite), if any.
    database: str = ""
    #: Rows (for files datasets: records) per dataset, for those that could be counted.
    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Readiness] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        """Whether personvern reached the system."""
        return self.status == "connected"


def check_connected(datamap: DataMap, environ: Mapping[str, str]) -> list[SystemReport]:
    """Connect to every system the map names that holds records, and report on each."""
    reports: list[SystemReport] = []
    connectors: dict[str, Connector] = {}
    try:
        for system in datamap.systems:
            if not system.kind.needs_connection:
                continue
            report = _report(system, environ, connectors)
            reports.append(report)
        _count_unattributed(datamap, connectors, reports)
        _check_retention_triggers(datamap, connectors, reports)
    finally:
        for connector in connectors.values():
            connector.close()
    return reports


def _report(
    system: System, environ: Mapping[str, str], connectors: dict[str, Connector]
) -> SystemReport:
    variable = system.connection_env
    url = environ.get(variable, "").strip() if variable else ""
    if not variable or not url:
        name = variable or "connection_env"
        return SystemReport(
            system.key,
            system.kind,
            f"{name} is not set",
            findings=[
                Readiness(
                    Level.WARNING,
                    system.key,
                    f"{system.key}: not checked, {name} is not set",
                    hint="requests leave this system's part to be done by hand until it is set",
                )
            ],
        )
    try:
        if system.kind in _SQL_KINDS:
            report = _sql_report(system, url)
            if report.connected:
                # Counting files owned by a column asks the rows' system (SELECT only).
                connectors[system.key] = SqlConnector(system, url, read_only=True)
            return report
        connector = connectors[system.key] = connector_for(system, environ)
        return _other_report(system, connector)
    except ConnectorUnavailableError as exc:
        return _unreachable(system, exc.reason)
    except ConnectorError as exc:
        return SystemReport(
            system.key,
            system.kind,
            "not reached",
            findings=[Readiness(Level.ERROR, system.key, exc.message, hint=exc.hint)],
        )


def _unreachable(system: System, reason: str) -> SystemReport:
    return SystemReport(
        system.key,
        system.kind,
        reason,
        findings=[
            Readiness(
                Level.ERROR,
                system.key,
                f"{system.key} cannot be reached: {reason}",
                hint=f"check the address in {system.connection_env} and that the system "
                "lets personvern in",
            )
        ],
    )


def _other_report(system: System, connector: Connector) -> SystemReport:
    """A files or webhook system, reached through its connector: listed, or asked if up."""
    report = SystemReport(system.key, system.kind, "connected")
    if isinstance(connector, FileInventory):
        for dataset in system.datasets:
            if dataset.files is not None:
                report.rows[dataset.name] = len(connector.keys(dataset.name))
    else:
        connector.check()
    return report


def _sql_report(system: System, url: str) -> SystemReport:
    engine = read_only_engine(system.key, url)
    try:
        with engine.connect() as conn:
            dialect = engine.dialect.name
            facts = _facts(conn, system, dialect)
            # SQLAlchemy calls MariaDB "mysql"; the officer knows which they run.
            database = "mariadb" if getattr(engine.dialect, "is_mariadb", False) else dialect
    except (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.DisconnectionError,
        sa.exc.TimeoutError,
    ) as exc:
        return _unreachable(system, failure_reason(exc))
    except sa.exc.SQLAlchemyError as exc:
        # Only the error's class: a driver's message may name hosts, users or values.
        return SystemReport(
            system.key,
            system.kind,
            "refused",
            findings=[
                Readiness(
                    Level.ERROR,
                    system.key,
                    f"{system.key}: the database refused to describe its tables "
                    f"({type(exc).__name__})",
                    hint="personvern's user needs to read the tables the map names "
                    "(requests read them too)",
                )
            ],
        )
    finally:
        engine.dispose()
    quote = engine.dialect.identifier_preparer.quote
    return SystemReport(
        system.key,
        system.kind,
        "connected",
        database,
        rows={name: f.rows for name, f in facts.items() if f.rows is not None},
        findings=list(sql_readiness(system, dialect, facts, quote)),
    )


def _facts(conn: Connection, system: System, dialect: str) -> dict[str, DatasetFacts]:
    """What the database says about each dataset's table."""
    tables = set(sa.inspect(conn).get_table_names())
    metadata = sa.MetaData()
    facts: dict[str, DatasetFacts] = {}
    for dataset in system.datasets:
        if dataset.name not in tables:
            facts[dataset.name] = DatasetFacts(exists=False)
            continue
        with warnings.catch_warnings():
            # SQLite cannot describe expression indexes; the planner is asked instead.
            warnings.filterwarnings(
                "ignore", message=_EXPRESSION_INDEX_WARNING, category=sa.exc.SAWarning
            )
            table = sa.Table(dataset.name, metadata, autoload_with=conn)
        rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        served: dict[str, bool] = {}
        for name, caseless in searched_fields(dataset).items():
            column = table.c.get(name)
            probe = _probe(column) if column is not None else None
            if column is None or probe is None:
                continue
            text = isinstance(column.type, sa.String)
            condition = equals_any(dialect, column, [probe], caseless=caseless and text)
            served[name] = _served(conn, dialect, table, condition, column)
        # Only a PostgreSQL trigram index serves a substring search; elsewhere none can.
        for name in free_text_fields(dataset) if dialect == "postgresql" else ():
            column = table.c.get(name)
            if column is not None and isinstance(column.type, sa.String):
                searched = contains_any(column, [_PROBE_TEXT])
                served[name] = _served(conn, dialect, table, searched, column)
        facts[dataset.name] = DatasetFacts(
            exists=True,
            columns=frozenset(table.c.keys()),
            rows=int(rows),
            served=served,
            ignores_case=_ignores_case(conn, dialect, system, dataset.name),
            primary_key=tuple(column.name for column in table.primary_key.columns),
        )
    return facts


def _probe(column: sa.Column[Any]) -> object | None:
    """A value of the column's type to ask the planner with, or None for other types."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    if python_type is str:
        return _PROBE_TEXT
    return _PROBE_NUMBER if python_type is int else None


def _served(
    conn: Connection,
    dialect: str,
    table: sa.Table,
    condition: sa.ColumnElement[bool],
    column: sa.Column[Any],
) -> bool:
    """Whether the database's planner answers ``condition`` through an index."""
    query = sa.select(sa.literal(1)).select_from(table).where(condition)
    # The probe is a constant of ours, so it may be written into the statement.
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    try:
        if dialect == "postgresql":
            # On a small table a scan is cheaper, so the planner would pick it even where
            # an index serves; forbidden scans show whether one does. Undone at rollback.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()
            return _uses_index_condition(plan if not isinstance(plan, str) else json.loads(plan))
        if dialect == "sqlite":
            details = [str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            return any(d.startswith("SEARCH") and " USING " in d for d in details)
        if is_mysql(dialect):
            explained = conn.exec_driver_sql(f"EXPLAIN {sql}").mappings().all()
            if any("const tables" in str(row.get("Extra") or "") for row in explained):
                # Read as a constant (a unique key found nothing, or the table has one
                # row), the plan names no key: the table's indexes say it instead.
                return _leads_an_index(table, column)
            return any(row.get("possible_keys") for row in explained)
        return True  # a database personvern cannot ask: nothing said
    finally:
        conn.rollback()


def _leads_an_index(table: sa.Table, column: sa.Column[Any]) -> bool:
    """Whether ``column`` is the first column of the table's primary key or of an index."""
    keys = list(table.primary_key.columns)
    firsts = [list(index.columns)[:1] for index in table.indexes]
    return (bool(keys) and keys[0].name == column.name) or any(
        first and first[0].name == column.name for first in firsts
    )


def _uses_index_condition(plan: Any) -> bool:
    """Whether a PostgreSQL JSON plan looks anything up by an index condition."""
    if isinstance(plan, list):
        return any(_uses_index_condition(item) for item in plan)
    if isinstance(plan, dict):
        return "Index Cond" in plan or any(_uses_index_condition(v) for v in plan.values())
    return False


def _ignores_case(conn: Connection, dialect: str, system: System, table: str) -> dict[str, bool]:
    """Per e-mail column on MySQL/MariaDB, whether its collation ignores letter case."""
    if not is_mysql(dialect):
        return {}
    dataset = next(d for d in system.datasets if d.name == table)
    emails = {f.name for f in dataset.fields if f.identity is IdentityKind.EMAIL}
    if not emails:
        return {}
    rows = conn.execute(
        sa.text(
            "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table"
        ),
        {"table": table},
    ).all()
    return {
        str(name): str(collation).lower().endswith("_ci")
        for name, collation in rows
        if name in emails and collation is not None
    }


def _count_unattributed(
    datamap: DataMap, connectors: Mapping[str, Connector], reports: list[SystemReport]
) -> None:
    """Add a warning per files dataset holding files no owner rule attributes to anyone."""
    by_key = {report.key: report for report in reports}
    for system in datamap.systems:
        report = by_key.get(system.key)
        if report is None or not report.connected or system.kind is not SystemKind.FILES:
            continue
        for dataset in system.datasets:
            where = f"{system.key}.{dataset.name}"
            if dataset.files is None:
                continue
            try:
                counts = unattributed_files(datamap, connectors, [where])
            except ConnectorError as exc:
                report.findings.append(
                    Readiness(
                        Level.ERROR,
                        where,
                        f"{where}: files not counted: {exc.message}",
                        hint=exc.hint,
                    )
                )
                continue
            count = counts.get(where)
            if count is None:
                column = owner_column(dataset.files)
                rows = column[0].partition(".")[0] if column else system.key
                report.findings.append(
                    Readiness(
                        Level.WARNING,
                        where,
                        f"{where}: files not counted, {rows} could not be reached",
                    )
                )
            elif count:
                report.findings.append(
                    Readiness(
                        Level.WARNING,
                        where,
                        f"{where}: {count:,} file(s) belong to nobody its owner rule can name, "
                        "so a request cannot tell whose they are",
                        hint="give them an owner (a sidecar, a path the owner path matches, or "
                        "a row naming them), or move them out of the dataset's pattern",
                    )
                )


def _check_retention_triggers(
    datamap: DataMap, connectors: Mapping[str, Connector], reports: list[SystemReport]
) -> None:
    """An error for each retention rule whose trigger column cannot hold its time."""
    from personvern.connectors.retention_columns import trigger_column, trigger_format
    from personvern.domain.retention.rule import sweep_rules

    by_key = {report.key: report for report in reports}
    rules, _unswept = sweep_rules(datamap)
    for rule in rules:
        connector = connectors.get(rule.system)
        report = by_key.get(rule.system)
        if not isinstance(connector, SqlConnector) or report is None:
            continue
        try:
            column, _parent = trigger_column(rule, connector)
        except ConnectorError:
            continue  # a missing table or column is reported with the map's others
        try:
            trigger_format(rule, column)
        except ConnectorError as exc:
            report.findings.append(
                Readiness(
                    Level.ERROR,
                    rule.target,
                    f"retention rule '{rule.key}': {exc.message}",
                    hint=exc.hint,
                )
            )
