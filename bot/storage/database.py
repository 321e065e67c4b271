"""Opens the database named by a URL and brings its schema to the newest migration; the only place engines are
built."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage.migrate import Upgrade, upgrade_to_head

log = logging.getLogger(__name__)

# The advisory lock that serialises schema migrations across replicas (PostgreSQL; SQLite takes its write lock).
SCHEMA_LOCK_KEY = 727001
SQLITE_START_ATTEMPTS = 6  # tries to migrate when replicas open a new SQLite file together


class Database:
    """An async SQLAlchemy engine plus what we need to know about its dialect."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        # Our own `?schema=NAME` puts every table of a PostgreSQL database in one schema.
        self.schema: str | None = parsed.query.get("schema")  # type: ignore[assignment]
        self.url = parsed.difference_update_query(["schema"])
        self.engine: AsyncEngine | None = None
        self.upgrade: Upgrade | None = None  # what open() did to the schema

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sync_url(self) -> str:
        """The same SQLite file for synchronous clients (the SQLite worker thread, sqlite_runner.py)."""
        if not self.is_sqlite:
            raise ValueError("only SQLite is opened synchronously")
        return self.url.set(drivername="sqlite").render_as_string(hide_password=False)

    def new_engine(self) -> AsyncEngine:
        """An engine on the database, schema untouched (open() also migrates)."""
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, object] = {}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            if self.schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": self.schema}}
        engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine

    async def open(self) -> AsyncEngine:
        engine = self.new_engine()
        try:
            self.upgrade = await self._migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        self.engine = engine
        log.info("database opened", extra={"dialect": self.dialect, "revision": self.upgrade.after})
        if self.upgrade.changed:
            log.info("schema upgraded", extra={"from": self.upgrade.before, "to": self.upgrade.after})
        return engine

    async def take_schema_lock(self, conn: AsyncConnection) -> None:
        """Serialise schema changes across processes, for the rest of `conn`'s transaction (which must have
        done nothing yet). PostgreSQL: an advisory lock. SQLite: its write lock, taken up front (SQLite's DDL is
        transactional, so a whole migration commits or not at all)."""
        if self.is_sqlite:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})

    async def _migrate(self, engine: AsyncEngine) -> Upgrade:
        """Upgrade to the newest revision; processes starting together on an empty database must not collide."""
        for attempt in range(SQLITE_START_ATTEMPTS):
            try:
                async with engine.begin() as conn:
                    await self.take_schema_lock(conn)
                    return await conn.run_sync(upgrade_to_head)
            except OperationalError as exc:
                # SQLite refuses to switch a new file to WAL at once, instead of waiting out busy_timeout, while
                # another process is doing it: try again shortly.
                if not self.is_sqlite or "database is locked" not in str(exc) or attempt == SQLITE_START_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    @property
    def e(self) -> AsyncEngine:
        """The open engine; raises if the database was not opened."""
        if self.engine is None:
            raise RuntimeError("database is not open")
        return self.engine


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    # WAL lets readers run beside a writer; busy_timeout waits instead of failing on a lock. It comes
    # first: switching a new file to WAL needs a lock that a process opening it at the same moment may hold.
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
