"""subject keys: sealed columns for a request's identities and note; sealed answer files.

The data keys themselves live in the key store, a database of its own
(personvern.store.subject_keys, PERSONVERN_KEY_STORE_URL), never in this one: a restored
backup of this database must not bring back an erased subject's key. This revision
adds the columns the envelopes go into and lets the plain ones be empty. Existing rows
keep their plain values until ``personvern keys encrypt-existing`` (or their next
change) seals them: sealing needs the key store and the KEK, which a migration of the
data store does not have.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add identities_sealed and verification_note_sealed; let identities be empty."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.add_column(sa.Column("identities_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("verification_note_sealed", sa.LargeBinary(), nullable=True))
        batch.alter_column("identities", existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table("request_artifacts") as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the sealed columns (refused while any row has only a sealed value)."""
    bind = op.get_bind()
    sealed_only = bind.execute(
        sa.text(
            "SELECT count(*) FROM data_subject_requests "
            "WHERE identities IS NULL OR verification_note_sealed IS NOT NULL"
        )
    ).scalar_one()
    if sealed_only:
        msg = (
            f"{sealed_only} request(s) hold sealed values only; downgrading would lose them "
            "(decrypt them first, or restore a backup from before revision 0015)"
        )
        raise RuntimeError(msg)
    with op.batch_alter_table("request_artifacts") as batch:
        batch.drop_column("sealed")
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.alter_column("identities", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("verification_note_sealed")
        batch.drop_column("identities_sealed")
