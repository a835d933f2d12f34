"""personvern's own database: SQLAlchemy 2 models, sessions, repositories and migrations.

Services reach it through a :class:`personvern.store.unit_of_work.UnitOfWork`, which
:func:`personvern.bootstrap.bootstrap` hands out; :func:`personvern.store.migrate.upgrade_to_head`
brings the schema up to date.
"""
