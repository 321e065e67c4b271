"""The content report: questions asked per entry (no text, no user) and owners who turned the digest off.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(128), nullable=True),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_question_log_entry_id", "question_log", ["entry_id"], unique=False)
    op.create_index("ix_question_log_created_at", "question_log", ["created_at"], unique=False)
    op.create_table(
        "digest_optouts",
        sa.Column("aad", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_optouts")
    op.drop_index("ix_question_log_created_at", table_name="question_log")
    op.drop_index("ix_question_log_entry_id", table_name="question_log")
    op.drop_table("question_log")
