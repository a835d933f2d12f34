"""Alembic migrations of personvern's own store (run through personvern.store.migrate)."""
