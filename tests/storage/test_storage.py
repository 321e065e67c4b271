"""The SQL Storage behaves like botbuilder's storages: e-tags, deletes, and it survives reopening."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import pytest
from botbuilder.core import StoreItem
from botbuilder.dialogs import DialogInstance, DialogState
from sqlalchemy import select, text

from bot.clock import ManualClock
from bot.storage import Database
from bot.storage.kv_store import SqlStorage, StorageConflictError, new_etag
from bot.storage.tables import kv_store


class Note(StoreItem):
    def __init__(self, text: str = "", e_tag: str | None = None) -> None:
        super().__init__(text=text, e_tag=e_tag)


async def test_write_then_read_returns_value_and_etag(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"a": {"count": 1}})
    items = await storage.read(["a", "missing"])
    assert set(items) == {"a"}
    assert items["a"]["count"] == 1
    assert items["a"]["e_tag"]


async def test_stale_etag_is_a_conflict(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"k": {"v": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["v"] = 2
    await storage.write({"k": first})
    second["v"] = 3
    with pytest.raises(StorageConflictError):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_star_etag_overwrites(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 5, "e_tag": "*"}})
    assert (await storage.read(["k"]))["k"]["v"] == 5


async def test_writer_can_save_twice_in_a_turn(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 2
    await storage.write({"k": item})
    item["v"] = 3
    await storage.write({"k": item})  # its own newer e-tag, no conflict
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_store_item_objects_round_trip(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"note": Note("hej")})
    note = (await storage.read(["note"]))["note"]
    assert note.text == "hej"
    assert note.e_tag


async def test_delete(database: Database) -> None:
    storage = SqlStorage(database)
    await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "nope"])
    assert set(await storage.read(["a", "b"])) == {"b"}


async def test_dialog_state_survives_reopening(database_url: str) -> None:
    db = Database(database_url)
    await db.open()
    state = DialogState([DialogInstance(id="walk", state={"step": 3, "answers": {"q1": "ja"}})])
    await SqlStorage(db).write({"conv/1": {"DialogState": state}})
    await db.close()

    reopened = Database(database_url)
    await reopened.open()
    try:
        item = (await SqlStorage(reopened).read(["conv/1"]))["conv/1"]
        restored = item["DialogState"]
        assert isinstance(restored, DialogState)
        assert restored.dialog_stack[0].id == "walk"
        assert restored.dialog_stack[0].state["answers"] == {"q1": "ja"}
    finally:
        await reopened.close()


async def test_conversation_state_detects_concurrent_turns(database: Database) -> None:
    """Two turns that read the same conversation state cannot both save blindly."""
    storage = SqlStorage(database)
    key = "msteams/conversations/c1/"
    await storage.write({key: {"greeted": True}})
    turn_a = (await storage.read([key]))[key]
    turn_b = (await storage.read([key]))[key]
    turn_a["x"] = 1
    await storage.write({key: turn_a})
    turn_b["x"] = 2
    with pytest.raises(StorageConflictError):
        await storage.write({key: turn_b})


async def test_replicas_opening_an_empty_database_together_do_not_collide(database_url: str) -> None:
    """Two services starting at once on an empty database both come up (schema creation is serialised)."""
    replicas = [Database(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(db.open() for db in replicas))
        await SqlStorage(replicas[0]).write({"k": {"v": 1}})
        assert (await SqlStorage(replicas[3]).read(["k"]))["k"]["v"] == 1
    finally:
        for db in replicas:
            await db.close()


async def test_create_if_absent_has_exactly_one_winner(database: Database) -> None:
    import asyncio

    storage = SqlStorage(database)
    results = await asyncio.gather(*(storage.create_if_absent("once/k", {"n": n}) for n in range(6)))
    assert results.count(True) == 1
    assert (await storage.read(["once/k"]))["once/k"]["n"] == results.index(True)


async def test_rows_written_on_the_loop_thread_read_the_same_through_sqlalchemy(database: Database) -> None:
    """SQLite writes take the inline connection; other code reads the table through SQLAlchemy."""
    moment = datetime(2026, 11, 23, 13, 5, 7, 123456, tzinfo=UTC)
    storage = SqlStorage(database, ManualClock(moment))
    await storage.write({"user/1": {"name": "Anna"}})
    async with database.e.connect() as conn:
        row = (await conn.execute(select(kv_store).where(kv_store.c.key == "user/1"))).one()
    assert row.updated_at.replace(tzinfo=UTC) == moment
    assert (await storage.read(["user/1"]))["user/1"]["name"] == "Anna"


async def _write_while_locked(database: Database, hold_for: float) -> SqlStorage:
    """Update an item while another connection holds the file's write lock for `hold_for` seconds;
    returns the storage once the write is done (it must wait, not fail)."""
    if not database.is_sqlite:
        pytest.skip("a SQLite file's write lock; PostgreSQL locks rows")
    storage = SqlStorage(database)
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 2
    async with database.e.connect() as conn:
        await conn.execute(text("BEGIN IMMEDIATE"))
        await conn.execute(text("UPDATE kv_store SET data = data WHERE key = 'nothing'"))
        write = asyncio.ensure_future(storage.write({"k": item}))
        await asyncio.sleep(hold_for)
        assert not write.done()  # waiting for the lock, while the loop still runs this test
        await conn.execute(text("COMMIT"))
    await asyncio.wait_for(write, 10)
    assert (await storage.read(["k"]))["k"]["v"] == 2
    return storage


async def test_a_write_while_another_connection_holds_the_lock_waits_for_it(database: Database) -> None:
    """The inline path never waits on the loop: a lock held long sends the write to the worker thread."""
    storage = await _write_while_locked(database, 0.2)
    assert storage._hop._sqlite is not None
    assert storage._hop._sqlite._engine is not None  # it waited there


async def test_a_write_refused_by_a_short_transaction_of_this_process_stays_on_the_loop(database: Database) -> None:
    """A lock held briefly by an aiosqlite transaction (an outbox poll) is waited out on the loop:
    the write neither fails nor takes the slow worker-thread path, which under load made the next
    writes queue behind it."""
    storage = await _write_while_locked(database, 0.002)
    assert storage._hop.busy_retries > 0
    assert storage._hop._sqlite is not None
    assert storage._hop._sqlite._engine is None  # the worker thread was never needed


def test_e_tags_never_repeat_in_a_process_or_in_a_forked_child() -> None:
    """A repeated e-tag would let a stale writer overwrite a newer version unnoticed."""
    seen = {new_etag() for _ in range(20_000)}
    assert len(seen) == 20_000
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # a replica forked from this process after start-up
        os.write(write_end, new_etag().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    os.close(write_end)
    mine = new_etag()
    assert child not in seen
    assert child[:16] != mine[:16]  # the child drew its own prefix


async def test_a_database_from_before_replies_sent_gets_the_column(database_url: str) -> None:
    """turn_journal.replies_sent was added after the table shipped (migration 0003): opening a database at the
    revision before it adds the column, and keeps the journal's rows."""
    from alembic import command
    from sqlalchemy import inspect as sa_inspect

    from bot.storage import Database, migrate

    db = Database(database_url)
    await db.open()
    async with db.e.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(migrate.alembic_config(connection=c), "0002"))
        columns = await conn.run_sync(lambda c: {col["name"] for col in sa_inspect(c).get_columns("turn_journal")})
        assert "replies_sent" not in columns
    await db.close()
    db = Database(database_url)
    await db.open()
    try:
        async with db.e.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in sa_inspect(c).get_columns("turn_journal")})
        assert "replies_sent" in columns
    finally:
        await db.close()
