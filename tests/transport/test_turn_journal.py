"""Deferred turns: acknowledged only once journaled, replayed when their replica is gone, never lost."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity
from sqlalchemy import text

from bot.app import SERVICES, create_app
from bot.clock import ManualClock
from bot.config import ConfigError, Settings
from bot.storage import Database
from bot.transport.local_connector import LocalConnector
from bot.transport.turn_journal import TurnJournal, auth_record
from tests.activities import message
from tests.harness import bot_settings

LEASE = timedelta(seconds=120)


def hold(connector: LocalConnector) -> asyncio.Event:
    """The connector takes replies but answers none until the returned event is set."""
    release = asyncio.Event()

    async def fault(cid: str, body: dict[str, Any]) -> None:
        await release.wait()

    connector.fault = fault
    return release


def anonymous_auth() -> dict[str, Any]:
    result = AuthenticateRequestResult()
    result.claims_identity = ClaimsIdentity({}, True, "anonymous")
    result.audience = "https://api.botframework.com"
    return auth_record(result)


@pytest.fixture
async def deferred(aiohttp_client, tmp_path: Path, clock: ManualClock, database_url: str) -> TestClient:
    settings = bot_settings(tmp_path, database_url, defer_turns=True)
    return await aiohttp_client(create_app(settings, clock=clock))


async def test_a_message_is_acknowledged_before_its_reply_and_its_row_goes_when_answered(
    deferred: TestClient, connector: LocalConnector
) -> None:
    services = deferred.server.app[SERVICES]
    journal = services.gateway.journal
    assert journal is not None
    assert services.gateway.defer_turns
    release = hold(connector)
    response = await deferred.post("/api/messages", json=message(connector.url, "Måste jag ha VPN?", id="m1"))
    assert response.status == 201
    # Acknowledged while the reply is still on its way, and written down meanwhile.
    assert connector.received == []
    assert await journal.pending() == 1
    release.set()
    await connector.wait_for_count(1)
    assert connector.activities()[0]["replyToId"] == "m1"
    assert "VPN" in connector.activities()[0]["attachments"][0]["content"]["fallbackText"]
    await services.gateway.turns.drain(10)
    await journal.flush()
    assert await journal.pending() == 0


async def test_a_turn_left_by_a_dead_replica_is_replayed_once_its_claim_runs_out(
    deferred: TestClient, connector: LocalConnector, clock: ManualClock
) -> None:
    services = deferred.server.app[SERVICES]
    # Another replica journaled and acknowledged this message, then died before the turn ran.
    dead = TurnJournal(services.db, clock, owner="dead-replica", lease=LEASE)
    body = json.dumps(message(connector.url, "Får jag ta med kontorsstolen hem?", id="lost-1"))
    await dead.add("msteams/a:personal-1", body, anonymous_auth())
    gateway = services.gateway
    logic = services.bot.on_turn
    assert await gateway.recover(logic) == 0  # its claim still holds: nobody else may run it
    clock.advance(LEASE + timedelta(seconds=1))
    assert await gateway.recover(logic) == 1
    await connector.wait_for_count(1)
    reply = connector.activities()[0]
    assert reply["replyToId"] == "lost-1"
    assert "stol" in reply["attachments"][0]["content"]["fallbackText"].lower()
    await gateway.turns.drain(10)
    await gateway.journal.flush()
    assert await gateway.journal.pending() == 0
    assert await gateway.recover(logic) == 0  # replayed once, not again


async def test_stopping_hands_unfinished_turns_back_and_the_next_start_runs_them(
    tmp_path: Path, connector: LocalConnector, clock: ManualClock, database_url: str
) -> None:
    settings = bot_settings(tmp_path, database_url, defer_turns=True)
    release = hold(connector)
    first = create_app(settings, clock=clock)
    runner = web.AppRunner(first)
    await runner.setup()
    gateway = first[SERVICES].gateway
    await gateway.process("", _activity(connector.url, "Måste jag ha VPN?", "s1"), first[SERVICES].bot.on_turn)
    assert await gateway.journal.pending() == 1
    await gateway.close(drain_timeout=0.2)  # the reply never got its answer: the turn is cancelled
    await runner.cleanup()
    connector.received.clear()
    release.set()
    # A new process starts at the same moment: the handed-back row is its to run, without waiting for the lease.
    second = create_app(settings, clock=clock)
    runner = web.AppRunner(second)
    await runner.setup()
    try:
        await connector.wait_for_count(1)
        assert connector.activities()[0]["replyToId"] == "s1"
    finally:
        await runner.cleanup()


async def test_without_a_working_journal_the_turn_runs_before_the_answer(
    deferred: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture
) -> None:
    services = deferred.server.app[SERVICES]
    async with services.db.e.begin() as conn:
        await conn.execute(text("DROP TABLE turn_journal"))
    release = hold(connector)  # the turn outlasts ACK_WAIT_MS, so it would have to be written down
    with caplog.at_level(logging.ERROR, logger="bot.transport.channel"):
        post = asyncio.ensure_future(
            deferred.post("/api/messages", json=message(connector.url, "Måste jag ha VPN?", id="f1"))
        )
        await asyncio.sleep(0.3)
        assert not post.done()  # nothing was written down, so the channel waits for the turn
        release.set()
        response = await asyncio.wait_for(post, 10)
    assert response.status == 201
    assert [r["replyToId"] for r in connector.activities()] == ["f1"]
    assert "turn journal unavailable" in caplog.text


async def test_a_turn_that_finishes_in_time_is_answered_after_it_and_never_written_down(
    deferred: TestClient, connector: LocalConnector
) -> None:
    services = deferred.server.app[SERVICES]
    journal = services.gateway.journal
    services.gateway.ack_wait = 5.0  # surely in time, however slow the test machine
    inline = journal._hop.inline  # SQLite: the journal's own connection counts its commits
    commits_before = inline._commits if inline is not None else None
    response = await deferred.post("/api/messages", json=message(connector.url, "Måste jag ha VPN?", id="q1"))
    assert response.status == 201
    # The reply went out before the channel heard back, and the journal was never needed.
    assert [r["replyToId"] for r in connector.activities()] == ["q1"]
    await journal.flush()
    assert await journal.pending() == 0
    assert services.gateway._in_flight == set()
    if inline is not None:
        assert inline._commits == commits_before


async def test_a_turn_that_keeps_failing_is_given_up_after_its_attempts(
    deferred: TestClient, connector: LocalConnector, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    services = deferred.server.app[SERVICES]
    dead = TurnJournal(services.db, clock, owner="crashing", lease=LEASE, max_attempts=3)
    await dead.add("msteams/a:personal-1", json.dumps(message(connector.url, "VPN?", id="p1")), anonymous_auth())
    for _ in range(2):  # it ran on its first replica and on two more after; each died running it
        clock.advance(LEASE + timedelta(seconds=1))
        assert len(await dead.claim_expired()) == 1
    clock.advance(LEASE + timedelta(seconds=1))
    with caplog.at_level(logging.ERROR, logger="bot.transport.turn_journal"):
        assert await services.gateway.recover(services.bot.on_turn) == 0
    assert "journaled turn given up" in caplog.text
    assert await services.gateway.journal.pending() == 0
    assert connector.received == []


async def test_two_replicas_never_claim_the_same_row(tmp_path: Path, clock: ManualClock, database_url: str) -> None:
    settings = bot_settings(tmp_path, database_url)
    db = Database(settings.effective_database_url)
    await db.open()
    try:
        writer = TurnJournal(db, clock, owner="gone", lease=LEASE)
        for i in range(40):
            await writer.add(f"msteams/c{i % 4}", json.dumps({"type": "message", "id": str(i)}), anonymous_auth())
        clock.advance(LEASE + timedelta(seconds=1))
        a = TurnJournal(db, clock, owner="a", lease=LEASE)
        b = TurnJournal(db, clock, owner="b", lease=LEASE)
        claimed = await asyncio.gather(*(j.claim_expired(limit=7) for j in (a, b, a, b, a, b, a, b)))
        ids = [t.id for batch in claimed for t in batch]
        assert len(ids) == 40
        assert len(set(ids)) == 40
    finally:
        await db.close()


def test_defer_turns_is_on_for_a_served_bot_and_refuses_nonsense() -> None:
    assert Settings.from_env({}).defer_turns is True
    assert Settings.from_env({"DEFER_TURNS": "off"}).defer_turns is False
    with pytest.raises(ConfigError, match="DEFER_TURNS"):
        Settings.from_env({"DEFER_TURNS": "maybe"})
    with pytest.raises(ConfigError, match="TURN_LEASE_SECONDS"):
        Settings.from_env({"TURN_LEASE_SECONDS": "0"})


def _activity(service_url: str, text_: str, id_: str) -> Activity:
    return Activity().deserialize(message(service_url, text_, id=id_))
