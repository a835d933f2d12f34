"""Limits of what personvern's store holds, importable without loading SQLAlchemy."""

from __future__ import annotations

#: The largest integer id every supported database holds (PostgreSQL's integer): a
#: larger one asked for names no row, and is refused before it reaches the database.
MAX_INTEGER_ID = 2**31 - 1
