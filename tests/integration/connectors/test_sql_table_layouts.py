"""Table layouts kept between processes: rebuilt tables behave as reflected ones.

On SQLite, PostgreSQL and MariaDB a table with many column types (and unique
constraints and indexes of several shapes) is reflected by one connector, whose layout
is kept; a second, cold connector rebuilds the tables from it after one fingerprint
query. Its datasets must behave exactly as the reflected ones: the same types, text
and length detection, coercion and unique columns, and the same answers. A changed
schema is reflected again; a layout that cannot be read, or a cache that fails, means
reflecting, never a failed request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from personvern.connectors.port import Criteria
from personvern.connectors.sql import SqlConnector, _coerce, _is_text, _length, _python_type
from personvern.domain.datamap import DataField, Dataset, IdentityKind, System, SystemKind
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.table_layouts import StoredTableLayouts
from personvern.store.unit_of_work import unit_of_work_factory
from tests.support.servers import fresh_database

#: Values people and the engine hand a connector, as text and as Python values.
SAMPLES: tuple[Any, ...] = (
    "12",
    12,
    -3,
    "12.50",
    1.5,
    Decimal("2.25"),
    "2026-03-01",
    "2026-03-01T10:15:00",
    date(2026, 3, 1),
    datetime(2026, 3, 1, 10, 15),
    "abc",
    True,
    "6f1c2a9e-6d3b-4c55-9a52-0f5b0c1d2e3f",
    uuid.UUID("6f1c2a9e-6d3b-4c55-9a52-0f5b0c1d2e3f"),
    2**70,
)


class DictLayouts:
    """A table-layout cache in a dict, counting what it is asked."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}
        self.gets = 0
        self.puts = 0

    def get(self, system: str, fingerprint: str) -> str | None:
        """The layout kept under the key, or None."""
        self.gets += 1
        return self.kept.get((system, fingerprint))

    def put(self, system: str, fingerprint: str, layout: str) -> None:
        """Keep the layout."""
        self.puts += 1
        self.kept[(system, fingerprint)] = layout


class FailingLayouts:
    """A cache whose store is down."""

    def get(self, system: str, fingerprint: str) -> str | None:
        """Fail as a store that cannot be reached does."""
        raise sa.exc.OperationalError("SELECT", None, Exception("connection refused"))

    def put(self, system: str, fingerprint: str, layout: str) -> None:
        """Fail as a store that cannot be reached does."""
        raise sa.exc.OperationalError("INSERT", None, Exception("connection refused"))


def _columns(kind: str) -> list[sa.Column[Any]]:
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("code", sa.String(12)),
        sa.Column("badge", sa.String(20)),
        sa.Column("name", sa.Unicode(100)),
        sa.Column("note", sa.Text),
        sa.Column("fixed", sa.CHAR(8)),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("ratio", sa.Float),
        sa.Column("big", sa.BigInteger),
        sa.Column("small", sa.SmallInteger),
        sa.Column("flag", sa.Boolean),
        sa.Column("born", sa.Date),
        sa.Column("seen", sa.DateTime),
        sa.Column("seen_tz", sa.DateTime(timezone=True)),
        sa.Column("at", sa.Time),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("uid", sa.Uuid),
        sa.Column("status", sa.Enum("active", "closed", name="pv_status")),
        sa.Column("data", sa.JSON),
        sa.Column("pair_a", sa.Integer),
        sa.Column("pair_b", sa.Integer),
    ]
    if kind == "postgresql":
        columns += [
            sa.Column("doc", postgresql.JSONB),
            sa.Column("scores", postgresql.ARRAY(sa.Integer)),
            sa.Column("span", postgresql.INTERVAL),
            sa.Column("host", postgresql.INET),
            sa.Column("stamp", postgresql.TIMESTAMP(precision=3)),
        ]
    if kind == "mariadb":
        columns += [
            sa.Column("tiny", mysql.TINYINT(1)),
            sa.Column("story", mysql.MEDIUMTEXT),
            sa.Column("tags", mysql.SET("a", "b")),
            sa.Column("year", mysql.YEAR),
            sa.Column("exact", mysql.VARCHAR(30, collation="utf8mb4_bin")),
            sa.Column("count", mysql.INTEGER(unsigned=True)),
        ]
    return columns


