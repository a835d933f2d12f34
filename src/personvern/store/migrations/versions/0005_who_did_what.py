"""who_did_what: who asked for a run, a second person's approval, download links, file deletion.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the run requester and approval columns and the download links table."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.add_column(sa.Column("run_requested_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("request_artifacts") as batch:
        batch.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))
    op.create_table(
        "download_links",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("last_downloaded_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_subject_requests.id"],
            name=op.f("fk_download_links_request_id_data_subject_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_download_links_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_links")),
    )
    op.create_index(
        op.f("ix_download_links_request_id"), "download_links", ["request_id"], unique=False
    )


def downgrade() -> None:
    """Drop the download links table and the new request columns."""
    op.drop_index(op.f("ix_download_links_request_id"), table_name="download_links")
    op.drop_table("download_links")
    with op.batch_alter_table("request_artifacts") as batch:
        batch.drop_column("deleted_at")
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
        batch.drop_column("run_requested_by")
