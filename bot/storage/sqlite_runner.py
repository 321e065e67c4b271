"""Run a short piece of synchronous SQLAlchemy work on a SQLite file in one worker-thread hop.

Through aiosqlite every DBAPI call (cursor, execute, fetchall, close, commit, the pool's reset
rollback) is its own hop to aiosqlite's thread and back: about five per statement, each a GIL
hand-over that costs far more than the statement itself on a busy 2-core machine (a state read
took ~1.2 ms of CPU). Here the whole unit of work, e.g. "read these keys" or "write these items
in one transaction", runs in a worker thread on a synchronous engine for the same file, with the
same pragmas: one hop per call.

Only for SQLite files (an in-memory database is private to its connection); PostgreSQL keeps
the async engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event

from bot.storage import Database
from bot.storage.database import _sqlite_pragmas

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def shared_executor() -> ThreadPoolExecutor:
    """One thread for all SQLite work in the process: SQLite writes one at a time anyway."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        return _executor


def supports(db: Database) -> bool:
    database = db.url.database
    return db.is_sqlite and bool(database) and database != ":memory:" and not str(database).startswith("file:")


class SqliteRunner:
    """Runs `fn(connection, *args)` in the SQLite worker thread, in a transaction when asked."""

    def __init__(self, db: Database) -> None:
        if not supports(db):
            raise ValueError("SqliteRunner needs a SQLite database file")
        self._db = db
        self._engine: Engine | None = None

    def _engine_in_thread(self) -> Engine:
        if self._engine is None:
            engine = create_engine(self._db.sync_url)
            event.listen(engine, "connect", _sqlite_pragmas)
            self._engine = engine
        return self._engine

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], transaction: bool) -> T:
        engine = self._engine_in_thread()
        conn: Connection
        if transaction:
            with engine.begin() as conn:
                return fn(conn, *args)
        with engine.connect() as conn:
            return fn(conn, *args)

    async def run(self, fn: Callable[..., T], *args: Any, transaction: bool = False) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(shared_executor(), self._call, fn, args, transaction)

    async def close(self) -> None:
        """Close the synchronous engine's connections (in the thread that made them)."""
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.get_running_loop().run_in_executor(shared_executor(), engine.dispose)
