"""Finished walkthroughs per manager: saved on completion, listed, shown again and deleted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from botbuilder.core import TurnContext
from sqlalchemy import delete, insert, select

from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import walkthrough_results
from dialogs.engine import Result


def owner_key(turn: TurnContext) -> str:
    """A stable, non-reversible key for the user: their Entra id when Teams sends it, else the channel id."""
    user = turn.activity.from_property
    user_id = (getattr(user, "aad_object_id", None) or getattr(user, "id", None) or "") if user else ""
    return hashlib.sha256(f"{turn.activity.channel_id}:{user_id}".encode()).hexdigest()


@dataclass(frozen=True)
class SavedResult:
    id: int
    result: Result
    created: datetime


class ResultStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def save(self, owner: str, result: Result) -> SavedResult:
        created = self._clock.now()
        async with self._db.e.begin() as conn:
            res = await conn.execute(
                insert(walkthrough_results)
                .values(
                    owner=owner,
                    walkthrough_id=result.walkthrough_id,
                    data=json.dumps(result.to_dict(), ensure_ascii=False),
                    created_at=created,
                )
                .returning(walkthrough_results.c.id)
            )
            result_id = int(res.scalar_one())
        return SavedResult(result_id, result, created)

    async def of_owner(self, owner: str) -> list[SavedResult]:
        """Oldest first, so that a result keeps its number when new ones are added."""
        async with self._db.e.connect() as conn:
            rows = await conn.execute(
                select(walkthrough_results.c.id, walkthrough_results.c.data, walkthrough_results.c.created_at)
                .where(walkthrough_results.c.owner == owner)
                .order_by(walkthrough_results.c.created_at, walkthrough_results.c.id)
            )
            return [_saved(*row) for row in rows]

    async def get(self, owner: str, result_id: int) -> SavedResult | None:
        async with self._db.e.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        walkthrough_results.c.id, walkthrough_results.c.data, walkthrough_results.c.created_at
                    ).where(walkthrough_results.c.owner == owner, walkthrough_results.c.id == result_id)
                )
            ).first()
        return _saved(*row) if row else None

    async def delete(self, owner: str, result_id: int) -> bool:
        async with self._db.e.begin() as conn:
            res = await conn.execute(
                delete(walkthrough_results).where(
                    walkthrough_results.c.owner == owner, walkthrough_results.c.id == result_id
                )
            )
            return bool(res.rowcount)


def _saved(result_id: int, data: str, created: datetime) -> SavedResult:
    if created.tzinfo is None:  # SQLite gives back naive datetimes; we always store UTC
        created = created.replace(tzinfo=UTC)
    return SavedResult(result_id, Result.from_dict(json.loads(data)), created)
