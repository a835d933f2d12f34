"""sealed request details: a request's details, plan and review under the subject's key.

Like 0015 for the identities: adds the columns the envelopes go into and lets the plain
columns be empty. Rows stored before keep their plain values until ``personvern keys
encrypt-existing`` (or their next change) seals them; a migration of the data store has
no KEK and no key store to seal with. The receipt stays plain: it is the proof of what
was done and holds no values of the subject (docs/encryption.md).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = ("details_sealed", "plan_sealed", "review_sealed")


def upgrade() -> None:
    """Add details_sealed, plan_sealed and review_sealed; let details be empty."""
    with op.batch_alter_table("data_subject_requests") as batch:
        for column in _SEALED:
            batch.add_column(sa.Column(column, sa.LargeBinary(), nullable=True))
        batch.alter_column("details", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    """Drop the sealed columns (refused while any row has a sealed value)."""
    bind = op.get_bind()
    sealed = bind.execute(
        sa.text(
            "SELECT count(*) FROM data_subject_requests WHERE details_sealed IS NOT NULL "
            "OR plan_sealed IS NOT NULL OR review_sealed IS NOT NULL"
        )
    ).scalar_one()
    if sealed:
        msg = (
            f"{sealed} request(s) hold sealed details, plans or reviews; downgrading would "
            "lose them (restore a backup from before revision 0016 instead)"
        )
        raise RuntimeError(msg)
    op.execute("UPDATE data_subject_requests SET details = '{}' WHERE details IS NULL")
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.alter_column("details", existing_type=sa.JSON(), nullable=False)
        for column in reversed(_SEALED):
            batch.drop_column(column)
