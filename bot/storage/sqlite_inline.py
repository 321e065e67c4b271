"""Short statements on a local SQLite file, run on the event loop's own thread.

A statement on a local SQLite file takes 10–30 µs. Sending it to a worker thread through
SQLAlchemy (bot/storage/sqlite_runner.py) cost ~0.3 ms of CPU and a GIL hand-over per call, several
times per message. So the hot statements (state reads and writes, the turn journal) run here,
on one plain sqlite3 connection, without leaving the loop:

* reads never wait in WAL mode, so they cannot block the loop;
* a write needs the file's write lock. It is tried without waiting (busy_timeout 0); when another
  connection holds the lock, `WriteLockBusy` is raised. `OneHop.write` then yields to the loop and
  tries again a few times (the holder is usually an aiosqlite transaction of this process, which
  needs the loop to finish), and only then takes the worker-thread path, which may wait for the
  lock. The loop never sleeps on a lock held by work that needs the loop to finish.

  Going to the worker thread at the first refusal made things worse under load: the thread's
  write then held the lock while the loop's next writes were refused and queued behind it, so one
  poll of the outbox set off a run of slow thread writes (15% of writes at 400 messages/s).

The connection does not checkpoint the WAL on commit (that would put a file sync on the loop);
every CHECKPOINT_EVERY commits a passive checkpoint runs in the SQLite worker thread instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import Database
from bot.storage.sqlite_runner import SqliteRunner, shared_executor, supports

T = TypeVar("T")

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 500  # commits on this connection between WAL checkpoints
# Seconds to yield to the loop before each new inline try of a refused write (about 30 ms in all);
# after the last, the write goes to the worker thread, which waits for the lock.
BUSY_BACKOFF = (0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016)


class WriteLockBusy(Exception):
    """Another connection holds the write lock: do this write where waiting is allowed."""


def sqlite_datetime(moment: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (UTC, no offset), so both read each other's rows."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")  # "%Y-%m-%d %H:%M:%S.%f", in C rather than via strftime


class InlineSqlite:
    """One sqlite3 connection for the loop thread; None from `for_database` unless it is a SQLite file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._commits = 0

    @classmethod
    def for_database(cls, db: Database) -> InlineSqlite | None:
        if not supports(db) or db.url.query:
            return None
        return cls(str(db.url.database))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._conn = conn
        return self._conn

    def read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._connection().execute(sql, params).fetchall()

    def write(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """Run `unit` in one transaction now, or raise WriteLockBusy without having changed anything."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                raise WriteLockBusy from exc
            raise
        try:
            result = unit(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _locked(exc):
                raise WriteLockBusy from exc
            raise
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_soon()
        return result

    def _checkpoint_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        future = loop.run_in_executor(shared_executor(), _passive_checkpoint, self._path)
        future.add_done_callback(_log_failure)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _passive_checkpoint(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("WAL checkpoint failed", extra={"error": type(future.exception()).__name__})


class OneHop:
    """Runs units of work on any backend, the cheapest way each allows.

    `__call__` runs `fn(connection, *args)` (SQLAlchemy) in one hop: the SqliteRunner's thread for
    a SQLite file, the async engine's `run_sync` elsewhere. On a SQLite file, `read_now` and `write`
    first use the inline connection on the loop thread; a write whose lock is busy, and every other
    backend, take the hop.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sqlite = SqliteRunner(db) if supports(db) else None
        self.inline = InlineSqlite.for_database(db)
        self.busy_retries = 0  # inline writes tried again after the lock was held (diagnostics, tests)

    async def __call__(self, fn: Callable[..., T], *args: Any, transaction: bool) -> T:
        engine = self._db.e  # raises when the database is not open
        if self._sqlite is not None:
            return await self._sqlite.run(fn, *args, transaction=transaction)
        conn: AsyncConnection
        async with engine.begin() if transaction else engine.connect() as conn:
            return await conn.run_sync(fn, *args)

    def read_now(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """Rows from the inline connection, or None when there is none (not a SQLite file)."""
        if self.inline is None:
            return None
        self._db.e  # noqa: B018 - raises when the database is not open, as the hop does
        return self.inline.read(sql, params)

    async def write(self, inline_unit: Callable[[sqlite3.Connection], T], fn: Callable[..., T], *args: Any) -> T:
        """`inline_unit` in one transaction on the loop thread if it can start at once, else `fn` in a hop."""
        if self.inline is not None:
            self._db.e  # noqa: B018 - raises when the database is not open
            for pause in (*BUSY_BACKOFF, None):
                try:
                    return self.inline.write(inline_unit)
                except WriteLockBusy:
                    if pause is None:
                        break  # still held: wait for it in the worker thread
                await asyncio.sleep(pause)
                self.busy_retries += 1
        return await self(fn, *args, transaction=True)

    async def close(self) -> None:
        """Release the SQLite connections (a no-op on other databases)."""
        if self.inline is not None:
            self.inline.close()
        if self._sqlite is not None:
            await self._sqlite.close()
