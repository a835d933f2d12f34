"""The layout of a SQL system's tables, kept between processes and keyed by a fingerprint.

Reflecting a system's tables (``MetaData.reflect``) costs tens of statements and
50-160 ms; a server pays it once, but ``personvern request run`` is a new process
every time. So the reflected tables are described as JSON (columns with their types,
nullability, primary key, unique column sets) and kept in personvern's store, under a
fingerprint of the schema that one cheap catalogue query gives: the next process asks
that one query, and rebuilds the ``sa.Table`` objects from the layout stored under the
same fingerprint without asking the database anything else.

The fingerprint hashes what the catalogue says about the wanted tables (columns and
their types, nullability, keys, unique constraints and indexes), with the SQLAlchemy
version, the server version and this module's format, so anything the connector
relies on that changes gives a new fingerprint, and an old layout is never used.

A type is kept as its SQLAlchemy ``repr`` (``VARCHAR(length=200)``,
``TIMESTAMP(timezone=True)``, ``ENUM('a', 'b', name='mood')``): a constructor call that
is rebuilt by reading it as a Python expression of literals and type names, never by
evaluating it. A layout is only stored when every type rebuilds to the same class and
``repr``; otherwise the system is reflected every time, as without a cache.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeEngine

#: Changes whenever a stored layout would be read differently: old ones then never match.
LAYOUT_FORMAT = 1


class TableLayoutCache(Protocol):
    """Where table layouts are kept between processes (personvern's store), by fingerprint."""

    def get(self, system: str, fingerprint: str) -> str | None:
        """The layout (JSON) kept for ``system`` under ``fingerprint``, or None."""

    def put(self, system: str, fingerprint: str, layout: str) -> None:
        """Keep ``layout`` (JSON) for ``system`` under ``fingerprint``, replacing any."""


class LayoutError(ValueError):
    """A stored layout cannot be read back into tables (corrupt, or of another format)."""


# -- fingerprints --------------------------------------------------------------------

#: One catalogue query per dialect over the wanted tables (``:names``, expanding). The
#: rows are hashed as text, so each query only needs a stable order.
_SQLITE = """
SELECT type, name, tbl_name, sql FROM sqlite_master
WHERE tbl_name IN :names ORDER BY type, name
"""

_POSTGRESQL = """
SELECT c.relname AS t, 'c' AS k,
       lpad(a.attnum::text, 5, '0') || ' ' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
       || ' ' || a.attidentity::text || ' ' || a.attgenerated::text
       || ' ' || a.attcollation::text AS d
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname IN :names
  AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT c.relname, 'k', con.contype::text || ' ' || con.conname || ' ' || con.conkey::text
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname IN :names AND con.contype IN ('p', 'u')
UNION ALL
SELECT c.relname, 'i', i.relname || ' ' || x.indisunique::text || ' ' || x.indkey::text
       || ' ' || coalesce(pg_get_expr(x.indexprs, x.indrelid), '')
       || ' ' || coalesce(pg_get_expr(x.indpred, x.indrelid), '')
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname IN :names
UNION ALL
SELECT c.relname, 'e', a.attname || ' '
       || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE n.nspname = current_schema() AND c.relname IN :names
  AND a.attnum > 0 AND NOT a.attisdropped
GROUP BY c.relname, a.attname
ORDER BY 1, 2, 3
"""

_MYSQL = """
SELECT 't' AS k, TABLE_NAME AS t, '' AS p, CONCAT_WS(' ', ENGINE, TABLE_COLLATION) AS d
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN :names
UNION ALL
SELECT 'c', TABLE_NAME, LPAD(ORDINAL_POSITION, 5, '0'),
       CONCAT_WS(' ', COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,
                 COLLATION_NAME, EXTRA)
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN :names
UNION ALL
SELECT 'i', TABLE_NAME, CONCAT(INDEX_NAME, ' ', LPAD(SEQ_IN_INDEX, 5, '0')),
       CONCAT_WS(' ', NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE)
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN :names
ORDER BY 1, 2, 3, 4
"""

_FINGERPRINT_QUERIES = {
    "sqlite": _SQLITE,
    "postgresql": _POSTGRESQL,
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
}


def fingerprint(conn: Connection, tables: Iterable[str]) -> str | None:
    """The schema's fingerprint for ``tables``, in one query (None: dialect not covered)."""
    query = _FINGERPRINT_QUERIES.get(conn.dialect.name)
    if query is None:
        return None
    names = sorted(set(tables))
    statement = sa.text(query).bindparams(sa.bindparam("names", expanding=True))
    rows = conn.execute(statement, {"names": names}).all()
    digest = hashlib.sha256()
    server = ".".join(str(part) for part in conn.dialect.server_version_info or ())
    head = [LAYOUT_FORMAT, sa.__version__, conn.dialect.name, server, names]
    digest.update(json.dumps(head).encode())
    for row in rows:
        digest.update(b"\n")
        digest.update(json.dumps([None if v is None else str(v) for v in row]).encode())
    return digest.hexdigest()


# -- layouts -------------------------------------------------------------------------


def describe(tables: Iterable[sa.Table]) -> str:
    """The tables as a layout (JSON); see describe_exactly for one that is sure to rebuild."""
    described = []
    for table in tables:
        columns = []
        for column in table.columns:
            columns.append(
                {
                    "name": column.name,
                    "type": repr(column.type),
                    # Names in a repr are ambiguous (sqlalchemy.DATETIME and SQLite's own):
                    # the class's module is looked in first.
                    "module": type(column.type).__module__,
                    "nullable": column.nullable,
                }
            )
        unique = [
            [c.name for c in constraint.columns]
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ]
        # Indexes on expressions (lower(email)) are no unique column set: left out.
        unique += [
            [c.name for c in index.columns]
            for index in table.indexes
            if index.unique and index.columns and len(index.expressions) == len(index.columns)
        ]
        described.append(
            {
                "name": table.name,
                "columns": columns,
                "primary_key": [c.name for c in table.primary_key.columns],
                "unique": sorted(unique),
            }
        )
    return json.dumps({"format": LAYOUT_FORMAT, "tables": described}, sort_keys=True)


def describe_exactly(tables: Sequence[sa.Table], dialect: Dialect) -> str | None:
    """The layout, only if it rebuilds into tables of the same types (None otherwise)."""
    layout = describe(tables)
    try:
        rebuilt = rebuild(layout, dialect)
    except LayoutError:
        return None
    for table in tables:
        again = rebuilt.get(table.name)
        if again is None:
            return None
        for column in table.columns:
            copy = again.c.get(column.name)
            if copy is None or not _same_type(column.type, copy.type):
                return None
    return layout


def rebuild(layout: str, dialect: Dialect) -> dict[str, sa.Table]:
    """The tables a layout describes, on a MetaData of their own; LayoutError if unreadable."""
    try:
        data = json.loads(layout)
        if not isinstance(data, dict) or data.get("format") != LAYOUT_FORMAT:
            raise LayoutError("the layout is of another format")
        namespace = _type_names(dialect)
        metadata = sa.MetaData()
        tables: dict[str, sa.Table] = {}
        for described in data["tables"]:
            name = _text(described["name"])
            primary = {_text(c) for c in described["primary_key"]}
            columns = [
                sa.Column(
                    _text(column["name"]),
                    _type(_text(column["type"]), (_module(column["module"]), *namespace)),
                    nullable=bool(column["nullable"]),
                    primary_key=column["name"] in primary,
                    autoincrement=False,
                )
                for column in described["columns"]
            ]
            if not primary <= {c.name for c in columns}:
                raise LayoutError(f"{name}: the primary key names a column the table lacks")
            unique = [
                sa.UniqueConstraint(*(_text(c) for c in names)) for names in described["unique"]
            ]
            tables[name] = sa.Table(name, metadata, *columns, *unique)
    except LayoutError:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
        sa.exc.SQLAlchemyError,
    ) as exc:
        raise LayoutError(f"the layout cannot be read ({type(exc).__name__})") from None
    return tables


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise LayoutError("a name in the layout is not text")
    return value


