"""Seal what was stored in plain text before encryption at rest (`keys encrypt-existing`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from personvern.store.encryption.fields import sealed_fields
from personvern.store.models import DataSubjectRequest
from personvern.store.unit_of_work import UnitOfWorkFactory


def seal_existing(unit_of_work: UnitOfWorkFactory, batch: int = 500) -> int:
    """Seal every request still holding a plain sealed-field value; return how many."""
    plain_columns = [
        getattr(DataSubjectRequest, f"{field.name}_plain")
        for field in sealed_fields(DataSubjectRequest)
    ]
    plain = sa.or_(*(column.is_not(None) for column in plain_columns))
    total = 0
    after = ""
    while True:
        with unit_of_work() as uow:
            if uow.vault is None:
                raise RuntimeError("sealing needs a store opened with a vault")
            # Keyset pagination, not "the rows still plain": a JSON null stored before
            # 0016 is not SQL NULL, matches every time, and would never become sealed.
            rows = uow.session.scalars(
                sa.select(DataSubjectRequest)
                .where(plain, DataSubjectRequest.id > after)
                .order_by(DataSubjectRequest.id)
                .limit(batch)
            ).all()
            for request in rows:
                # Marked changed, the flush seals each plain value and writes SQL NULL
                # over a JSON null (personvern.store.encryption.fields).
                for column in plain_columns:
                    flag_modified(request, column.key)
            uow.session.flush()
        total += len(rows)
        if len(rows) < batch:
            return total
        after = rows[-1].id
