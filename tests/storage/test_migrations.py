"""Schema migrations: a database made before there were migrations upgrades with its rows, the models and the
migrations do not drift, and `python -m bot migrate` runs the same upgrade. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection

from bot.storage import Database, migrate
from bot.storage.kv_store import SqlStorage
from bot.storage.tables import metadata
from tests.storage import schema_before_migrations as before

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# One row for every table the old code made, as that code wrote them.
ROWS: dict[str, dict[str, Any]] = {
    "kv_store": {"key": "msteams/conversations/c1/", "etag": "e1", "data": '{"greeted": true}', "updated_at": AT},
    "feedback": {"id": 1, "entry_id": "e", "question": "Får jag?", "helpful": True, "lang": "sv", "created_at": AT},
    "unanswered_questions": {"id": 1, "question": "q", "score": "0.1", "lang": "sv", "created_at": AT},
    "walkthrough_results": {"id": 1, "owner": "o", "walkthrough_id": "w", "data": "{}", "created_at": AT},
    "conversation_refs": {
        "conversation_id": "19:c@thread.tacv2",
        "conversation_type": "channel",
        "reference": "{}",
        "state": "active",
        "lagesbild_subscribed": True,
        "updated_at": AT,
    },
    "lagesbild_reports": {
        "id": 1,
        "week": "48",
        "mode": "ordinarie",
        "summary": "Läget är lugnt.",
        "sections": "{}",
        "state": "ready",
        "for_slot": AT,
        "created_at": AT,
        "updated_at": AT,
    },
    "reminders": {
        "id": 1,
        "unit_id": "ksf",
        "kind": "weekly",
        "weekdays": "0,3",
        "local_time": "09:00",
        "until": date(2026, 12, 31),
        "state": "active",
        "created_at": AT,
    },
    "broadcasts": {
        "id": 1,
        "kind": "lagesbild",
        "subject": "lagesbild:1",
        "title": "Lägesbild v48",
        "lang": "sv",
        "total": 1,
        "created_at": AT,
    },
    "outbox": {
        "id": 1,
        "broadcast_id": 1,
        "conversation_id": "19:c@thread.tacv2",
        "activity": "{}",
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": AT,
        "created_at": AT,
    },
    "job_runs": {"job_id": "lagesbild", "scheduled_for": AT, "fired_at": AT, "fired_by": "s-1", "outcome": "ok"},
    "audit_log": {"id": 1, "at": AT, "action": "publish", "subject": "lagesbild:1", "target_count": 1},
    "turn_journal": {
        "id": 1,
        "conversation_key": "k",
        "activity": "{}",
        "auth": "{}",
        "attempts": 1,
        "claimed_by": "r-1",
        "claim_expires_at": AT,
        "received_at": AT,
    },
    "apscheduler_jobs": {"id": "bc:lagesbild", "next_run_time": 1.0, "job_state": b"\x80\x04."},
}


async def make_database_as_before(url: str, *, leave_out: tuple[str, ...] = ()) -> None:
    """What the service did to a database before migrations: create_all, then APScheduler's table, then rows."""
    db = Database(url)
    engine = db.new_engine()
    try:
        async with engine.begin() as conn:
            tables = [t for t in before.metadata.sorted_tables if t.name not in leave_out]
            await conn.run_sync(lambda c: before.metadata.create_all(c, tables=tables))
            for table in tables:
                await conn.execute(table.insert().values(**ROWS[table.name]))
    finally:
        await engine.dispose()


