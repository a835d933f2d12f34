"""Seal what was stored in plain text before encryption at rest (`keys encrypt-existing`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from personvern.store.models import DataSubjectRequest
from personvern.store.unit_of_work import UnitOfWorkFactory


def seal_existing(unit_of_work: UnitOfWorkFactory, batch: int = 500) -> int:
    """Seal every request still holding a plain identity or note; return how many."""
    plain = sa.or_(
        DataSubjectRequest.identities_plain.is_not(None),
        DataSubjectRequest.verification_note_plain.is_not(None),
    )
    total = 0
    while True:
        with unit_of_work() as uow:
            if uow.vault is None:
                raise RuntimeError("sealing needs a store opened with a vault")
            rows = uow.session.scalars(
                sa.select(DataSubjectRequest)
                .where(plain)
                .order_by(DataSubjectRequest.id)
                .limit(batch)
            ).all()
            for request in rows:
                # Marked changed, the flush seals it (personvern.store.encryption.fields).
                flag_modified(request, "identities_plain")
            uow.session.flush()
        total += len(rows)
        if len(rows) < batch:
            return total
