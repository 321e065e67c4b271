"""Ambassadors' reminders: stored once or weekly until a date, listed, and cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.outbox import aware
from bot.broadcast.reminder_syntax import ReminderRequest
from bot.broadcast.schedule_math import WeeklyRule
from bot.storage import Database
from bot.storage.tables import reminders

ACTIVE = "active"
DONE = "done"
CANCELLED = "cancelled"
MISSED = "missed"  # a once reminder whose time passed while the service was down beyond grace


@dataclass(frozen=True)
class Reminder:
    id: int
    unit_id: str
    author_aad: str | None
    author_name: str | None
    author_conversation: str | None
    template_id: str | None
    text: str | None
    kind: str  # once | weekly
    run_at: datetime | None
    weekdays: frozenset[int]
    at: time | None
    until: date | None
    state: str
    created_at: datetime

    @property
    def rule(self) -> WeeklyRule | None:
        return WeeklyRule(self.weekdays, self.at) if self.kind == "weekly" and self.at else None

    @property
    def job_id(self) -> str:
        return f"reminder:{self.id}"


def _reminder(row: Any) -> Reminder:
    at = time.fromisoformat(row.local_time) if row.local_time else None
    weekdays = frozenset(int(d) for d in row.weekdays.split(",")) if row.weekdays else frozenset()
    return Reminder(
        id=row.id,
        unit_id=row.unit_id,
        author_aad=row.author_aad,
        author_name=row.author_name,
        author_conversation=row.author_conversation,
        template_id=row.template_id,
        text=row.text,
        kind=row.kind,
        run_at=aware(row.run_at),
        weekdays=weekdays,
        at=at,
        until=row.until,
        state=row.state,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
    )


class ReminderStore:
    """The reminders table; every create and cancel is audited in its own transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, request: ReminderRequest, unit_id: str, actor: Actor, conversation_id: str | None, now: datetime
    ) -> Reminder:
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                reminders.insert()
                .values(
                    unit_id=unit_id,
                    author_aad=actor.aad,
                    author_name=actor.name,
                    author_conversation=conversation_id,
                    template_id=request.template_id,
                    text=request.text,
                    kind=request.kind,
                    run_at=request.run_at,
                    weekdays=",".join(str(d) for d in sorted(request.weekdays)) or None,
                    local_time=request.at.strftime("%H:%M") if request.at else None,
                    until=request.until,
                    state=ACTIVE,
                    created_at=now,
                )
                .returning(reminders.c.id)
            )
            reminder_id = int(result.scalar_one())
            await audit(conn, now, actor, "schedule", f"reminder:{reminder_id}", None, unit=unit_id, kind=request.kind)
            row = (await conn.execute(select(reminders).where(reminders.c.id == reminder_id))).one()
        return _reminder(row)

    async def get(self, reminder_id: int) -> Reminder | None:
        async with self._db.e.connect() as conn:
            row = (await conn.execute(select(reminders).where(reminders.c.id == reminder_id))).first()
        return _reminder(row) if row else None

    async def active(self, author_aad: str | None = None) -> list[Reminder]:
        """Active reminders, everyone's or one author's."""
        query = select(reminders).where(reminders.c.state == ACTIVE).order_by(reminders.c.id)
        if author_aad is not None:
            query = query.where(reminders.c.author_aad == author_aad.lower())
        async with self._db.e.connect() as conn:
            return [_reminder(r) for r in await conn.execute(query)]

    async def cancel(self, reminder_id: int, actor: Actor, now: datetime) -> bool:
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id, reminders.c.state == ACTIVE)
                .values(state=CANCELLED, cancelled_by=actor.aad)
            )
            if result.rowcount != 1:
                return False
            await audit(conn, now, actor, "cancel", f"reminder:{reminder_id}")
        return True

    async def is_active(self, conn: AsyncConnection, reminder_id: int) -> bool:
        state = await conn.scalar(select(reminders.c.state).where(reminders.c.id == reminder_id))
        return state == ACTIVE

    async def mark_done(self, conn: AsyncConnection, reminder_id: int) -> None:
        await conn.execute(
            update(reminders).where(reminders.c.id == reminder_id, reminders.c.state == ACTIVE).values(state=DONE)
        )
