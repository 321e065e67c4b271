"""Channels linked to a unit from Teams ("koppla kanalen till enhet ksf-hr"), stored and audited.

units.yaml still names the units and may pin channels; these links add channels without a developer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.outbox import aware
from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import unit_channels


@dataclass(frozen=True)
class UnitLink:
    channel_id: str
    unit_id: str
    linked_by: str | None
    linked_at: datetime | None


class UnitLinks:
    """The unit_channels table."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def link(self, channel_id: str, unit_id: str, actor: Actor) -> str | None:
        """Link the channel to the unit; returns the unit it was linked to before (None if none)."""
        now = self._clock.now()
        values = {"unit_id": unit_id, "linked_by_aad": actor.aad, "linked_by_name": actor.name, "linked_at": now}
        async with self._db.e.begin() as conn:
            previous = await conn.scalar(
                select(unit_channels.c.unit_id).where(unit_channels.c.channel_id == channel_id)
            )
            if previous == unit_id:
                return previous
            if previous is None:
                await conn.execute(insert(unit_channels).values(channel_id=channel_id, **values))
            else:
                await conn.execute(
                    update(unit_channels).where(unit_channels.c.channel_id == channel_id).values(**values)
                )
            await audit(conn, now, actor, "link", f"channel:{channel_id}"[:128], unit=unit_id, previous=previous)
        return previous

    async def unlink(self, channel_id: str, actor: Actor) -> str | None:
        """Undo: the unit the channel was linked to, or None when it was not."""
        now = self._clock.now()
        async with self._db.e.begin() as conn:
            unit_id = await conn.scalar(select(unit_channels.c.unit_id).where(unit_channels.c.channel_id == channel_id))
            if unit_id is None:
                return None
            await conn.execute(delete(unit_channels).where(unit_channels.c.channel_id == channel_id))
            await audit(conn, now, actor, "unlink", f"channel:{channel_id}"[:128], unit=unit_id)
        return str(unit_id)

    async def unit_of(self, channel_id: str) -> str | None:
        async with self._db.e.connect() as conn:
            found = await conn.scalar(select(unit_channels.c.unit_id).where(unit_channels.c.channel_id == channel_id))
        return str(found) if found else None

    async def all(self) -> list[UnitLink]:
        async with self._db.e.connect() as conn:
            rows = await conn.execute(
                select(unit_channels).order_by(unit_channels.c.unit_id, unit_channels.c.linked_at)
            )
            return [
                UnitLink(r.channel_id, r.unit_id, r.linked_by_name or r.linked_by_aad, aware(r.linked_at)) for r in rows
            ]

    @staticmethod
    async def channels_of(conn: AsyncConnection, unit_id: str) -> list[str]:
        rows = await conn.execute(select(unit_channels.c.channel_id).where(unit_channels.c.unit_id == unit_id))
        return [r.channel_id for r in rows]
