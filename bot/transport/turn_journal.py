"""The turn journal: a message is written down before the channel is told we have it.

Acknowledging a message before its turn ran keeps a slow Bot Connector from holding the channel's
request open (bot/transport/channel.py), but a crash between the acknowledgement and the reply would lose
the message. So the request body and the claims it was authenticated with are stored first, in
the bot's own database, and the row is removed when the turn finished. A row whose claim ran out
(its replica died, or stopped before the turn ran) is claimed again and its turn replayed, by any
replica: at least once, never silently dropped. Removals are batched (`done`), so a crash can
replay the turns of the last moments before it; a turn that keeps failing is given up after
`max_attempts` tries, and that is logged.

While a turn runs, its replica renews the claim (`renew`), so a slow turn is never taken by another
replica while its owner is alive. Each reply the connector accepted is counted in the row within
SENT_FLUSH_DELAY (`note_sent`, batched with the removals), and a replay skips that many replies: only
a reply in flight, or accepted in the last few milliseconds, at the moment of a crash can reach the
user twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from bot.clock import Clock
from bot.storage import Database
from bot.storage.sqlite_inline import OneHop, sqlite_datetime
from bot.storage.tables import turn_journal

log = logging.getLogger(__name__)

DONE_FLUSH_DELAY = 0.05  # seconds: finished turns are removed in one statement per this window
SENT_FLUSH_DELAY = 0.005  # seconds: accepted replies are recorded in one transaction per this window


@dataclass(frozen=True)
class JournaledTurn:
    """A stored message whose turn has not finished: what is needed to run it again."""

    id: int
    conversation_key: str
    activity: dict[str, Any]
    auth: dict[str, Any]
    attempts: int
    replies_sent: int = 0
    received_at: datetime | None = None


def auth_record(result: AuthenticateRequestResult) -> dict[str, Any]:
    """What the authentication established, without the token itself."""
    identity = result.claims_identity
    return {
        "claims": dict(identity.claims or {}) if identity else {},
        "is_authenticated": bool(identity.is_authenticated) if identity else False,
        "authentication_type": identity.authentication_type if identity else None,
        "audience": result.audience,
        "caller_id": result.caller_id,
    }


def restore_auth(record: dict[str, Any]) -> AuthenticateRequestResult:
    """The authentication result of a journaled turn, less its connector factory (the caller adds it)."""
    result = AuthenticateRequestResult()
    result.claims_identity = ClaimsIdentity(
        record.get("claims") or {}, bool(record.get("is_authenticated")), record.get("authentication_type")
    )
    result.audience = record.get("audience")
    result.caller_id = record.get("caller_id")
    return result


def _insert(conn: Connection, row: dict[str, Any]) -> int:
    return int(conn.execute(insert(turn_journal).returning(turn_journal.c.id), row).scalar_one())


_INLINE_INSERT = (
    "INSERT INTO turn_journal"
    " (conversation_key, activity, auth, attempts, claimed_by, claim_expires_at, received_at, replies_sent)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INLINE_DELETE = "DELETE FROM turn_journal WHERE id IN ({marks})"
_INLINE_SENT = "UPDATE turn_journal SET replies_sent = ? WHERE id = ? AND replies_sent < ?"
_INLINE_RENEW = "UPDATE turn_journal SET claim_expires_at = ? WHERE claimed_by = ? AND id IN ({marks})"


def _insert_inline(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    cursor = conn.execute(
        _INLINE_INSERT,
        (
            row["conversation_key"],
            row["activity"],
            row["auth"],
            row["attempts"],
            row["claimed_by"],
            sqlite_datetime(row["claim_expires_at"]),
            sqlite_datetime(row["received_at"]),
            row["replies_sent"],
        ),
    )
    return int(cursor.lastrowid or 0)


def _record_sent(conn: Connection, entry_id: int, count: int) -> None:
    conn.execute(
        update(turn_journal)
        .where(turn_journal.c.id == entry_id, turn_journal.c.replies_sent < count)
        .values(replies_sent=count)
    )


def _batch(conn: Connection, ids: list[int], sent: dict[int, int]) -> None:
    for entry_id, count in sent.items():
        _record_sent(conn, entry_id, count)
    if ids:
        _delete(conn, ids)


def _renew(conn: Connection, ids: list[int], owner: str, until: datetime) -> None:
    conn.execute(
        update(turn_journal)
        .where(turn_journal.c.id.in_(ids), turn_journal.c.claimed_by == owner)
        .values(claim_expires_at=until)
    )


def _delete(conn: Connection, ids: list[int]) -> None:
    conn.execute(delete(turn_journal).where(turn_journal.c.id.in_(ids)))


def _release(conn: Connection, ids: list[int], owner: str, now: datetime) -> None:
    conn.execute(
        update(turn_journal)
        .where(turn_journal.c.id.in_(ids), turn_journal.c.claimed_by == owner)
        .values(claim_expires_at=now)
    )


def _claim(conn: Connection, owner: str, now: datetime, until: datetime, limit: int, skip_locked: bool) -> list[Any]:
    expired = turn_journal.c.claim_expires_at <= now
    pick = select(turn_journal.c.id).where(expired).order_by(turn_journal.c.id).limit(limit)
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    rows = conn.execute(
        update(turn_journal)
        .where(and_(turn_journal.c.id.in_(ids), expired))  # still expired: nobody claimed it meanwhile
        .values(claimed_by=owner, claim_expires_at=until, attempts=turn_journal.c.attempts + 1)
        .returning(
            turn_journal.c.id,
            turn_journal.c.conversation_key,
            turn_journal.c.activity,
            turn_journal.c.auth,
            turn_journal.c.attempts,
            turn_journal.c.replies_sent,
            turn_journal.c.received_at,
        )
    ).all()
    return sorted(rows, key=lambda r: r.id)


class TurnJournal:
    """The turn_journal table, for one replica (`owner`)."""

    def __init__(self, db: Database, clock: Clock, owner: str, lease: timedelta, max_attempts: int = 3) -> None:
        self._db = db
        self._clock = clock
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.max_attempts = max_attempts
        self._hop = OneHop(db)
        self._done: list[int] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._sent: dict[int, int] = {}  # replies accepted, by row, not yet written
        self._sent_task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()

    async def add(
        self, conversation_key: str, body: str, auth: dict[str, Any], *, replies_sent: int = 0, claimed: bool = True
    ) -> int:
        """Store a message before it is acknowledged; the row is claimed by this replica.

        `claimed=False` leaves it to the next sweep (of any replica): for a message this replica
        has no room to run now.
        """
        now = self._clock.now()
        row = {
            "conversation_key": conversation_key[:600],
            "activity": body,
            "auth": json.dumps(auth, separators=(",", ":")),
            "attempts": 1 if claimed else 0,
            "claimed_by": self.owner,
            "claim_expires_at": now + self.lease if claimed else now,
            "received_at": now,
            "replies_sent": replies_sent,
        }
        return await self._hop.write(lambda conn: _insert_inline(conn, row), _insert, row)

    async def record_sent(self, entry_id: int, count: int) -> None:
        """`count` replies of this turn were accepted by the connector: a replay skips them."""
        await self._hop.write(
            lambda conn: conn.execute(_INLINE_SENT, (count, entry_id, count)), _record_sent, entry_id, count
        )

    async def renew(self, ids: Sequence[int]) -> None:
        """Extend this replica's claims on rows whose turns are still running."""
        if not ids:
            return
        ids = list(ids)
        until = self._clock.now() + self.lease
        sql = _INLINE_RENEW.format(marks=",".join("?" * len(ids)))
        await self._hop.write(
            lambda conn: conn.execute(sql, (sqlite_datetime(until), self.owner, *ids)), _renew, ids, self.owner, until
        )

    def done(self, entry_id: int) -> None:
        """The turn finished: the row goes with the next batch (within DONE_FLUSH_DELAY)."""
        self._done.append(entry_id)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later(DONE_FLUSH_DELAY))

    def note_sent(self, entry_id: int, count: int) -> None:
        """`count` replies of this turn were accepted: written with the next batch (within SENT_FLUSH_DELAY).

        Batched so that a turn finishing right after its reply (the usual case) costs no commit of
        its own: its row is deleted in the same batch and the count is not written at all.
        """
        if count > self._sent.get(entry_id, 0):
            self._sent[entry_id] = count
        if self._sent_task is None or self._sent_task.done():
            self._sent_task = asyncio.get_running_loop().create_task(self._flush_later(SENT_FLUSH_DELAY))

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.flush()

    async def flush(self) -> None:
        """Write the batch now: remove the rows of finished turns, record the replies of running ones.

        One batch at a time: a flush that finds another under way waits for it, so that when it
        returns, everything queued before it is written.
        """
        async with self._flushing:
            await self._flush_queued()

    async def _flush_queued(self) -> None:
        while self._done or self._sent:
            ids, self._done = self._done, []
            sent, self._sent = self._sent, {}
            for entry_id in ids:
                sent.pop(entry_id, None)
            try:
                await self._write_batch(ids, sent)
            except Exception:
                # Left in place, the rows would be replayed after their claim runs out: keep trying.
                log.exception("turn journal cleanup failed", extra={"count": len(ids) + len(sent)})
                self._done.extend(ids)
                for entry_id, count in sent.items():
                    self._sent[entry_id] = max(count, self._sent.get(entry_id, 0))
                return

    async def _write_batch(self, ids: list[int], sent: dict[int, int]) -> None:
        if not sent:
            await self._remove(ids)
            return
        updates = [(count, entry_id, count) for entry_id, count in sent.items()]
        delete_sql = _INLINE_DELETE.format(marks=",".join("?" * len(ids)))

        def inline(conn: sqlite3.Connection) -> None:
            conn.executemany(_INLINE_SENT, updates)
            if ids:
                conn.execute(delete_sql, ids)

        await self._hop.write(inline, _batch, ids, sent)

    async def _remove(self, ids: list[int]) -> None:
        sql = _INLINE_DELETE.format(marks=",".join("?" * len(ids)))
        await self._hop.write(lambda conn: conn.execute(sql, ids), _delete, ids)

    async def release(self, ids: Sequence[int]) -> None:
        """Turns this replica will not run (it is stopping): any replica may claim them at once."""
        if ids:
            await self._hop(_release, list(ids), self.owner, self._clock.now(), transaction=True)

    async def claim_expired(self, limit: int = 100) -> list[JournaledTurn]:
        """Rows whose claim ran out, now claimed by this replica; those tried too often are dropped."""
        now = self._clock.now()
        rows = await self._hop(
            _claim, self.owner, now, now + self.lease, limit, not self._db.is_sqlite, transaction=True
        )
        turns: list[JournaledTurn] = []
        given_up: list[int] = []
        for row in rows:
            try:
                activity = json.loads(row.activity)
                auth = json.loads(row.auth)
            except ValueError:
                activity, auth = None, None
            if row.attempts > self.max_attempts or not isinstance(activity, dict) or not isinstance(auth, dict):
                log.error(
                    "journaled turn given up",
                    extra={"journal_id": row.id, "attempts": row.attempts, "conversation": row.conversation_key},
                )
                given_up.append(row.id)
                continue
            received = row.received_at
            if isinstance(received, datetime) and received.tzinfo is None:
                received = received.replace(tzinfo=UTC)  # SQLite keeps no zone; every time stored is UTC
            turns.append(
                JournaledTurn(
                    row.id, row.conversation_key, activity, auth, row.attempts, row.replies_sent or 0, received
                )
            )
        if given_up:
            await self._remove(given_up)
        return turns

    async def pending(self) -> int:
        """Rows not yet removed (for tests and diagnostics)."""

        def count(conn: Connection) -> int:
            return int(conn.execute(select(func.count()).select_from(turn_journal)).scalar_one())

        return await self._hop(count, transaction=False)

    async def sent_counts(self) -> list[int]:
        """Each pending row's replies recorded as sent, in id order (for tests and diagnostics)."""

        def counts(conn: Connection) -> list[int]:
            query = select(turn_journal.c.replies_sent).order_by(turn_journal.c.id)
            return [int(n) for n in conn.execute(query).scalars()]

        return await self._hop(counts, transaction=False)

    async def close(self) -> None:
        await self.flush()
        await self._hop.close()
