"""All tables, in one metadata, so that every backend gets the same schema."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# botbuilder Storage: conversation, user and dialog state, keyed by botbuilder's storage keys.
kv_store = Table(
    "kv_store",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("etag", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Thumbs up/down on answers: which entry, for which question, helped or not.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(128), nullable=True),
    Column("question", Text, nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Questions the guidance did not answer, so content owners can see the gaps.
unanswered = Table(
    "unanswered_questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("best_entry_id", String(128), nullable=True),
    Column("score", String(16), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Finished walkthroughs (checklists), kept until the manager deletes them. The owner is a hash
# of the user's id, and `data` is only the rendered result: what the manager typed, nothing more.
walkthrough_results = Table(
    "walkthrough_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("walkthrough_id", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# ---- broadcasts (bot/broadcast): lägesbild, ambassadors' reminders and their delivery ----------

# Where the bot can speak: one conversation reference per conversation it was added to or spoken in.
conversation_refs = Table(
    "conversation_refs",
    metadata,
    Column("conversation_id", String(512), primary_key=True),
    Column("conversation_type", String(32), nullable=False),
    Column("tenant_id", String(128), nullable=True),
    Column("team_id", String(512), nullable=True),
    Column("user_aad", String(64), nullable=True, index=True),  # personal chats: whose chat it is
    Column("label", String(256), nullable=True),
    Column("reference", Text, nullable=False),  # ConversationReference as JSON
    Column("state", String(16), nullable=False),  # active | gone
    Column("lagesbild_subscribed", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# HR's weekly situation reports: draft -> ready (for a slot) -> published; or discarded.
lagesbild_reports = Table(
    "lagesbild_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week", String(32), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("sections", Text, nullable=False),  # JSON {section_id: text}
    Column("state", String(16), nullable=False, index=True),
    Column("author_aad", String(64), nullable=True),
    Column("author_name", String(256), nullable=True),
    Column("author_conversation", String(512), nullable=True),
    Column("for_slot", DateTime(timezone=True), nullable=True),
    Column("broadcast_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)

# Ambassadors' reminders to their unit's channels, once or weekly until a date.
reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", String(128), nullable=False),
    Column("author_aad", String(64), nullable=True, index=True),
    Column("author_name", String(256), nullable=True),
    Column("author_conversation", String(512), nullable=True),
    Column("template_id", String(64), nullable=True),
    Column("text", Text, nullable=True),
    Column("kind", String(16), nullable=False),  # once | weekly
    Column("run_at", DateTime(timezone=True), nullable=True),  # once
    Column("weekdays", String(32), nullable=True),  # weekly: "0,3" (Monday=0)
    Column("local_time", String(5), nullable=True),  # weekly: "09:00" in the configured timezone
    Column("until", Date, nullable=True),  # weekly: last local date, inclusive
    Column("state", String(16), nullable=False, index=True),  # active | done | cancelled
    Column("cancelled_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One send to many conversations (a published lägesbild, a reminder, a delivery report).
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=False),  # e.g. "lagesbild:12", "reminder:3"
    Column("title", String(256), nullable=False),  # what the author's delivery report calls it
    Column("author_aad", String(64), nullable=True),
    Column("report_to", Text, nullable=True),  # ConversationReference JSON for the delivery report
    Column("lang", String(8), nullable=False),
    Column("total", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True, index=True),
)

# The durable outbox: every single send is a row here before anything goes out.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("broadcast_id", Integer, nullable=False, index=True),
    Column("conversation_id", String(512), nullable=False),
    Column("tenant_id", String(128), nullable=True),
    Column("label", String(256), nullable=True),
    Column("reference", Text, nullable=True),
    Column("activity", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed | gone
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(512), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claim_expires_at", DateTime(timezone=True), nullable=True),
    Column("activity_id", String(256), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("broadcast_id", "conversation_id", name="uq_outbox_broadcast_conversation"),
    Index("ix_outbox_due", "state", "next_attempt_at"),
)

# Exactly-once firing of scheduled jobs: the row is inserted in the transaction that does the job.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job_id", String(128), primary_key=True),
    Column("scheduled_for", DateTime(timezone=True), primary_key=True),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("fired_by", String(64), nullable=False),
    Column("outcome", String(128), nullable=False),
)

# Who published, scheduled, cancelled or sent what, when, and to how many.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_aad", String(64), nullable=True),
    Column("actor_name", String(256), nullable=True),
    Column("action", String(32), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("target_count", Integer, nullable=True),
    Column("detail", Text, nullable=True),
)

# Messages acknowledged to the channel before their turn ran (bot/transport/turn_journal.py). A row lives
# from the acknowledgement until the turn finished; a row whose claim expired is replayed.
turn_journal = Table(
    "turn_journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(600), nullable=False),
    Column("activity", Text, nullable=False),  # the request body as the channel sent it
    Column("auth", Text, nullable=False),  # the claims the request was authenticated with (no token)
    Column("attempts", Integer, nullable=False, default=1),
    Column("claimed_by", String(64), nullable=False),
    Column("claim_expires_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # Replies the connector accepted so far: a replay skips that many (added after the table; see database.py).
    Column("replies_sent", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_turn_journal_claim", "claim_expires_at"),
)

# Channels linked to a unit by a command in the channel (bot/broadcast/unit_links.py), beside the ones
# units.yaml pins. One unit per channel; linking again moves it, unlinking deletes the row (both audited).
unit_channels = Table(
    "unit_channels",
    metadata,
    Column("channel_id", String(256), primary_key=True),
    Column("unit_id", String(64), nullable=False, index=True),
    Column("linked_by_aad", String(64), nullable=True),
    Column("linked_by_name", String(256), nullable=True),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

# What content owners taught the bot (bot/learning): a wording linked to the entry that answers it (a learned
# phrasing, live on every replica at once), or with no entry, a question the guidance does not answer (an
# out-of-scope example for the next refit). `python -m bot export-learned` moves them into content/ and deletes them.
learned_phrasings = Table(
    "learned_phrasings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(128), nullable=True, index=True),
    Column("question", Text, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("added_by_aad", String(64), nullable=True),
    Column("added_by_name", String(256), nullable=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# Wordings a content owner has dealt with (linked, outside, ignored), by their folded text, so that the
# "obesvarade frågor" card no longer shows them. Deleted with the questions after the retention time.
question_reviews = Table(
    "question_reviews",
    metadata,
    Column("question_key", String(512), primary_key=True),
    Column("action", String(16), nullable=False),  # linked | outside | ignored
    Column("reviewed_at", DateTime(timezone=True), nullable=False, index=True),
)

# One row per question asked, without its text or who asked: which entry answered it (or was closest when none
# did) and whether it was answered, for the content report. Deleted after the retention time like the questions.
question_log = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(128), nullable=True, index=True),
    Column("answered", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# Content owners who turned the weekly digest off ("innehållsrapport av").
digest_optouts = Table(
    "digest_optouts",
    metadata,
    Column("aad", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