def _module(name: object) -> ModuleType:
    """A module of SQLAlchemy's that a column's type class is defined in."""
    if not isinstance(name, str) or not name.startswith("sqlalchemy."):
        raise LayoutError("a column type in the layout names a module outside SQLAlchemy")
    try:
        return importlib.import_module(name)
    except ImportError:
        raise LayoutError(f"SQLAlchemy has no module {name}") from None


def _same_type(first: TypeEngine[Any], second: TypeEngine[Any]) -> bool:
    return type(first) is type(second) and repr(first) == repr(second)


def _type_names(dialect: Dialect) -> tuple[ModuleType, ...]:
    """Where the type names of a layout are looked up: the dialect's package, then sa.types."""
    package = type(dialect).__module__.rsplit(".", 1)[0]
    try:
        own = importlib.import_module(package)
    except ImportError:
        return (sa.types,)
    return (own, sa.types)


def _type(shown: str, namespace: Sequence[ModuleType]) -> TypeEngine[Any]:
    """The type a ``repr`` shows, read as an expression of literals and type names only."""
    try:
        tree = ast.parse(shown, mode="eval")
    except SyntaxError:
        raise LayoutError("a column type in the layout cannot be read") from None
    built = _value(tree.body, namespace)
    if not isinstance(built, TypeEngine):
        raise LayoutError("a column type in the layout is not a type")
    return built


def _value(node: ast.expr, namespace: Sequence[ModuleType]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _value(node.operand, namespace)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.List | ast.Tuple):
        items = [_value(item, namespace) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        kind = _type_class(node.func.id, namespace)
        args = [_value(arg, namespace) for arg in node.args]
        kwargs: Mapping[str, Any] = {
            keyword.arg: _value(keyword.value, namespace)
            for keyword in node.keywords
            if keyword.arg is not None
        }
        if len(kwargs) != len(node.keywords):
            raise LayoutError("a column type in the layout unpacks arguments")
        return kind(*args, **kwargs)
    raise LayoutError("a column type in the layout holds something other than literals")


def _type_class(name: str, namespace: Sequence[ModuleType]) -> type[TypeEngine[Any]]:
    if not name.isidentifier() or name.startswith("_"):
        raise LayoutError("a column type in the layout has an unexpected name")
    for module in namespace:
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, TypeEngine):
            return found
    raise LayoutError(f"{name} is not a column type SQLAlchemy knows")
