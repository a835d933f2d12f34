"""Errors from personvern's own database.

PersonvernError
└── StoreError                   the store failed in a way personvern did not expect
    ├── StoreUnavailableError    the database cannot be reached or its schema is missing
    ├── MigrationError           the schema could not be brought up to date
    └── RecordNotFoundError      a record asked for by id does not exist

Adapters translate SQLAlchemy's exceptions into these (``raise ... from exc``) so callers
never need to import SQLAlchemy to handle a store failure.
"""

from __future__ import annotations

from personvern.errors import ErrorKind, PersonvernError


class StoreError(PersonvernError):
    """personvern's own database failed."""

    kind = ErrorKind.FAILED
    title = "Store error"


class StoreUnavailableError(StoreError):
    """The database cannot be reached, or it has not been migrated yet."""

    kind = ErrorKind.UNAVAILABLE
    title = "Store unavailable"


class MigrationError(StoreError):
    """Migrations could not be applied."""

    title = "Migration failed"


class RecordNotFoundError(StoreError):
    """No record with the given id."""

    kind = ErrorKind.NOT_FOUND
    title = "Not found"
