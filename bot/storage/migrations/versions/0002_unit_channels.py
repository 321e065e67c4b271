"""Channels linked to a unit by a command typed in the channel (bot/broadcast/unit_links.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_channels",
        sa.Column("channel_id", sa.String(256), primary_key=True),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("linked_by_aad", sa.String(64), nullable=True),
        sa.Column("linked_by_name", sa.String(256), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unit_channels_unit_id", "unit_channels", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_unit_channels_unit_id", table_name="unit_channels")
    op.drop_table("unit_channels")
