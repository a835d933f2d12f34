"""Databases holding text their driver cannot decode, made for real on each server.

* SQLite stores whatever bytes it is given as TEXT; Python's sqlite3 then fails with
  "Could not decode to UTF-8 column ...".
* PostgreSQL refuses invalid UTF-8 in a UTF8 database, but a database created with
  ENCODING 'SQL_ASCII' keeps any byte; read with client_encoding=utf8 (without it
  psycopg cannot even connect through SQLAlchemy), the server fails with SQLSTATE
  22021 (character not in repertoire).
* MariaDB checks every write to a utf8mb4 column (INSERT, LOAD DATA ... CHARACTER SET
  binary and ALTER TABLE from VARBINARY all refuse or replace invalid bytes) and
  converts latin1 to utf8mb4 losslessly, so a utf8mb4 connection always decodes. A
  latin1 database read over a latin1 connection (``?charset=latin1``, as a legacy
  system is configured) fails instead: MariaDB's latin1 holds byte 0x81, which
  PyMySQL decodes as cp1252, where 0x81 is undefined (UnicodeDecodeError).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.support.servers import server_url

#: Text no driver above can decode: 0x81 is neither UTF-8 on its own nor cp1252.
UNDECODABLE = b"\x81"


def unreadable_because(url: str) -> str:
    """Why the connector says a spoiled row cannot be read, on the database at ``url``."""
    if url.startswith("mysql"):
        return "its text is not valid in the character set the connection uses"
    return "its text is not valid UTF-8"


@contextmanager
def undecodable_database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database that can hold undecodable text; yields the URL to connect with."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'undecodable-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    admin_url = make_url(server_url(kind))
    name = f"pv_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(
                    sa.text(
                        f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' TEMPLATE template0 "
                        "LC_COLLATE 'C' LC_CTYPE 'C'"
                    )
                )
                query = {"client_encoding": "utf8"}
            else:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET latin1"))
                query = {"charset": "latin1"}
        url = admin_url.set(database=name).update_query_dict(query)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def spoil(url: str, table: str, column: str, key_column: str, key: object, text: str) -> None:
    """Set one text value to ``text`` followed by bytes the driver cannot decode."""
    raw = text.encode("ascii") + UNDECODABLE
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                value = f"CAST(x'{raw.hex()}' AS TEXT)"
            elif engine.dialect.name == "postgresql":
                value = f"convert_from('\\x{raw.hex()}'::bytea, 'SQL_ASCII')"
            else:
                value = f"x'{raw.hex()}'"
            conn.execute(
                sa.text(f"UPDATE {table} SET {column} = {value} WHERE {key_column} = :key"),
                {"key": key},
            )
    finally:
        engine.dispose()
