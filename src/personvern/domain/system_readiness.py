"""Whether a connected system is ready for requests: what ``personvern check --connect`` says.

A request asks each dataset one query (personvern.connectors.sql): identity and
reference fields by equality, free-text fields by substring. That query is fast only
where an index serves it in the form the engine writes it, which depends on the
database:

* a plain ``col IN (...)`` (identities, references; e-mail on MySQL/MariaDB, whose
  default collations ignore case, and e-mail said to be ``stored_normalised``): any
  index on the column;
* e-mail on PostgreSQL, ``lower(col) IN (...)``: an index on ``lower(col)``;
* e-mail on SQLite, ``col COLLATE NOCASE IN (...)``: an index ``(col COLLATE NOCASE)``;
* free text, ``lower(col) LIKE '%...%'``: on PostgreSQL a trigram index on
  ``lower(col)`` (pg_trgm); on SQLite and MySQL/MariaDB no index serves it (a FULLTEXT
  index answers MATCH, not LIKE), so each request reads the whole table.

The connector side (personvern.connectors.readiness) asks the database itself, with
the engine's own query, whether an index serves it, and counts the rows; this module
decides from those facts what to tell a privacy officer, with the statement that
fixes it. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from personvern.domain.datamap import Dataset, IdentityKind, System

#: Longest index name PostgreSQL keeps (MySQL allows 64, SQLite any).
_MAX_INDEX_NAME = 63


class Level(StrEnum):
    """How much a finding matters: errors fail the check, warnings fail it with --strict."""

    ERROR = "error"
    WARNING = "warning"
    #: Worth knowing, nothing to fix (no index can serve a substring search there).
    NOTE = "note"


class QueryForm(StrEnum):
    """How the engine asks a column (personvern.connectors.sql)."""

    PLAIN = "plain"
    LOWER = "lower"
    NOCASE = "nocase"
    SUBSTRING = "substring"


@dataclass(frozen=True)
class Readiness:
    """One thing a privacy officer (or their database administrator) should know."""

    level: Level
    #: "system", "system.dataset" or "system.dataset.field".
    where: str
    message: str
    #: Statements that fix it, to run as they stand.
    fix: tuple[str, ...] = ()
    hint: str | None = None


@dataclass(frozen=True)
class DatasetFacts:
    """What the database says about one dataset's table."""

    exists: bool
    #: The table's columns (empty when it does not exist).
    columns: frozenset[str] = frozenset()
    rows: int | None = None
    #: Per searched field: whether an index serves the engine's query of it.
    served: Mapping[str, bool] = field(default_factory=dict)
    #: Per e-mail field on MySQL/MariaDB: whether the column's collation ignores case.
    ignores_case: Mapping[str, bool] = field(default_factory=dict)
    #: The table's own primary key columns.
    primary_key: tuple[str, ...] = ()


def is_mysql(dialect: str) -> bool:
    """Whether ``dialect`` is MySQL or MariaDB (SQLAlchemy names both)."""
    return dialect in {"mysql", "mariadb"}


def searched_fields(dataset: Dataset) -> dict[str, bool]:
    """The fields a request asks the dataset by equality, each with whether it is e-mail
    compared without case; empty for a dataset requests do not search (no primary_key)."""
    if not any(f.primary_key for f in dataset.fields):
        return {}
    return {
        f.name: f.identity is IdentityKind.EMAIL and not f.stored_normalised
        for f in dataset.fields
        if (f.identity is not None or f.references) and not f.free_text
    }


def free_text_fields(dataset: Dataset) -> list[str]:
    """The fields a request searches by substring (none without a primary_key)."""
    if not any(f.primary_key for f in dataset.fields):
        return []
    return [f.name for f in dataset.fields if f.free_text]


def lookup_form(dialect: str, *, caseless: bool) -> QueryForm:
    """The form of the engine's equality query on ``dialect`` (as sql.equals_any writes it)."""
    if not caseless or is_mysql(dialect):
        return QueryForm.PLAIN
    return QueryForm.NOCASE if dialect == "sqlite" else QueryForm.LOWER


