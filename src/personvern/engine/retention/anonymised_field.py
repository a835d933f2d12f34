"""One field a retention rule anonymises: in SQL where the database can, else in Python.

A sweep rewrites a batch with one ``UPDATE ... SET field = <expression>`` for what SQL
can compute exactly as Python would (null, the mask, a date to its year on PostgreSQL
and MySQL/MariaDB, an IPv4 address to its /24 there), and reads, rewrites and updates
by key only the rows holding a value SQL cannot (a keyed pseudonym, an IPv6 address, a
year in text, anything on SQLite). Each field says which rows each way still has to
change, so a finished row is recognised and never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from personvern.domain.datamap import Anonymisation
from personvern.domain.records import MASK

#: An IPv4 address as ``ipaddress`` reads it: four decimal octets, no leading zeros.
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = f"^{_OCTET}([.]{_OCTET}){{3}}$"
#: Dialects whose SQL computes the year and the /24 as Python does.
_SERVERS = frozenset({"postgresql", "mysql", "mariadb"})


@dataclass(frozen=True)
class AnonymisedField:
    """A column, how it is anonymised, and which rows SQL or Python still has to change."""

    column: sa.Column[Any]
    how: Anonymisation
    #: The anonymised value as an SQL expression of the column (None: Python only).
    sql: sa.ColumnElement[Any] | None
    #: Rows whose value ``sql`` would still change (None: SQL changes none).
    sql_pending: sa.ColumnElement[bool] | None
    #: Rows holding a value only Python anonymises (None: there are none).
    python_pending: sa.ColumnElement[bool] | None


def anonymised_field(column: sa.Column[Any], how: Anonymisation, dialect: str) -> AnonymisedField:
    """How ``column`` is anonymised ``how`` on a database of ``dialect``."""
    text = isinstance(column.type, sa.String)
    server = dialect in _SERVERS
    if how is Anonymisation.NULL or (how is Anonymisation.MASK and not text):
        # Python's mask of a value that is no text is NULL too.
        return AnonymisedField(column, how, sa.null(), column.is_not(None), None)
    if how is Anonymisation.MASK:
        mask = _fit(column, MASK)
        return AnonymisedField(
            column,
            how,
            sa.case((column.is_(None), sa.null()), else_=sa.literal(mask, column.type)),
            sa.and_(column.is_not(None), column != mask),
            None,
        )
    if how is Anonymisation.YEAR and server and isinstance(column.type, sa.Date | sa.DateTime):
        year = _year(column, dialect)
        return AnonymisedField(
            column, how, year, sa.and_(column.is_not(None), column != year), None
        )
    if how is Anonymisation.TRUNCATE_IP and server and text:
        ipv4 = column.regexp_match(IPV4)
        # Text of digits and dots only is an IPv4 address or nothing ``ipaddress`` reads
        # (Python makes it NULL, and so does SQL); anything else (IPv6, spaces) is
        # Python's. One character class is far cheaper per row than the address pattern,
        # which only the digits-and-dots values not yet ending in .0 are tested against.
        other = column.regexp_match("[^0-9.]")
        truncated = _slash_24(column, dialect)
        return AnonymisedField(
            column,
            how,
            sa.case((ipv4, truncated), (other, column), else_=sa.null()),
            # An IPv4 address is truncated when it ends in .0: cheaper than computing it.
            sa.and_(
                sa.not_(other),
                sa.or_(sa.not_(column.endswith(".0", autoescape=True)), sa.not_(ipv4)),
            ),
            sa.and_(other, sa.not_(_ipv6_truncated(column))),
        )
    return AnonymisedField(column, how, None, None, _python_pending(column, how, dialect))


def _python_pending(
    column: sa.Column[Any], how: Anonymisation, dialect: str
) -> sa.ColumnElement[bool]:
    """Rows only Python anonymises that still hold a value it would change.

    The test keeps a finished row from being read again, and from being counted as due
    in the dry run and the report; where SQL cannot tell, every value is pending (each
    batch then compares in Python and rewrites nothing already done).
    """
    if how is Anonymisation.PSEUDONYM:
        return sa.not_(sa.func.coalesce(column, "pv-").startswith("pv-"))
    if how is Anonymisation.TRUNCATE_IP and isinstance(column.type, sa.String):
        done = sa.or_(_ipv4_truncated(column), _ipv6_truncated(column))
        return sa.and_(column.is_not(None), sa.not_(done))
    if how is Anonymisation.YEAR:
        return _year_pending(column, dialect)
    return column.is_not(None)


def _year_pending(column: sa.Column[Any], dialect: str) -> sa.ColumnElement[bool]:
    """Rows whose value is not yet the first moment of its year, as far as SQL can tell.

    Python does the rewriting here; the test only keeps a finished row from being
    counted as due again (in the dry run and the report) and read again.
    """
    if isinstance(column.type, sa.String):
        # A year in text is kept as its first four digits.
        return sa.and_(column.is_not(None), sa.func.length(column) != 4)
    if dialect == "sqlite" and isinstance(column.type, sa.DateTime):
        moment = sa.func.coalesce(sa.func.strftime("%m-%d %H:%M:%f", column), "")
        return sa.and_(column.is_not(None), moment != "01-01 00:00:00.000")
    if dialect == "sqlite" and isinstance(column.type, sa.Date):
        day = sa.func.coalesce(sa.func.strftime("%m-%d", column), "")
        return sa.and_(column.is_not(None), day != "01-01")
    return column.is_not(None)


def _ipv4_truncated(column: sa.Column[Any]) -> sa.ColumnElement[bool]:
    """An IPv4 address ending in .0: the network address of its /24."""
    return sa.and_(column.endswith(".0", autoescape=True), sa.not_(column.contains(":")))


def _ipv6_truncated(column: sa.Column[Any]) -> sa.ColumnElement[bool]:
    """An IPv6 address of at most three groups before a closing "::": a /48 network."""
    colons = sa.func.length(column) - sa.func.length(sa.func.replace(column, ":", ""))
    return sa.and_(column.endswith("::", autoescape=True), colons <= 4)


def _year(column: sa.Column[Any], dialect: str) -> sa.ColumnElement[Any]:
    """1 January of the column's year (at midnight for a timestamp), typed as the column."""
    is_date = not isinstance(column.type, sa.DateTime)
    if dialect == "postgresql":
        truncated = sa.func.date_trunc("year", column)
        return (
            sa.cast(truncated, column.type) if is_date else sa.type_coerce(truncated, column.type)
        )
    first = sa.func.makedate(sa.func.year(column), 1)
    return sa.type_coerce(first if is_date else sa.func.timestamp(first), column.type)


def _slash_24(column: sa.Column[Any], dialect: str) -> sa.ColumnElement[Any]:
    """An IPv4 address (as text) with its last octet 0."""
    if dialect == "postgresql":
        return sa.func.regexp_replace(column, "[.][0-9]+$", ".0")
    return sa.func.concat(sa.func.substring_index(column, ".", 3), ".0")


def _fit(column: sa.Column[Any], text: str) -> str:
    length = getattr(column.type, "length", None)
    return text[:length] if length else text
