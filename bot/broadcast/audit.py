"""The audit log: who published, scheduled, cancelled or sent what, when, and to how many.

Rows are written in the same transaction as the action they describe, so the log never claims
an action that did not happen, nor misses one that did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

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
            action=action,
            subject=subject,
            target_count=target_count,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        )
    )


async def audit_entries(db: Database, subject_prefix: str = "") -> list[AuditEntry]:
    """The log in order (used by tests and by anyone reviewing what went out)."""
    async with db.e.connect() as conn:
        query = select(audit_log).order_by(audit_log.c.id)
        if subject_prefix:
            query = query.where(audit_log.c.subject.startswith(subject_prefix))
        rows = await conn.execute(query)
        return [
            AuditEntry(
                r.at, r.actor_aad, r.actor_name, r.action, r.subject, r.target_count, json.loads(r.detail or "{}")
            )
            for r in rows
        ]