def sql_readiness(
    system: System,
    dialect: str,
    facts: Mapping[str, DatasetFacts],
    quote: Callable[[str], str] = str,
) -> Iterator[Readiness]:
    """What to say about a connected SQL system, from the facts its database gave.

    ``quote`` quotes an identifier as the database wants it in the statements given.
    """
    for dataset in system.datasets:
        where = f"{system.key}.{dataset.name}"
        known = facts.get(dataset.name)
        if known is None or not known.exists:
            yield Readiness(
                Level.ERROR,
                where,
                f"{where}: the database has no table {dataset.name}",
                hint="the data map and the database disagree; fix the one that is wrong",
            )
            continue
        missing = [f.name for f in dataset.fields if f.name not in known.columns]
        declared = [f.name for f in dataset.fields if f.primary_key]
        if len(declared or known.primary_key) != 1:
            # The connector refuses the whole system then: every request fails on it.
            found = (
                f"the map marks {len(declared)}"
                if declared
                else f"the map marks none and the table has {len(known.primary_key)}"
            )
            yield Readiness(
                Level.ERROR,
                where,
                f"{where} needs exactly one primary key field ({found}), so no request "
                f"can search {system.key}",
                hint="mark the one field that identifies a row with primary_key: true",
            )
        for name in missing:
            yield Readiness(
                Level.ERROR,
                f"{where}.{name}",
                f"{where}.{name}: the table has no such column",
                hint="the data map and the database disagree; fix the one that is wrong",
            )
        for name, caseless in searched_fields(dataset).items():
            if name in missing:
                continue
            yield from _lookup(system, dataset, name, dialect, caseless, known, quote)
        for name in free_text_fields(dataset):
            if name not in missing:
                yield from _substring(system, dataset, name, dialect, known, quote)


def _lookup(
    system: System,
    dataset: Dataset,
    name: str,
    dialect: str,
    caseless: bool,
    known: DatasetFacts,
    quote: Callable[[str], str],
) -> Iterator[Readiness]:
    where = f"{system.key}.{dataset.name}.{name}"
    if is_mysql(dialect) and caseless and known.ignores_case.get(name) is False:
        yield Readiness(
            Level.WARNING,
            where,
            f"{where}: the column's collation tells letter cases apart, so an address "
            "stored in other letters (Kari@Example.no) is not found",
            hint="give the column a collation ending in _ci, or say stored_normalised: true "
            "in the data map if every address is stored in canonical form (lower case)",
        )
    if known.served.get(name, True):
        return
    form = lookup_form(dialect, caseless=caseless)
    table, column = quote(dataset.name), quote(name)
    if form is QueryForm.LOWER:
        asked, statement = (
            f"lower({name}) IN (...)",
            _index(dataset.name, name, "lower", table, f"lower({column})"),
        )
        hint: str | None = (
            "or, if every address in it is stored in canonical form (lower case), say "
            "stored_normalised: true in the data map and index the column itself"
        )
    elif form is QueryForm.NOCASE:
        asked, statement = (
            f"{name} COLLATE NOCASE IN (...)",
            _index(dataset.name, name, "nocase", table, f"{column} COLLATE NOCASE"),
        )
        hint = (
            "or, if every address in it is stored in canonical form (lower case), say "
            "stored_normalised: true in the data map and index the column itself"
        )
    else:
        asked, statement = f"{name} IN (...)", _index(dataset.name, name, "", table, column)
        hint = None
    yield Readiness(
        Level.WARNING,
        where,
        f"{where}: no index serves {asked}, so each request reads the whole table"
        f"{_rows(known.rows)}",
        fix=(statement,),
        hint=hint,
    )


def _substring(
    system: System,
    dataset: Dataset,
    name: str,
    dialect: str,
    known: DatasetFacts,
    quote: Callable[[str], str],
) -> Iterator[Readiness]:
    where = f"{system.key}.{dataset.name}.{name}"
    if known.served.get(name, False):
        return
    # personvern's own mention index serves the search where the map names a marker.
    hint = (
        f"personvern's mention index serves it once `personvern index build` has run "
        f"(change_marker: {dataset.change_marker})"
        if dataset.change_marker
        else "or name the dataset's change_marker and run `personvern index build`: "
        "personvern's own mention index then serves the search"
    )
    if dialect == "postgresql":
        table, column = quote(dataset.name), quote(name)
        yield Readiness(
            Level.WARNING,
            where,
            f"{where}: free text without a trigram index on lower({name}), so each request "
            f"reads the whole table{_rows(known.rows)}",
            fix=(
                "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
                _index(
                    dataset.name,
                    name,
                    "trgm",
                    table,
                    f"lower({column}) gin_trgm_ops",
                    using="gin",
                ),
            ),
            hint=hint,
        )
        return
    database = "SQLite" if dialect == "sqlite" else "MySQL/MariaDB"
    yield Readiness(
        Level.NOTE,
        where,
        f"{where}: free text, searched by substring; no {database} index serves that, so "
        f"each request reads the whole table{_rows(known.rows)}",
        hint=hint.removeprefix("or "),
    )


def _index(
    table_name: str,
    column_name: str,
    suffix: str,
    table: str,
    key: str,
    using: str | None = None,
) -> str:
    """CREATE INDEX with a name from the table, column and kind (ix_table_column_lower)."""
    name = "_".join(p for p in ("ix", table_name, column_name, suffix) if p)[:_MAX_INDEX_NAME]
    method = f" USING {using}" if using else ""
    return f"CREATE INDEX {name} ON {table}{method} ({key});"


def _rows(rows: int | None) -> str:
    return f" ({rows:,} rows now)" if rows is not None else ""
