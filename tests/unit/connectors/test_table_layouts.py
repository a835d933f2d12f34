"""Reading a kept table layout: whatever the store hands back, the answer is tables or LayoutError.

A layout is personvern's own JSON, but it sits in a database a person can edit and a
write can be cut short: reading it must never raise anything the connector does not
expect (it then reflects), and never run anything a type name or an argument says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite

from personvern.connectors.table_layouts import LayoutError, describe_exactly, rebuild

DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
}


def _table(*types: sa.types.TypeEngine[Any]) -> sa.Table:
    return sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(f"c{i}", kind) for i, kind in enumerate(types)),
    )


def _layout(columns: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "format": 1,
            "tables": [{"name": "t", "columns": columns, "primary_key": [], "unique": []}],
        }
    )


@pytest.mark.parametrize(
    ("dialect", "types"),
    [
        ("sqlite", [sqlite.DATETIME(), sa.VARCHAR(20), sa.NUMERIC(10, 2), sa.TEXT()]),
        (
            "postgresql",
            [
                postgresql.TIMESTAMP(timezone=True, precision=3),
                postgresql.ARRAY(sa.INTEGER()),
                postgresql.ENUM("a", "b", name="mood"),
                postgresql.DOUBLE_PRECISION(precision=53),
                postgresql.UUID(),
            ],
        ),
        (
            "mysql",
            [
                mysql.VARCHAR(30, collation="utf8mb4_bin"),
                mysql.INTEGER(display_width=10, unsigned=True),
                mysql.ENUM("x", "y"),
                mysql.SET("a", "b"),
                mysql.TINYINT(1),
            ],
        ),
    ],
)
def test_types_rebuild_to_the_same_class_and_arguments(
    dialect: str, types: list[sa.types.TypeEngine[Any]]
) -> None:
    table = _table(*types)

    layout = describe_exactly([table], DIALECTS[dialect])

    assert layout is not None
    rebuilt = rebuild(layout, DIALECTS[dialect])["t"]
    for column in table.columns:
        again = rebuilt.c[column.name]
        assert (type(column.type), repr(column.type)) == (type(again.type), repr(again.type))


def test_a_type_that_does_not_rebuild_exactly_is_not_kept() -> None:
    class Custom(sa.types.TypeDecorator[str]):
        impl = sa.String(10)
        cache_ok = True

    assert describe_exactly([_table(Custom())], DIALECTS["sqlite"]) is None


@pytest.mark.parametrize(
    "shown",
    [
        "__import__('os').system('false')",
        "sqlalchemy.types.String()",
        "String(length=open('/etc/passwd'))",
        "Table()",
        "String(**{'length': 3})",
        "_Binary()",
        "[String()]",
    ],
)
def test_type_names_and_arguments_are_read_never_run(shown: str) -> None:
    column = {"name": "c", "type": shown, "module": "sqlalchemy.sql.sqltypes", "nullable": True}

    with pytest.raises(LayoutError):
        rebuild(_layout([column]), DIALECTS["sqlite"])


def test_a_module_outside_sqlalchemy_is_refused() -> None:
    column = {"name": "c", "type": "String()", "module": "os", "nullable": True}

    with pytest.raises(LayoutError):
        rebuild(_layout([column]), DIALECTS["sqlite"])


@pytest.mark.parametrize("text", ["[" * 100_000, '{"format": 1, "tables": ' + "[" * 100_000])
def test_deeply_nested_text_is_a_layout_error(text: str) -> None:
    with pytest.raises(LayoutError):
        rebuild(text, DIALECTS["sqlite"])


@given(st.text(max_size=200))
def test_any_text_is_tables_or_layout_error(text: str) -> None:
    try:
        tables = rebuild(text, DIALECTS["postgresql"])
    except LayoutError:
        return
    assert all(isinstance(table, sa.Table) for table in tables.values())


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
_column = st.fixed_dictionaries(
    {
        "name": _json | st.sampled_from(["id", "c"]),
        "type": _json | st.sampled_from(["String(length=3)", "INTEGER()", "VARCHAR(length=-1)"]),
        "module": _json | st.just("sqlalchemy.sql.sqltypes"),
        "nullable": _json,
    }
)


@given(
    st.fixed_dictionaries(
        {
            "format": st.just(1) | _json,
            "tables": st.lists(
                st.fixed_dictionaries(
                    {
                        "name": _json | st.just("t"),
                        "columns": st.lists(_column, max_size=3) | _json,
                        "primary_key": st.lists(_json, max_size=2) | _json,
                        "unique": st.lists(st.lists(_json, max_size=2), max_size=2) | _json,
                    }
                ),
                max_size=2,
            )
            | _json,
        }
    )
)
def test_any_json_shape_is_tables_or_layout_error(data: dict[str, Any]) -> None:
    try:
        tables = rebuild(json.dumps(data), DIALECTS["sqlite"])
    except LayoutError:
        return
    assert all(isinstance(table, sa.Table) for table in tables.values())
