"""Shared fixtures: a database per backend (SQLite always, PostgreSQL when reachable), a local connector."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.storage import Database
from bot.transport.local_connector import LocalConnector

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_DB = os.environ.get("TEST_PG_DB", "test")


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def postgres_url_for_schema(schema: str) -> str:
    """A URL whose connections use their own schema, so parallel tests and runs do not collide."""
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"


def require_postgres() -> None:
    if postgres_reachable():
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but no PostgreSQL server answers on {PG_HOST}:{PG_PORT}")
    pytest.skip(f"no PostgreSQL server on {PG_HOST}:{PG_PORT} (set TEST_PG_HOST/TEST_PG_PORT)")


async def create_pg_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_DB)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()


async def drop_pg_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_DB)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL on each backend; the schema is created by Database.open()."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await create_pg_schema(schema)
    try:
        yield postgres_url_for_schema(schema)
    finally:
        await drop_pg_schema(schema)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    """A local Bot Connector over HTTP on 127.0.0.1 that records what the bot sends."""
    c = LocalConnector()
    await c.start()
    try:
        yield c
    finally:
        await c.stop()
