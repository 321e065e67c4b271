"""Answer feedback and unanswered questions, so content owners see where the guidance falls short."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, insert, select

from bot.clock import Clock
from bot.db import Database
from bot.db.tables import feedback, unanswered


@dataclass(frozen=True)
class FeedbackSummary:
    entry_id: str | None
    helpful: int
    not_helpful: int


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

    async def record_unanswered(self, question: str, best_entry_id: str | None, score: float, lang: str) -> None:
        async with self._db.e.begin() as conn:
            await conn.execute(
                insert(unanswered).values(
                    question=question[:1000],
                    best_entry_id=best_entry_id,
                    score=f"{score:.3f}",
                    lang=lang,
                    created_at=self._clock.now(),
                )
            )

    async def summary(self) -> list[FeedbackSummary]:
        helpful = func.sum(cast(feedback.c.helpful, Integer))
        async with self._db.e.connect() as conn:
            rows = await conn.execute(select(feedback.c.entry_id, func.count(), helpful).group_by(feedback.c.entry_id))
            return [FeedbackSummary(entry, int(up or 0), int(total) - int(up or 0)) for entry, total, up in rows]

    async def unanswered_questions(self, limit: int = 100) -> list[tuple[str, str]]:
        async with self._db.e.connect() as conn:
            rows = await conn.execute(
                select(unanswered.c.question, unanswered.c.created_at).order_by(unanswered.c.id.desc()).limit(limit)
            )
            return [(q, str(ts)) for q, ts in rows]
