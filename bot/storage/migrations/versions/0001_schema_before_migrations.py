"""The schema as create_all made it before there were migrations (twelve tables).

A database made by that code is adopted here: the tables it already has are kept, with their rows, after a check
that they have every column; the ones it lacks (it was made by an older version) are created.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 18:04:56
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_existing: set[str] = set()


def _table(name: str, *elements: Any, indexes: Sequence[tuple[str, list[str]]] = ()) -> None:
    if name in _existing:
        wanted = {e.name for e in elements if isinstance(e, sa.Column)}
        found = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(name)}
        if wanted - found:
            raise RuntimeError(f"table {name} exists without the columns {sorted(wanted - found)}: not adopted")
        return
    op.create_table(name, *elements)
    for index, columns in indexes:
        op.create_index(index, name, columns, unique=False)


def upgrade() -> None:
    _existing.clear()
    if not context.is_offline_mode():
        _existing.update(sa.inspect(op.get_bind()).get_table_names())
    _table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_aad", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=256), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_audit_log_at", ["at"])],
    )
    _table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("author_aad", sa.String(length=64), nullable=True),
        sa.Column("report_to", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_broadcasts_finished_at", ["finished_at"])],
    )
    _table(
        "conversation_refs",
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("conversation_type", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.String(length=512), nullable=True),
        sa.Column("user_aad", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=256), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lagesbild_subscribed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
        indexes=[("ix_conversation_refs_user_aad", ["user_aad"])],
    )
    _table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _table(
        "job_runs",
        sa.Column("job_id", sa.String(length=128), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_by", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "scheduled_for"),
    )
    _table(
        "kv_store",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _table(
        "lagesbild_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("author_aad", sa.String(length=64), nullable=True),
        sa.Column("author_name", sa.String(length=256), nullable=True),
        sa.Column("author_conversation", sa.String(length=512), nullable=True),
        sa.Column("for_slot", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_lagesbild_reports_state", ["state"])],
    )
    _table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=True),
        sa.Column("label", sa.String(length=256), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=512), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activity_id", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "conversation_id", name="uq_outbox_broadcast_conversation"),
        indexes=[("ix_outbox_broadcast_id", ["broadcast_id"]), ("ix_outbox_due", ["state", "next_attempt_at"])],
    )
    _table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=128), nullable=False),
        sa.Column("author_aad", sa.String(length=64), nullable=True),
        sa.Column("author_name", sa.String(length=256), nullable=True),
        sa.Column("author_conversation", sa.String(length=512), nullable=True),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("weekdays", sa.String(length=32), nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_reminders_author_aad", ["author_aad"]), ("ix_reminders_state", ["state"])],
    )
    _table(
        "turn_journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_key", sa.String(length=600), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("auth", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_turn_journal_claim", ["claim_expires_at"])],
    )
    _table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("best_entry_id", sa.String(length=128), nullable=True),
        sa.Column("score", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _table(
        "walkthrough_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("walkthrough_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_walkthrough_results_owner", ["owner"])],
    )


def downgrade() -> None:
    for name in (
        "walkthrough_results",
        "unanswered_questions",
        "turn_journal",
        "reminders",
        "outbox",
        "lagesbild_reports",
        "kv_store",
        "job_runs",
        "feedback",
        "conversation_refs",
        "broadcasts",
        "audit_log",
    ):
        op.drop_table(name)  # drops the table's indexes with it
