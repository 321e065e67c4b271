"""Content owners' learned phrasings and the wordings they dealt with (bot/learning).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_phrasings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(128), nullable=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("added_by_aad", sa.String(64), nullable=True),
        sa.Column("added_by_name", sa.String(256), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_learned_phrasings_entry_id", "learned_phrasings", ["entry_id"], unique=False)
    op.create_table(
        "question_reviews",
        sa.Column("question_key", sa.String(512), primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_question_reviews_reviewed_at", "question_reviews", ["reviewed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_question_reviews_reviewed_at", table_name="question_reviews")
    op.drop_table("question_reviews")
    op.drop_index("ix_learned_phrasings_entry_id", table_name="learned_phrasings")
    op.drop_table("learned_phrasings")
