"""personvern's own database: SQLAlchemy 2 models, sessions, repositories and migrations.

Use :func:`personvern.store.db.make_engine` and :func:`personvern.store.db.make_session_factory`
to reach it, and :func:`personvern.store.migrate.upgrade_to_head` to bring the schema up to date.
"""
