"""Answer feedback and unanswered questions, so content owners see where the guidance falls short."""

from __future__ import annotations

from sqlalchemy import insert

from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import feedback, question_log, unanswered


class FeedbackRepository:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

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
        async with self._db.e.begin() as conn:
            await conn.execute(
                insert(question_log).values(entry_id=entry_id, answered=True, created_at=self._clock.now())
            )

    async def record_unanswered(self, question: str, best_entry_id: str | None, score: float, lang: str) -> None:
        async with self._db.e.begin() as conn:
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
