"""Index snapshots shared by bot replicas in Chroma server mode: each snapshot's files as one
archive, and the pointer to the one replicas answer from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.records.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_snapshots",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("archive", sa.LargeBinary),
        sa.CheckConstraint("state IN ('building', 'published')", name="state_known"),
    )
    op.create_table(
        "index_current",
        sa.Column("slot", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(64), sa.ForeignKey("index_snapshots.name"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_current")
    op.drop_table("index_snapshots")