def _create(url: str, kind: str) -> None:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = sa.Table(
        "things",
        metadata,
        *_columns(kind),
        sa.UniqueConstraint("code", name="uq_things_code"),
        sa.UniqueConstraint("pair_a", "pair_b", name="uq_things_pair"),
    )
    sa.Index("ux_things_badge", table.c.badge, unique=True)
    sa.Index("ix_things_email", table.c.email)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            if kind == "postgresql":
                conn.execute(sa.text("CREATE UNIQUE INDEX ux_things_lower ON things (lower(note))"))
            conn.execute(
                table.insert(),
                [
                    {
                        "id": n,
                        "email": f"kari{n}@example.no",
                        "phone": "+4797155337" if n == 1 else None,
                        "code": f"C{n}",
                        "badge": f"B{n}",
                        "note": f"note {n}",
                        "amount": Decimal("12.50"),
                        "born": date(1990, 1, n),
                        "seen": datetime(2026, 3, 1, 10, n),
                        "uid": uuid.UUID(int=n),
                        "status": "active",
                        "pair_a": n,
                        "pair_b": 1,
                    }
                    for n in (1, 2, 3)
                ],
            )
    finally:
        engine.dispose()


def _system(columns: list[str]) -> System:
    identities = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE_NUMBER}
    return System(
        key="things_system",
        name="Things",
        kind=SystemKind.SQLITE,
        description={"en": "many column types"},
        connection_env="PERSONVERN_THINGS_URL",
        datasets=[
            Dataset(
                name="things",
                subjects=["customer"],
                fields=[
                    DataField(name=name, primary_key=name == "id", identity=identities.get(name))
                    for name in columns
                ],
            )
        ],
    )


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def things(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, System]]:
    """The URL of a fresh database holding the many-types table, and its system."""
    kind = str(request.param)
    names = [column.name for column in _columns(kind)]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'things.sqlite'}"
        _create(url, kind)
        yield url, _system(names)
        return
    with fresh_database(kind) as url:
        _create(url, kind)
        yield url, _system(names)


def _behaviour(connector: SqlConnector) -> dict[str, Any]:
    """Everything the connector decides from a dataset's table."""
    ds = connector._dataset("things")
    return {
        "key": ds.key.name,
        "unique": ds.unique,
        "emails": ds.emails,
        "caseless": ds.caseless,
        "spelled": dict(ds.spelled),
        "columns": {
            name: (
                type(column.type),
                repr(column.type),
                column.nullable,
                column.primary_key,
                _is_text(column),
                _length(column),
                _python_type(column),
                tuple(repr(_coerce(column, value)) for value in SAMPLES),
            )
            for name, column in ds.fields.items()
        },
    }


def _open(url: str, system: System, layouts: Any = None) -> SqlConnector:
    return SqlConnector(system, url, layouts=layouts)


def test_a_rebuilt_layout_behaves_as_the_reflected_tables(things: tuple[str, System]) -> None:
    url, system = things
    layouts = DictLayouts()
    plain = _open(url, system)
    first = _open(url, system, layouts)
    second = _open(url, system, layouts)
    try:
        reflected = _behaviour(plain)
        assert reflected == _behaviour(first)
        assert 1 == layouts.puts
        rebuilt = _behaviour(second)
        reflected_statements = plain.schema_statements

        # The second connector asked one question about the schema and reflected nothing.
        assert 1 == second.schema_statements < reflected_statements
        assert reflected == rebuilt
        assert {"id", "code", "badge"} == rebuilt["unique"]
        assert 254 == rebuilt["columns"]["email"][5]
        criteria = Criteria(
            exact={"email": frozenset({"KARI2@example.no"}), "code": frozenset({"C3"})}
        )
        assert plain.locate("things", criteria) == second.locate("things", criteria)
        assert [2, 3] == sorted(r.key for r in second.locate("things", criteria))
        assert 1 == second.rectify("things", [1], {"note": "changed", "amount": "3.75"})
        assert 0 == second.rectify("things", [1], {"note": "changed", "amount": "3.75"})
    finally:
        for connector in (plain, first, second):
            connector.close()


