"""Each journaled turn counts the replies the Bot Connector accepted, so that a replay skips them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("turn_journal") as batch:
        batch.add_column(sa.Column("replies_sent", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("turn_journal") as batch:
        batch.drop_column("replies_sent")
