"""The durable outbox: every send is a row before anything goes out, and rows are claimed with leases.

States: `pending` (waiting for its next attempt; a worker may hold it with a lease) and the final
`delivered`, `failed` (gave up, with the reason) and `gone` (403/404: the bot was removed).

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` picks due rows that no live lease
holds, and the same transaction writes claimed_by and the lease expiry; on SQLite one
`UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` does the same under SQLite's single writer.
A worker that dies leaves its leases to expire and another worker takes the rows over.

When the last row of a broadcast is final, the broadcast is finished exactly once (a guarded
UPDATE) and, in the same transaction, the author's delivery report is enqueued.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.schema import Activity
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.conversations import Target
from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import broadcasts, outbox

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
GONE = "gone"


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    broadcast_id: int
    conversation_id: str
    tenant_id: str | None
    label: str
    reference: dict[str, Any]
    activity: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class BroadcastSummary:
    """What the author's delivery report says."""

    broadcast_id: int
    kind: str
    subject: str
    title: str
    lang: str
    total: int
    delivered: int
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    gone: list[str] = field(default_factory=list)


ReportBuilder = Callable[[BroadcastSummary], Activity]


@dataclass(frozen=True)
class Enqueued:
    broadcast_id: int
    total: int
    reachable: int


class Outbox:
    """The outbox and broadcasts tables."""

    def __init__(self, db: Database, clock: Clock, report_builder: ReportBuilder) -> None:
        self._db = db
        self._clock = clock
        self._report = report_builder
        self.listeners: list[Callable[[], None]] = []  # woken when rows are enqueued (delivery workers)

    def notify(self) -> None:
        for listener in self.listeners:
            listener()

    # ---- writing ------------------------------------------------------------------------

    async def enqueue(
        self,
        conn: AsyncConnection,
        *,
        kind: str,
        subject: str,
        title: str,
        actor: Actor,
        targets: Sequence[Target],
        activity: Activity,
        lang: str,
        report_to: Target | None = None,
    ) -> Enqueued:
        """Write a broadcast and one row per target in the caller's transaction.

        Targets that cannot be reached are written final at once (gone, or failed for a channel
        the bot has never been added to), so the delivery report names them too.
        Call `notify()` after the transaction commits.
        """
        now = self._clock.now()
        unique = list({t.conversation_id: t for t in targets}.values())
        result = await conn.execute(
            insert(broadcasts)
            .values(
                kind=kind,
                subject=subject,
                title=title[:256],
                author_aad=actor.aad,
                report_to=json.dumps(_target_json(report_to)) if report_to and report_to.reference else None,
                lang=lang,
                total=len(unique),
                created_at=now,
            )
            .returning(broadcasts.c.id)
        )
        broadcast_id = int(result.scalar_one())
        payload = json.dumps(activity.serialize(), ensure_ascii=False)
        rows = []
        for target in unique:
            known = target.reference is not None
            rows.append(
                {
                    "broadcast_id": broadcast_id,
                    "conversation_id": target.conversation_id,
                    "tenant_id": target.tenant_id,
                    "label": target.label[:256],
                    "reference": json.dumps(target.reference) if known else None,
                    "activity": payload,
                    "state": PENDING if known else (GONE if target.problem == "gone" else FAILED),
                    "attempts": 0,
                    "last_error": None if known else _problem_text(target.problem),
                    "next_attempt_at": now,
                    "created_at": now,
                    "finished_at": None if known else now,
                }
            )
        if rows:
            await conn.execute(insert(outbox), rows)
        reachable = sum(1 for r in rows if r["state"] == PENDING)
        await audit(conn, now, actor, "send", subject, len(unique), broadcast=broadcast_id, reachable=reachable)
        if reachable == 0:
            await self._finish(conn, broadcast_id, now)
        return Enqueued(broadcast_id, len(unique), reachable)

    # ---- claiming -------------------------------------------------------------------------

    async def claim(self, worker_id: str, limit: int, lease: timedelta) -> list[OutboxRow]:
        """Take up to `limit` due rows that no live lease holds; the lease is ours until it expires."""
        if limit <= 0:
            return []
        now = self._clock.now()
        claimable = and_(
            outbox.c.state == PENDING,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.claim_expires_at.is_(None), outbox.c.claim_expires_at <= now),
        )
        order = (outbox.c.next_attempt_at, outbox.c.id)
        columns = (
            outbox.c.id,
            outbox.c.broadcast_id,
            outbox.c.conversation_id,
            outbox.c.tenant_id,
            outbox.c.label,
            outbox.c.reference,
            outbox.c.activity,
            outbox.c.attempts,
            outbox.c.next_attempt_at,
        )
        values = {"claimed_by": worker_id, "claim_expires_at": now + lease}
        if self._db.is_sqlite:
            # Look before taking the file's write lock: the worker polls every few seconds, usually to
            # find nothing, and an empty UPDATE would still hold up every other writer (turn state).
            async with self._db.e.connect() as conn:
                if (await conn.execute(select(outbox.c.id).where(claimable).limit(1))).first() is None:
                    return []
        async with self._db.e.begin() as conn:
            if self._db.is_sqlite:
                ids = select(outbox.c.id).where(claimable).order_by(*order).limit(limit).scalar_subquery()
                result = await conn.execute(
                    update(outbox).where(outbox.c.id.in_(ids), claimable).values(**values).returning(*columns)
                )
            else:
                picked = (
                    (
                        await conn.execute(
                            select(outbox.c.id)
                            .where(claimable)
                            .order_by(*order)
                            .limit(limit)
                            .with_for_update(skip_locked=True)
                        )
                    )
                    .scalars()
                    .all()
                )
                if not picked:
                    return []
                result = await conn.execute(
                    update(outbox).where(outbox.c.id.in_(picked)).values(**values).returning(*columns)
                )
            rows = sorted(result.all(), key=lambda r: (aware(r.next_attempt_at), r.id))
        return [
            OutboxRow(
                r.id,
                r.broadcast_id,
                r.conversation_id,
                r.tenant_id,
                r.label or r.conversation_id,
                json.loads(r.reference),
                json.loads(r.activity),
                r.attempts,
            )
            for r in rows
        ]

    async def _settle(self, row: OutboxRow, worker_id: str, **values: Any) -> bool:
        """Write an outcome for a row we hold; False if our lease was lost to another worker."""
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.claimed_by == worker_id, outbox.c.state == PENDING)
                .values(claimed_by=None, claim_expires_at=None, **values)
            )
            return bool(result.rowcount)

    async def postpone(self, row: OutboxRow, worker_id: str, until: datetime) -> bool:
        """Give a row back untried (a rate limit would hold it too long)."""
        return await self._settle(row, worker_id, next_attempt_at=until)

    async def delivered(self, row: OutboxRow, worker_id: str, activity_id: str | None) -> bool:
        now = self._clock.now()
        return await self._settle(
            row,
            worker_id,
            state=DELIVERED,
            attempts=row.attempts + 1,
            activity_id=activity_id,
            last_error=None,
            finished_at=now,
        )

    async def retry_later(self, row: OutboxRow, worker_id: str, error: str, at: datetime) -> bool:
        return await self._settle(row, worker_id, attempts=row.attempts + 1, last_error=error[:512], next_attempt_at=at)

    async def failed(self, row: OutboxRow, worker_id: str, error: str) -> bool:
        now = self._clock.now()
        return await self._settle(
            row, worker_id, state=FAILED, attempts=row.attempts + 1, last_error=error[:512], finished_at=now
        )

    async def gone(self, row: OutboxRow, worker_id: str, error: str) -> list[int]:
        """This row's conversation answered 403/404: it and the conversation's other waiting rows are gone.

        Returns the broadcasts whose rows changed, so their reports can be finished.
        """
        now = self._clock.now()
        await self._settle(
            row, worker_id, state=GONE, attempts=row.attempts + 1, last_error=error[:512], finished_at=now
        )
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.conversation_id == row.conversation_id,
                    outbox.c.state == PENDING,
                    or_(outbox.c.claim_expires_at.is_(None), outbox.c.claim_expires_at <= now),
                )
                .values(state=GONE, last_error="bot removed from the conversation", finished_at=now)
                .returning(outbox.c.broadcast_id)
            )
            return sorted({row.broadcast_id, *(r.broadcast_id for r in result)})

    async def release(self, worker_id: str) -> int:
        """Give back every lease we hold (a graceful stop), so another instance need not wait."""
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.claimed_by == worker_id, outbox.c.state == PENDING)
                .values(claimed_by=None, claim_expires_at=None)
            )
            return int(result.rowcount)

    # ---- reading --------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        """When the earliest pending row becomes claimable (None when nothing is pending)."""
        now = self._clock.now()
        async with self._db.e.connect() as conn:
            free = await conn.scalar(
                select(func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.state == PENDING,
                    or_(outbox.c.claim_expires_at.is_(None), outbox.c.claim_expires_at <= now),
                )
            )
            held = await conn.scalar(
                select(func.min(outbox.c.claim_expires_at)).where(
                    outbox.c.state == PENDING, outbox.c.claim_expires_at > now
                )
            )
        moments = [m for m in (aware(free), aware(held)) if m is not None]
        return min(moments) if moments else None

    async def counts(self) -> dict[str, int]:
        async with self._db.e.connect() as conn:
            rows = await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
            return {state: int(n) for state, n in rows}

    async def summary(self, broadcast_id: int) -> BroadcastSummary:
        async with self._db.e.connect() as conn:
            return await self._summary(conn, broadcast_id)

    async def _summary(self, conn: AsyncConnection, broadcast_id: int) -> BroadcastSummary:
        head = (await conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))).one()
        rows = (
            await conn.execute(
                select(outbox.c.state, outbox.c.label, outbox.c.conversation_id, outbox.c.last_error)
                .where(outbox.c.broadcast_id == broadcast_id)
                .order_by(outbox.c.id)
            )
        ).all()
        return BroadcastSummary(
            broadcast_id=broadcast_id,
            kind=head.kind,
            subject=head.subject,
            title=head.title,
            lang=head.lang,
            total=head.total,
            delivered=sum(1 for r in rows if r.state == DELIVERED),
            failed=[(r.label or r.conversation_id, r.last_error or "") for r in rows if r.state == FAILED],
            gone=[r.label or r.conversation_id for r in rows if r.state == GONE],
        )

    # ---- finishing ------------------------------------------------------------------------

    async def finish_if_done(self, broadcast_id: int) -> bool:
        """Finish the broadcast if none of its rows is pending; True only for the caller that did."""
        async with self._db.e.begin() as conn:
            pending = await conn.scalar(
                select(func.count()).where(outbox.c.broadcast_id == broadcast_id, outbox.c.state == PENDING)
            )
            if pending:
                return False
            finished = await self._finish(conn, broadcast_id, self._clock.now())
        if finished:
            self.notify()
        return finished

    async def finish_completed(self) -> int:
        """Finish every broadcast left unfinished (a worker died between its last row and the report)."""
        async with self._db.e.connect() as conn:
            open_ids = (
                (await conn.execute(select(broadcasts.c.id).where(broadcasts.c.finished_at.is_(None)))).scalars().all()
            )
        finished = 0
        for broadcast_id in open_ids:
            finished += await self.finish_if_done(broadcast_id)
        return finished

    async def _finish(self, conn: AsyncConnection, broadcast_id: int, now: datetime) -> bool:
        result = await conn.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.finished_at.is_(None))
            .values(finished_at=now)
        )
        if result.rowcount != 1:
            return False
        summary = await self._summary(conn, broadcast_id)
        await audit(
            conn,
            now,
            Actor.system(),
            "delivered",
            summary.subject,
            summary.delivered,
            broadcast=broadcast_id,
            failed=len(summary.failed),
            gone=len(summary.gone),
        )
        report_to = await conn.scalar(select(broadcasts.c.report_to).where(broadcasts.c.id == broadcast_id))
        if report_to:
            target = Target(**json.loads(report_to))
            await self.enqueue(
                conn,
                kind="report",
                subject=f"report:{broadcast_id}",
                title=f"report:{summary.title}",
                actor=Actor.system(),
                targets=[target],
                activity=self._report(summary),
                lang=summary.lang,
            )
        return True


def _target_json(target: Target) -> dict[str, Any]:
    return {
        "conversation_id": target.conversation_id,
        "tenant_id": target.tenant_id,
        "label": target.label,
        "reference": target.reference,
    }


def _problem_text(problem: str | None) -> str:
    if problem == "gone":
        return "bot removed from the conversation"
    return "unknown conversation: the bot has not been added there"
