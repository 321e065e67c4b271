"""botbuilder's Storage on our database: state that survives restarts and detects lost updates."""

from __future__ import annotations

import contextvars
import itertools
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.clock import Clock, SystemClock
from bot.plain_json import JSONPICKLE_MARKERS, is_plain_json, load_json
from bot.storage import Database
from bot.storage.sqlite_inline import OneHop, sqlite_datetime
from bot.storage.tables import kv_store
from bot.storage.upsert import upsert

T = TypeVar("T")


class StorageConflictError(KeyError):
    """A write carried an e-tag that no longer matches: someone else wrote the item first."""


class _Etags:
    """New e-tags: unique without a system call each. A random 64-bit prefix per process (drawn
    again in a forked child) and a counter; uuid4 read 16 bytes from the kernel for every write."""

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_etag = _Etags().new


def _etag_of(item: Any) -> str | None:
    if isinstance(item, Mapping):
        return item.get("e_tag")
    return getattr(item, "e_tag", None)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif hasattr(item, "e_tag") or hasattr(item, "__dict__"):
        item.e_tag = etag


def encode(item: Any) -> str:
    """Serialise state (plain dicts and botbuilder's dialog objects) to JSON text.

    jsonpickle is needed for objects (a walkthrough's DialogState); for plain JSON, which most
    state is, it only returns an equal copy, slowly, so such a tree is written as it is."""
    if type(item) is dict and is_plain_json(item, reserved=JSONPICKLE_MARKERS):
        flat = {key: value for key, value in item.items() if key != "e_tag"}
    else:
        flat = Pickler(unpicklable=True, keys=True).flatten(item)
        if isinstance(flat, dict):
            flat.pop("e_tag", None)
    return json.dumps(flat, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Any:
    """The state `encode` wrote: a tree without jsonpickle's markers is already what it stands for."""
    flat = load_json(text)
    if is_plain_json(flat, reserved=JSONPICKLE_MARKERS):
        return flat
    return Unpickler(keys=True).restore(flat)


@dataclass(frozen=True)
class _Statements:
    """kv_store statements built once with bound parameters (building them per call cost more than running them)."""

    read: Any
    etag_of: Any
    upsert: Any
    update: Any
    insert: Any
    insert_new: Any
    delete: Any

    @classmethod
    def for_dialect(cls, dialect: str) -> _Statements:
        row: dict[str, Any] = {
            "key": bindparam("b_key"),
            "etag": bindparam("b_etag"),
            "data": bindparam("b_data"),
            "updated_at": bindparam("b_now"),
        }
        return cls(
            read=select(kv_store.c.key, kv_store.c.etag, kv_store.c.data).where(
                kv_store.c.key.in_(bindparam("b_keys", expanding=True))
            ),
            etag_of=select(kv_store.c.etag).where(kv_store.c.key == bindparam("b_key")),
            upsert=upsert(dialect, kv_store, row, ["key"]),
            update=update(kv_store)
            .where(kv_store.c.key == bindparam("b_key"), kv_store.c.etag == bindparam("b_expected"))
            .values(etag=bindparam("b_etag"), data=bindparam("b_data"), updated_at=bindparam("b_now")),
            insert=insert(kv_store).values(**row),
            insert_new=(postgresql if dialect == "postgresql" else sqlite)
            .insert(kv_store)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["key"]),
            delete=delete(kv_store).where(kv_store.c.key.in_(bindparam("b_keys", expanding=True))),
        )


# The units of work, synchronous on a Connection: run in SQLite's worker thread in one hop
# (bot/storage/sqlite_runner.py), or through AsyncConnection.run_sync on other databases.


def _read_rows(conn: Connection, st: _Statements, keys: list[str]) -> list[tuple[str, str, str]]:
    return [(key, etag, data) for key, etag, data in conn.execute(st.read, {"b_keys": keys})]


def _write_rows(conn: Connection, st: _Statements, plan: list[tuple[str, str | None, str, str]], now: Any) -> None:
    for key, expected, new_etag, data in plan:
        row = {"b_key": key, "b_etag": new_etag, "b_data": data, "b_now": now}
        if expected is None or expected == "*":
            conn.execute(st.upsert, row)
            continue
        res = conn.execute(st.update, {**row, "b_expected": expected})
        if res.rowcount == 0:
            exists = conn.scalar(st.etag_of, {"b_key": key})
            if exists is not None:
                raise StorageConflictError(f"e-tag conflict on {key!r}: the item changed since it was read")
            conn.execute(st.insert, row)


