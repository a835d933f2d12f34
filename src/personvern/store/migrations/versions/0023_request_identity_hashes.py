"""request identity hashes: one keyed hash per identity of an open request.

A marketing decision looks up whether an erasure of the person is under way by this
index instead of unsealing every erasure under way. Requests open when this runs get
their rows when the app next starts (personvern.intake.request_index needs the
secret key, which a migration does not have).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create request_identity_hashes, keyed by request, kind and hash."""
    op.create_table(
        "request_identity_hashes",
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("identity_kind", sa.String(32), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_subject_requests.id"],
            name=op.f("fk_request_identity_hashes_request_id_data_subject_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "identity_kind", "identity_hash", name=op.f("pk_request_identity_hashes")
        ),
    )
    op.create_index(
        "ix_request_identity_hashes_lookup",
        "request_identity_hashes",
        ["identity_kind", "identity_hash"],
    )


def downgrade() -> None:
    """Drop request_identity_hashes (decisions then cannot see erasures under way)."""
    op.drop_index("ix_request_identity_hashes_lookup", table_name="request_identity_hashes")
    op.drop_table("request_identity_hashes")
