"""Pooled connections tested before use when they sat idle, not at every checkout.

A server restart or a proxy's idle timeout may close a pooled connection, and that must
not fail the next request. SQLAlchemy's ``pool_pre_ping`` guards against it with a round
trip at every checkout: a third of a marketing decision on PostgreSQL, and a tenth of an
access run, whose search checks a connection out per dataset. A connection in steady use
is not tested; one idle for :data:`PING_AFTER_IDLE_SECONDS` is. Used by personvern's store
and by the connectors to the company's SQL systems.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

#: A pooled connection idle this long is tested before use.
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN_AT = "personvern_checked_in_at"


def ping_when_idle(engine: Engine, what: str) -> None:
    """Test ``engine``'s pooled connections before use once they sat idle (``what``: for errors)."""

    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: object) -> None:
        checked_in = record.info.get(_CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
                cursor.fetchall()
            finally:
                cursor.close()
            # A ping outside a transaction leaves none open (psycopg begins one implicitly).
            dbapi_connection.rollback()
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one.
            raise sa.exc.DisconnectionError(f"{what}'s connection was closed: {exc}") from exc

    event.listen(engine, "checkout", ping_if_idle)
    event.listen(engine, "checkin", _note_checkin)


def _note_checkin(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()