# The same units as plain SQL for the inline SQLite connection (bot/storage/sqlite_inline.py).
_INLINE_READ = "SELECT key, etag, data FROM kv_store WHERE key IN ({marks})"
_INLINE_UPSERT = (
    "INSERT INTO kv_store (key, etag, data, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, data = excluded.data, updated_at = excluded.updated_at"
)
_INLINE_UPDATE = "UPDATE kv_store SET etag = ?, data = ?, updated_at = ? WHERE key = ? AND etag = ?"
_INLINE_ETAG_OF = "SELECT etag FROM kv_store WHERE key = ?"
_INLINE_INSERT = "INSERT INTO kv_store (key, etag, data, updated_at) VALUES (?, ?, ?, ?)"


def _write_rows_inline(conn: sqlite3.Connection, plan: list[tuple[str, str | None, str, str]], now: str) -> None:
    for key, expected, new_etag, data in plan:
        if expected is None or expected == "*":
            conn.execute(_INLINE_UPSERT, (key, new_etag, data, now))
            continue
        if conn.execute(_INLINE_UPDATE, (new_etag, data, now, key, expected)).rowcount == 0:
            if conn.execute(_INLINE_ETAG_OF, (key,)).fetchone() is not None:
                raise StorageConflictError(f"e-tag conflict on {key!r}: the item changed since it was read")
            conn.execute(_INLINE_INSERT, (key, new_etag, data, now))


def _insert_new_row(conn: Connection, st: _Statements, row: dict[str, Any]) -> bool:
    return conn.execute(st.insert_new, row).rowcount == 1


def _delete_rows(conn: Connection, st: _Statements, keys: list[str]) -> None:
    conn.execute(st.delete, {"b_keys": keys})


# Items read ahead for the turn running in this context (SqlStorage.read_ahead).
_read_ahead: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("storage_read_ahead", default=None)


class SqlStorage(Storage):
    """Implements read/write/delete with optimistic concurrency on the kv_store table."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._statements: _Statements | None = None
        self._hop = OneHop(db)

    def _st(self) -> _Statements:
        if self._statements is None:
            self._statements = _Statements.for_dialect(self._db.dialect)
        return self._statements

    async def _run(self, fn: Callable[..., T], *args: Any, transaction: bool) -> T:
        return await self._hop(fn, self._st(), *args, transaction=transaction)

    async def close(self) -> None:
        """Release the SQLite connections (a no-op on other databases)."""
        await self._hop.close()

    async def read_ahead(self, keys: list[str]) -> contextvars.Token[dict[str, Any] | None]:
        """Read `keys` in one round trip for the running turn; the first read of each is served from it.

        A message turn reads the user's state and the walkthrough state one after the other; each
        read is a database round trip. Pass the returned token to `end_read_ahead` when the turn ends.
        """
        found = await self.read(keys)
        return _read_ahead.set({key: found.get(key) for key in keys})

    @staticmethod
    def end_read_ahead(token: contextvars.Token[dict[str, Any] | None]) -> None:
        _read_ahead.reset(token)

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        ahead = _read_ahead.get()
        if ahead is not None and all(key in ahead for key in keys):
            # Each item is served once: a second read of the same key goes to the database.
            served = {key: ahead.pop(key) for key in keys}
            return {key: item for key, item in served.items() if item is not None}
        unique = list(dict.fromkeys(keys))
        inline_rows = self._hop.read_now(_INLINE_READ.format(marks=",".join("?" * len(unique))), unique)
        rows = inline_rows if inline_rows is not None else await self._run(_read_rows, unique, transaction=False)
        result: dict[str, Any] = {}
        for key, etag, data in rows:
            item = decode(data)
            _set_etag(item, etag)
            result[key] = item
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        now = self._clock.now()
        plan: list[tuple[str, str | None, str, str]] = []
        for key, item in changes.items():
            expected = _etag_of(item)
            if expected == "":
                raise ValueError(f"storage write for {key!r} has an empty e-tag")
            plan.append((key, expected, new_etag(), encode(item)))
        # All items in one transaction: a conflict on any of them writes none.
        await self._hop.write(
            lambda conn: _write_rows_inline(conn, plan, sqlite_datetime(now)), _write_rows, self._st(), plan, now
        )
        # The writer now holds the newest version; a second save in the same turn must not conflict.
        for item, (_, _, etag, _) in zip(changes.values(), plan, strict=True):
            _set_etag(item, etag)

    async def create_if_absent(self, key: str, item: dict[str, Any]) -> bool:
        """Write `item` only if `key` does not exist yet; True for the one caller that created it.

        An atomic "once": concurrent turns (Teams sends conversationUpdate and installationUpdate
        for one install at the same moment) cannot both win, on any replica.
        """
        row = {"b_key": key, "b_etag": new_etag(), "b_data": encode(item), "b_now": self._clock.now()}
        return await self._run(_insert_new_row, row, transaction=True)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        await self._run(_delete_rows, list(keys), transaction=True)
