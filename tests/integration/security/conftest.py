"""Security tests that need the store run on SQLite and PostgreSQL."""

from tests.support.store import session, store_engine, store_url

__all__ = ["session", "store_engine", "store_url"]
