"""Answer feedback and unanswered questions, so content owners see where the guidance falls short."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import feedback, question_log, unanswered

# Answered questions are counted in batches: a write per answer would cost a fifth of a turn's CPU. A replica
# writes its counts when this many are waiting or the oldest is this old, with any unanswered question, before
# a content report and at shutdown; a crash loses at most these counts (statistics, not the questions).
LOG_BATCH = 100
LOG_DELAY = timedelta(seconds=10)


class FeedbackRepository:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._pending: list[dict[str, Any]] = []
        self._oldest: datetime | None = None

    async def record_feedback(self, entry_id: str | None, question: str, helpful: bool, lang: str) -> None:
        async with self._db.e.begin() as conn:
            await conn.execute(
                insert(feedback).values(
                    entry_id=entry_id,
                    question=question[:1000],
                    helpful=helpful,
                    lang=lang,
                    created_at=self._clock.now(),
                )
            )

    async def record_answered(self, entry_id: str | None) -> None:
        """That a question was answered, and by which entry: no text, no user (for the content report)."""
        now = self._clock.now()
        self._pending.append({"entry_id": entry_id, "answered": True, "created_at": now})
        self._oldest = self._oldest or now
        if len(self._pending) >= LOG_BATCH or now - self._oldest >= LOG_DELAY:
            await self.flush()

    async def flush(self) -> None:
        """Write the answered questions still counted in memory."""
        if self._pending:
            async with self._db.e.begin() as conn:
                await self._write_pending(conn)

    async def _write_pending(self, conn: AsyncConnection) -> None:
        rows, self._pending, self._oldest = self._pending, [], None
        if rows:
            await conn.execute(insert(question_log), rows)

    async def record_unanswered(self, question: str, best_entry_id: str | None, score: float, lang: str) -> None:
        async with self._db.e.begin() as conn:
            await self._write_pending(conn)
            await conn.execute(
                insert(question_log).values(entry_id=best_entry_id, answered=False, created_at=self._clock.now())
            )
            await conn.execute(
                insert(unanswered).values(
                    question=question[:1000],
                    best_entry_id=best_entry_id,
                    score=f"{score:.3f}",
                    lang=lang,
                    created_at=self._clock.now(),
                )
            )