async def rows(db: Database, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    found = {}
    async with db.e.connect() as conn:
        for name in names:
            table = before.metadata.tables[name]
            found[name] = [dict(r._mapping) for r in (await conn.execute(select(table))).all()]
    return found


def same(value: Any) -> Any:
    """A value as both backends hand it back (SQLite's DateTime has no zone: the service writes UTC)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def drift(conn: Connection) -> list[Any]:
    """What `alembic revision --autogenerate` would write: the models against the migrated database."""
    options = migrate.context_options()
    context = MigrationContext.configure(
        conn, opts={"compare_type": options["compare_type"], "include_object": options["include_object"]}
    )
    return compare_metadata(context, options["target_metadata"])


@pytest.fixture
async def opened(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


async def test_a_database_made_before_migrations_upgrades_to_head_with_its_rows(database_url: str) -> None:
    await make_database_as_before(database_url)
    db = Database(database_url)
    await db.open()
    try:
        assert db.upgrade == migrate.Upgrade(None, migrate.head())
        found = await rows(db, list(ROWS))
        assert {name: [{k: same(row[k]) for k in ROWS[name]} for row in found[name]] for name in ROWS} == {
            name: [{k: same(v) for k, v in row.items()}] for name, row in ROWS.items()
        }
        async with db.e.connect() as conn:
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == migrate.head()
            assert await conn.run_sync(drift) == []
        # The service's own code reads and writes the adopted tables.
        storage = SqlStorage(db)
        assert (await storage.read(["msteams/conversations/c1/"]))["msteams/conversations/c1/"]["greeted"] is True
        await storage.write({"k": {"v": 1}})
        assert (await storage.read(["k"]))["k"]["v"] == 1
    finally:
        await db.close()
    again = Database(database_url)
    await again.open()
    await again.close()
    assert again.upgrade == migrate.Upgrade(migrate.head(), migrate.head())


async def test_a_database_of_an_older_version_gets_the_tables_it_lacked(database_url: str) -> None:
    await make_database_as_before(database_url, leave_out=("turn_journal", "job_runs", "apscheduler_jobs"))
    db = Database(database_url)
    await db.open()
    try:
        async with db.e.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert set(metadata.tables) <= names
            assert await conn.run_sync(drift) == []
        assert (await rows(db, ["kv_store", "outbox"]))["outbox"][0]["conversation_id"] == "19:c@thread.tacv2"
    finally:
        await db.close()


async def test_a_table_without_a_column_the_models_need_is_not_adopted(database_url: str) -> None:
    db = Database(database_url)
    engine = db.new_engine()
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE kv_store (key VARCHAR(512) PRIMARY KEY, data TEXT NOT NULL)"))
    await engine.dispose()
    with pytest.raises(RuntimeError, match=r"kv_store exists without the columns \['etag', 'updated_at'\]"):
        await db.open()
    # The migration ran in one transaction: the tables created before it stopped are gone with it.
    engine = db.new_engine()
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == ["kv_store"]
    await engine.dispose()


async def test_the_models_and_the_migrations_do_not_drift(opened: Database) -> None:
    async with opened.e.connect() as conn:
        assert await conn.run_sync(drift) == []


async def test_the_drift_check_sees_a_column_the_migrations_lack(opened: Database) -> None:
    """A model changed without a revision: the comparison above would name it."""
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    Table("feedback", changed, Column("rating", Integer, nullable=True), extend_existing=True)

    def changed_drift(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, changed)

    async with opened.e.connect() as conn:
        differences = await conn.run_sync(changed_drift)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "feedback", "rating")]


async def test_downgrade_to_empty_and_upgrade_again(opened: Database) -> None:
    def down_and_up(conn: Connection) -> tuple[set[str], list[Any]]:
        command.downgrade(migrate.alembic_config(connection=conn), "base")
        left = set(inspect(conn).get_table_names()) - {"alembic_version"}
        command.upgrade(migrate.alembic_config(connection=conn), "head")
        return left, drift(conn)

    async with opened.e.begin() as conn:
        await opened.take_schema_lock(conn)
        left, differences = await conn.run_sync(down_and_up)
    assert left == set()
    assert differences == []


def run_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_migrate_command_upgrades_and_prints_the_sql(database_url: str) -> None:
    await make_database_as_before(database_url)
    env = {"DATABASE_URL": database_url}
    first = run_bot("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database upgraded from empty to {migrate.head()} (head)"
    second = run_bot("migrate", env=env)
    assert second.stdout.strip() == f"database already at {migrate.head()} (head)"
    sql = run_bot("migrate", "--sql", env=env)
    assert sql.returncode == 0, sql.stderr
    for table in metadata.tables:
        assert f"CREATE TABLE {table} (" in sql.stdout
    assert "apscheduler_jobs" not in sql.stdout
    # The script ends at head: inserted as the first revision, or moved there by the last one.
    assert re.search(rf"(VALUES|version_num\s*=\s*)\s*\(?'{migrate.head()}'", sql.stdout), sql.stdout[-400:]
