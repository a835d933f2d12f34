"""Connected systems' table layouts kept in personvern's store, between processes.

The SQL connector asks for a layout by the system's key and the fingerprint of its
schema (personvern.connectors.table_layouts); this keeps them, each lookup and each
write in a short session of its own, so the connector never holds a store transaction
while it talks to the company's database.
"""

from __future__ import annotations

import sqlalchemy as sa

from personvern.store.base import utcnow
from personvern.store.models import TableLayout
from personvern.store.unit_of_work import UnitOfWorkFactory

#: Layouts kept per system: a few schema versions (a migration under way, a staging
#: database under the same key) without the table growing for ever.
KEPT_PER_SYSTEM = 4


class StoredTableLayouts:
    """Table layouts in the ``table_layouts`` table, one row per system and fingerprint."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        """Keep layouts through units of work from ``unit_of_work``."""
        self._unit_of_work = unit_of_work

    def get(self, system: str, fingerprint: str) -> str | None:
        """The layout kept for ``system`` under ``fingerprint``, or None."""
        with self._unit_of_work() as uow:
            row = uow.session.get(TableLayout, (system, fingerprint))
            return None if row is None else row.layout

    def put(self, system: str, fingerprint: str, layout: str) -> None:
        """Keep ``layout`` for ``system`` under ``fingerprint``, replacing a row there."""
        try:
            with self._unit_of_work() as uow:
                session = uow.session
                row = session.get(TableLayout, (system, fingerprint))
                if row is None:
                    session.add(TableLayout(system=system, fingerprint=fingerprint, layout=layout))
                else:
                    row.layout = layout
                    row.created_at = utcnow()
                session.flush()
                newest_first = session.scalars(
                    sa.select(TableLayout.fingerprint)
                    .where(TableLayout.system == system)
                    .order_by(TableLayout.created_at.desc(), TableLayout.fingerprint)
                ).all()
                dropped = [f for f in newest_first[KEPT_PER_SYSTEM:] if f != fingerprint]
                if dropped:
                    session.execute(
                        sa.delete(TableLayout)
                        .where(TableLayout.system == system)
                        .where(TableLayout.fingerprint.in_(dropped))
                    )
        except sa.exc.IntegrityError:
            # Another process kept a layout under the same fingerprint first: the same
            # schema, so the same layout.
            return
