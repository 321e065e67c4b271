"""What the learning loop stores: the questions asked (unanswered or 👎), what owners taught, what they dealt with.

Stored questions carry no user: owners see the wording, a count and a date, never who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.knowledge.ngrams import text_key
from bot.storage import Database
from bot.storage.tables import feedback, learned_phrasings, question_log, question_reviews, unanswered

LINKED, OUTSIDE, IGNORED = "linked", "outside", "ignored"


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AskedQuestion:
    """One question someone asked that the guidance did not answer, or whose answer got 👎."""

    text: str
    lang: str
    at: datetime
    thumbs_down: bool


@dataclass(frozen=True)
class LearnedPhrasing:
    id: int
    entry_id: str | None  # None: a question the guidance does not answer
    question: str
    lang: str
    added_by: str
    added_at: datetime


class LearningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def version(self) -> tuple[int, int]:
        """Changes whenever a phrasing is added or removed: (how many, the newest id). One cheap query."""
        async with self.db.e.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(learned_phrasings.c.id), func.max(learned_phrasings.c.id)).where(
                        learned_phrasings.c.entry_id.is_not(None)
                    )
                )
            ).one()
        return int(row[0] or 0), int(row[1] or 0)

    async def phrasings(self, entry_id: str | None = None, *, outside: bool = False) -> list[LearnedPhrasing]:
        """Learned phrasings, oldest first: all that name an entry, one entry's, or (outside) those that name none."""
        query = select(learned_phrasings).order_by(learned_phrasings.c.id)
        if outside:
            query = query.where(learned_phrasings.c.entry_id.is_(None))
        elif entry_id is not None:
            query = query.where(learned_phrasings.c.entry_id == entry_id)
        else:
            query = query.where(learned_phrasings.c.entry_id.is_not(None))
        async with self.db.e.connect() as conn:
            rows = await conn.execute(query)
            return [
                LearnedPhrasing(
                    r.id, r.entry_id, r.question, r.lang, r.added_by_name or r.added_by_aad or "?", _aware(r.added_at)
                )
                for r in rows
            ]

    async def learn(
        self,
        conn: AsyncConnection,
        entry_id: str | None,
        wordings: list[tuple[str, str]],
        by_aad: str | None,
        by_name: str | None,
        at: datetime,
    ) -> int:
        """Store (lang, wording) pairs for an entry (None: outside the guidance), skipping ones already stored."""
        known = set(
            (
                await conn.execute(
                    select(learned_phrasings.c.question).where(
                        learned_phrasings.c.entry_id.is_(None)
                        if entry_id is None
                        else learned_phrasings.c.entry_id == entry_id
                    )
                )
            ).scalars()
        )
        known_keys = {text_key(q) for q in known}
        added = 0
        for lang, wording in wordings:
            key = text_key(wording)
            if not key or key in known_keys:
                continue
            known_keys.add(key)
            await conn.execute(
                insert(learned_phrasings).values(
                    entry_id=entry_id,
                    question=wording[:500],
                    lang=lang if lang in ("sv", "en") else "sv",
                    added_by_aad=by_aad,
                    added_by_name=by_name,
                    added_at=at,
                )
            )
            added += 1
        return added

    async def get(self, phrasing_id: int) -> LearnedPhrasing | None:
        async with self.db.e.connect() as conn:
            row = (await conn.execute(select(learned_phrasings).where(learned_phrasings.c.id == phrasing_id))).first()
        if row is None:
            return None
        return LearnedPhrasing(
            row.id, row.entry_id, row.question, row.lang, row.added_by_name or "?", _aware(row.added_at)
        )

    async def remove(self, conn: AsyncConnection, phrasing_id: int) -> bool:
        result = await conn.execute(delete(learned_phrasings).where(learned_phrasings.c.id == phrasing_id))
        return bool(result.rowcount)

    async def clear(self, ids: list[int]) -> None:
        """Delete exported phrasings (only those written out, so one added meanwhile stays)."""
        async with self.db.e.begin() as conn:
            for start in range(0, len(ids), 500):
                await conn.execute(
                    delete(learned_phrasings).where(learned_phrasings.c.id.in_(ids[start : start + 500]))
                )

    # ---- the questions owners review -------------------------------------------------------------

    async def asked_since(self, since: datetime) -> list[AskedQuestion]:
        """Unanswered and 👎 questions since `since`, newest first, without those an owner already dealt with."""
        async with self.db.e.connect() as conn:
            reviewed = set((await conn.execute(select(question_reviews.c.question_key))).scalars())
            found = [
                AskedQuestion(r.question, r.lang, _aware(r.created_at), False)
                for r in await conn.execute(
                    select(unanswered.c.question, unanswered.c.lang, unanswered.c.created_at).where(
                        unanswered.c.created_at >= since
                    )
                )
            ]
            found += [
                AskedQuestion(r.question, r.lang, _aware(r.created_at), True)
                for r in await conn.execute(
                    select(feedback.c.question, feedback.c.lang, feedback.c.created_at).where(
                        feedback.c.created_at >= since, feedback.c.helpful.is_(False), feedback.c.question != ""
                    )
                )
            ]
        found = [q for q in found if text_key(q.text) not in reviewed]
        found.sort(key=lambda q: q.at, reverse=True)
        return found

    async def mark_reviewed(self, conn: AsyncConnection, wordings: list[str], action: str, at: datetime) -> int:
        """Record that these wordings were dealt with; returns how many were not already."""
        keys = {text_key(w)[:512] for w in wordings} - {""}
        done = set(
            (
                await conn.execute(
                    select(question_reviews.c.question_key).where(question_reviews.c.question_key.in_(keys))
                )
            ).scalars()
        )
        for key in sorted(keys - done):
            await conn.execute(insert(question_reviews).values(question_key=key, action=action, reviewed_at=at))
        return len(keys - done)

    async def delete_older_than(self, conn: AsyncConnection, cutoff: datetime) -> dict[str, int]:
        """Retention: stored questions (unanswered, 👍/👎 with their wording, the review marks) older than cutoff."""
        counts = {}
        for name, table, column in (
            ("unanswered", unanswered, unanswered.c.created_at),
            ("feedback", feedback, feedback.c.created_at),
            ("reviews", question_reviews, question_reviews.c.reviewed_at),
            ("asked", question_log, question_log.c.created_at),
        ):
            result = await conn.execute(delete(table).where(column < cutoff))
            counts[name] = result.rowcount or 0
        return counts
