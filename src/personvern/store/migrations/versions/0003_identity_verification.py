"""identity_verification: one-time codes for requests and the intake rate-limit counter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the verification tables."""
    op.create_table(
        "verification_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_subject_requests.id"],
            name=op.f("fk_verification_challenges_request_id_data_subject_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_challenges")),
    )
    op.create_index(
        op.f("ix_verification_challenges_request_id"),
        "verification_challenges",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "intake_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_attempts")),
    )
    op.create_index(op.f("ix_intake_attempts_at"), "intake_attempts", ["at"], unique=False)
    op.create_index(
        "ix_intake_attempts_lookup", "intake_attempts", ["kind", "key_hash", "at"], unique=False
    )


def downgrade() -> None:
    """Drop the verification tables."""
    op.drop_index("ix_intake_attempts_lookup", table_name="intake_attempts")
    op.drop_index(op.f("ix_intake_attempts_at"), table_name="intake_attempts")
    op.drop_table("intake_attempts")
    op.drop_index(
        op.f("ix_verification_challenges_request_id"), table_name="verification_challenges"
    )
    op.drop_table("verification_challenges")
