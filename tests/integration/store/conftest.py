"""Store tests run on SQLite and PostgreSQL, each test on a fresh database."""

from tests.support.store import session, store_engine, store_url

__all__ = ["session", "store_engine", "store_url"]
