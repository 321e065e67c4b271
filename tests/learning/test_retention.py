"""Retention: stored questions are deleted after QUESTION_RETENTION_DAYS by the daily clean-up on the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import CLEANUP_JOB
from bot.broadcast.audit import audit_entries
from bot.clock import ManualClock
from bot.storage.tables import feedback, job_runs, unanswered
from tests.broadcast.helpers import EMPLOYEE_ID
from tests.learning.conftest import ChatFactory

OLD = "vem betalar mitt bredband hemma"
NEW = "hur bokar jag ett mötesrum"


async def count(chat, table) -> int:  # type: ignore[no-untyped-def]
    async with chat.services.db.e.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)))


async def test_a_question_older_than_the_retention_time_is_gone_after_the_daily_clean_up(
    new_chat: ChatFactory, clock: ManualClock
) -> None:
    chat = await new_chat()
    clock.set(datetime(2026, 8, 1, 12, 0, tzinfo=UTC))
    await chat.post_text(EMPLOYEE_ID, OLD)
    await chat.submit(EMPLOYEE_ID, {"action": "feedback", "helpful": False, "question": OLD, "lang": "sv"})
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    await chat.post_text(EMPLOYEE_ID, NEW)
    assert await count(chat, unanswered) == 2

    # The night of 31 October, 03:00 in Stockholm (02:00 UTC): more than 90 days after 1 August at noon.
    clock.set(datetime(2026, 10, 31, 2, 30, tzinfo=UTC))
    runs = await chat.services.extras["broadcast"].scheduler.run_due(clock.now())
    assert [r.job_id for r in runs] == [CLEANUP_JOB]
    assert await count(chat, unanswered) == 1
    assert await count(chat, feedback) == 0

    async with chat.services.db.e.connect() as conn:
        left = list((await conn.execute(select(unanswered.c.question))).scalars())
        fired = await conn.scalar(select(func.count()).select_from(job_runs).where(job_runs.c.job_id == CLEANUP_JOB))
    assert left == [NEW]
    assert fired == 1
    # Fired once per night, whichever replica wakes first.
    assert await chat.services.extras["broadcast"].scheduler.run_due(clock.now() + timedelta(minutes=5)) == []
    [entry] = [e for e in await audit_entries(chat.services.db) if e.action == "retention"]
    assert entry.target_count == 3  # the question, its 👎, and its row in the question log
    assert entry.detail["unanswered"] == 1
    assert entry.detail["asked"] == 1
