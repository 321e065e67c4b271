"""Opens the database named by a URL and creates the schema; the only place engines are built."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.tables import metadata

log = logging.getLogger(__name__)

# The advisory lock that serialises schema creation across replicas (PostgreSQL only).
SCHEMA_LOCK_KEY = 727001
SQLITE_START_ATTEMPTS = 6  # tries to create the schema when replicas open a new SQLite file together


class Database:
    """An async SQLAlchemy engine plus what we need to know about its dialect."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        # Our own `?schema=NAME` puts every table of a PostgreSQL database in one schema.
        self.schema: str | None = parsed.query.get("schema")  # type: ignore[assignment]
        self.url = parsed.difference_update_query(["schema"])
        self.engine: AsyncEngine | None = None

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sync_url(self) -> str:
        """The same database for synchronous clients (APScheduler's job store)."""
        if self.is_sqlite:
            return self.url.set(drivername="sqlite").render_as_string(hide_password=False)
        url = self.url.set(drivername="postgresql+psycopg")
        if self.schema:
            url = url.update_query_dict({"options": f"-csearch_path={self.schema}"})
        return url.render_as_string(hide_password=False)

    async def open(self) -> AsyncEngine:
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
        await self._create_schema(engine)
        self.engine = engine
        log.info("database opened", extra={"dialect": self.dialect})
        return engine

    async def _create_schema(self, engine: AsyncEngine) -> None:
        """Create missing tables; processes starting together on an empty database must not collide."""
        for attempt in range(SQLITE_START_ATTEMPTS):
            try:
                async with engine.begin() as conn:
                    if not self.is_sqlite:
                        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                    await conn.run_sync(metadata.create_all)
                    await conn.run_sync(_add_missing_columns)
                return
            except OperationalError as exc:
                # SQLite has no advisory lock: another process created a table between check and
                # create, or was switching the new file to WAL, which SQLite refuses at once instead
                # of waiting out busy_timeout. Both pass: try again shortly.
                message = str(exc)
                collided = "already exists" in message or "database is locked" in message
                if not self.is_sqlite or not collided or attempt == SQLITE_START_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

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


# Columns added to existing tables after their first release: (table, column, its SQL definition).
ADDED_COLUMNS = (("turn_journal", "replies_sent", "INTEGER NOT NULL DEFAULT 0"),)


def _add_missing_columns(conn: Connection) -> None:
    """A database made by an older version gets the columns added since (create_all adds only tables)."""
    inspector = inspect(conn)
    for table, column, definition in ADDED_COLUMNS:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {definition}"))


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    # WAL lets readers run beside a writer; busy_timeout waits instead of failing on a lock. It comes
    # first: switching a new file to WAL needs a lock that a process opening it at the same moment may hold.
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
