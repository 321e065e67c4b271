"""The audit log: who published, scheduled, cancelled or sent what, when, and to how many.

Rows are written in the same transaction as the action they describe, so the log never claims
an action that did not happen, nor misses one that did. A refused privileged action has no
transaction of its own: `AuditLog.refused` writes its row alone, with `outcome: refused`, so that
an attempt leaves a trace as well as a success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import audit_log


@dataclass(frozen=True)
class Actor:
    aad: str | None
    name: str | None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "schemaläggaren")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_aad: str | None
    actor_name: str | None
    action: str
    subject: str
    target_count: int | None
    detail: dict[str, Any]


async def audit(
    conn: AsyncConnection,
    at: datetime,
    actor: Actor,
    action: str,
    subject: str,
    target_count: int | None = None,
    **detail: Any,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            at=at,
            actor_aad=actor.aad,
            actor_name=actor.name,
            action=action[:32],
            subject=subject[:128],
            target_count=target_count,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        )
    )


def _entry(r: Any) -> AuditEntry:
    try:
        detail = json.loads(r.detail or "{}")
    except ValueError:
        detail = {}
    return AuditEntry(r.at, r.actor_aad, r.actor_name, r.action, r.subject, r.target_count, detail)


async def audit_entries(db: Database, subject_prefix: str = "") -> list[AuditEntry]:
    """The log in order (used by tests and by anyone reviewing what went out)."""
    async with db.e.connect() as conn:
        query = select(audit_log).order_by(audit_log.c.id)
        if subject_prefix:
            query = query.where(audit_log.c.subject.startswith(subject_prefix))
        return [_entry(r) for r in await conn.execute(query)]


class AuditLog:
    """Audit rows that stand alone (refusals, reading the log), and the latest entries for HR."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, actor: Actor, action: str, subject: str, **detail: Any) -> None:
        async with self.db.e.begin() as conn:
            await audit(conn, self.clock.now(), actor, action, subject, **detail)

    async def refused(self, actor: Actor, action: str, subject: str, reason: str) -> None:
        """A privileged action someone tried and was not allowed: who, what, when, why not."""
        await self.record(actor, action, subject, outcome="refused", reason=reason)

    async def latest(self, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        async with self.db.e.connect() as conn:
            rows = await conn.execute(select(audit_log).order_by(desc(audit_log.c.id)).limit(limit))
            return [_entry(r) for r in rows]