def test_a_changed_schema_is_reflected_again_and_kept(things: tuple[str, System]) -> None:
    url, system = things
    layouts = DictLayouts()
    with _open(url, system, layouts) as first:
        assert "phone" not in _behaviour(first)["unique"]
    engine = sa.create_engine(url)
    widen = {
        "postgresql": "ALTER TABLE things ALTER COLUMN code TYPE VARCHAR(40)",
        "mysql": "ALTER TABLE things MODIFY code VARCHAR(40)",
    }.get(engine.dialect.name)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE things ADD COLUMN extra VARCHAR(30)"))
            conn.execute(sa.text("CREATE UNIQUE INDEX ux_things_phone ON things (phone)"))
            if widen is not None:
                # SQLite cannot change a column's type in place.
                conn.execute(sa.text(widen))
    finally:
        engine.dispose()

    with _open(url, system, layouts) as changed:
        behaviour = _behaviour(changed)
        assert changed.schema_statements > 2
        assert "extra" in changed._dataset("things").table.c
    with _open(url, system, layouts) as again:
        assert behaviour == _behaviour(again)
        assert 1 == again.schema_statements

    assert "phone" in behaviour["unique"]
    assert (12 if widen is None else 40) == behaviour["columns"]["code"][5]
    # One layout per schema: the old one is never used for the new schema.
    assert 2 == len(layouts.kept)


@pytest.mark.parametrize(
    "kept",
    [
        "{not json",
        '{"format": 1, "tables": 3}',
        '{"format": 1, "tables": [{"name": "things", "columns": [{"name": "id", '
        '"type": "__import__(\'os\').system(\'false\')", "module": "sqlalchemy.types", '
        '"nullable": false}], "primary_key": ["id"], "unique": []}]}',
        '{"format": 0, "tables": []}',
        '{"format": 1, "tables": []}',
    ],
    ids=["not-json", "not-a-list", "not-a-type", "old-format", "no-tables"],
)
def test_a_layout_that_cannot_be_used_is_reflected_and_overwritten(
    things: tuple[str, System], kept: str
) -> None:
    url, system = things
    layouts = DictLayouts()
    with _open(url, system, layouts) as first:
        reflected = _behaviour(first)
    ((key, _),) = layouts.kept.items()
    layouts.kept[key] = kept

    with _open(url, system, layouts) as second:
        assert reflected == _behaviour(second)
        assert second.schema_statements > 1
    assert kept != layouts.kept[key]
    with _open(url, system, layouts) as third:
        assert reflected == _behaviour(third)
        assert 1 == third.schema_statements


def test_a_failing_cache_only_costs_the_reflection(things: tuple[str, System]) -> None:
    url, system = things
    with _open(url, system) as plain, _open(url, system, FailingLayouts()) as failing:
        assert _behaviour(plain) == _behaviour(failing)


def test_the_store_keeps_layouts_between_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'things.sqlite'}"
    _create(url, "sqlite")
    system = _system([column.name for column in _columns("sqlite")])
    store = make_engine(f"sqlite:///{tmp_path / 'home' / 'personvern.db'}")
    try:
        upgrade_to_head(store)
        layouts = StoredTableLayouts(unit_of_work_factory(make_session_factory(store)))
        with _open(url, system, layouts) as first:
            reflected = _behaviour(first)
        with _open(url, system, layouts) as second:
            assert reflected == _behaviour(second)
            assert 1 == second.schema_statements
        # A row that is not JSON (written by hand, or cut short) is reflected and replaced.
        with store.begin() as conn:
            conn.execute(sa.text('UPDATE table_layouts SET layout = \'{"format": 1, "tab\''))
        with _open(url, system, layouts) as third:
            assert reflected == _behaviour(third)
            assert third.schema_statements > 1
        with _open(url, system, layouts) as fourth:
            assert reflected == _behaviour(fourth)
            assert 1 == fourth.schema_statements
        with store.connect() as conn:
            assert 1 == conn.execute(sa.text("SELECT count(*) FROM table_layouts")).scalar()
    finally:
        store.dispose()
