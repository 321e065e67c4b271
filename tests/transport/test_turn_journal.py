"""Deferred turns: acknowledged only once journaled, replayed when their replica is gone, never lost."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
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


# ---- issue 16: nothing acknowledged is lost, a live turn is never replayed, replies are not repeated ----

HR_ID = "00000000-0000-0000-0000-0000000000a1"  # content/roles.yaml
REPORT = "skriv lägesbild\nläge: ordinarie\nvecka: 48\nsammanfattning: Allt som vanligt."


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_reply_waits_for_a_connector_that_comes_up_later(
    aiohttp_client, tmp_path: Path, clock: ManualClock, database_url: str
) -> None:
    """The reply of an acknowledged message outlives a Bot Connector outage (it used to be dropped in ~1 s)."""
    settings = bot_settings(tmp_path, database_url, defer_turns=True)
    client = await aiohttp_client(create_app(settings, clock=clock))
    services = client.server.app[SERVICES]
    port = closed_port()
    response = await client.post(
        "/api/messages", json=message(f"http://127.0.0.1:{port}/", "Måste jag ha VPN?", id="late-1")
    )
    assert response.status == 201
    await asyncio.sleep(2.5)  # the old policy had given up after three tries by now
    assert await services.gateway.journal.pending() == 1  # still owed, still written down
    connector = LocalConnector()
    await connector.start(port=port)
    try:
        await connector.wait_for_count(1, within=30)
        assert connector.activities()[0]["replyToId"] == "late-1"
        await services.gateway.turns.drain(10)
        await services.gateway.journal.flush()
        assert await services.gateway.journal.pending() == 0
    finally:
        await connector.stop()


async def test_a_reply_is_dropped_with_a_warning_only_after_its_deadline(
    aiohttp_client, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bot_settings(tmp_path, defer_turns=True, reply_deadline_seconds=1.0)
    client = await aiohttp_client(create_app(settings, clock=clock))
    services = client.server.app[SERVICES]
    caplog.set_level(logging.INFO)
    body = message(f"http://127.0.0.1:{closed_port()}/", "Måste jag ha VPN?", id="never-1")
    assert (await client.post("/api/messages", json=body)).status == 201
    await services.gateway.turns.drain(15)
    await services.gateway.journal.flush()
    assert await services.gateway.journal.pending() == 0
    dropped = [r for r in caplog.records if r.getMessage() == "reply dropped"]
    assert len(dropped) == 1
    assert dropped[0].levelno == logging.WARNING
    assert dropped[0].conversation == "a:personal-1"  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_conversation_that_is_gone_drops_the_reply_at_once(
    deferred: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture
) -> None:
    services = deferred.server.app[SERVICES]
    connector.fault = lambda cid, body: web.json_response({"error": {"code": "BotNotInConversationRoster"}}, status=403)
    caplog.set_level(logging.INFO)
    assert (await deferred.post("/api/messages", json=message(connector.url, "VPN?"))).status == 201
    await services.gateway.turns.drain(10)
    assert connector.attempts == 1  # not retried
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == ["reply dropped"]


def test_reply_deadline_seconds_is_a_setting() -> None:
    assert Settings.from_env({}).reply_deadline_seconds >= 3600
    assert Settings.from_env({"REPLY_DEADLINE_SECONDS": "600"}).reply_deadline_seconds == 600
    with pytest.raises(ConfigError, match="REPLY_DEADLINE_SECONDS"):
        Settings.from_env({"REPLY_DEADLINE_SECONDS": "0"})


async def test_a_live_replica_renews_its_claim_and_never_replays_its_own_running_turn(
    aiohttp_client, tmp_path: Path, clock: ManualClock, database_url: str, connector: LocalConnector
) -> None:
    """TURN_LEASE_SECONDS=2 and a 3 s connector used to give the user two replies."""
    settings = bot_settings(tmp_path, database_url, defer_turns=True, turn_lease_seconds=2.0)
    client = await aiohttp_client(create_app(settings, clock=clock))
    services = client.server.app[SERVICES]
    gateway = services.gateway
    release = hold(connector)
    assert (await client.post("/api/messages", json=message(connector.url, "Måste jag ha VPN?", id="r1"))).status == 201
    for _ in range(4):  # 4 s of the lease's clock while the reply hangs: renewed at a fraction of the lease
        clock.advance(timedelta(seconds=1))
        await gateway.renew_claims()
    assert await gateway.recover(services.bot.on_turn) == 0
    release.set()
    await connector.wait_for_count(1)
    await gateway.turns.drain(10)
    await asyncio.sleep(0.2)
    assert [r["replyToId"] for r in connector.activities()] == ["r1"]
    assert gateway._renewer is not None  # the renewal runs by itself while the app does


async def test_each_accepted_reply_is_recorded_in_the_journal_at_once(
    deferred: TestClient, connector: LocalConnector
) -> None:
    services = deferred.server.app[SERVICES]
    journal = services.gateway.journal
    release = asyncio.Event()
    seen = 0

    async def hold_the_second(cid: str, body: dict[str, Any]) -> None:
        nonlocal seen
        seen += 1
        if seen >= 2:
            await release.wait()

    connector.fault = hold_the_second
    body = message(connector.url, REPORT, id="hr-1")
    body["from"] = {"id": "29:hr", "name": "HR", "aadObjectId": HR_ID}
    assert (await deferred.post("/api/messages", json=body)).status == 201
    await connector.wait_for_count(1)
    for _ in range(100):
        if await journal.sent_counts() == [1]:
            break
        await asyncio.sleep(0.02)
    assert await journal.sent_counts() == [1]
    release.set()
    await services.gateway.turns.drain(10)
    assert len(connector.activities()) == 3


async def test_a_replay_skips_the_replies_already_recorded_as_sent(
    deferred: TestClient, connector: LocalConnector, clock: ManualClock
) -> None:
    services = deferred.server.app[SERVICES]
    dead = TurnJournal(services.db, clock, owner="dead-replica", lease=LEASE)
    body = message(connector.url, REPORT, id="hr-2")
    body["from"] = {"id": "29:hr", "name": "HR", "aadObjectId": HR_ID}
    entry = await dead.add("msteams/a:personal-1", json.dumps(body), anonymous_auth())
    await dead.record_sent(entry, 1)  # its first reply (the preview's intro) was accepted before it died
    clock.advance(LEASE + timedelta(seconds=1))
    assert await services.gateway.recover(services.bot.on_turn) == 1
    await services.gateway.turns.drain(10)
    replies = connector.activities()
    assert len(replies) == 2  # the card and the next steps; the intro is not sent again
    assert all("Förhandsgranskning" not in (r.get("text") or "") for r in replies)


async def test_a_flush_returns_only_when_a_batch_already_under_way_is_written(
    database: Database, clock: ManualClock
) -> None:
    """The batch timer may have taken the finished rows a moment before: flush() waits for that write."""
    journal = TurnJournal(database, clock, owner="me", lease=LEASE)
    entry = await journal.add("msteams/c", json.dumps({"type": "message"}), anonymous_auth())
    write = journal._write_batch

    async def slow(ids: list[int], sent: dict[int, int]) -> None:
        await asyncio.sleep(0.2)
        await write(ids, sent)

    journal._write_batch = slow  # type: ignore[method-assign]
    journal.done(entry)
    under_way = asyncio.ensure_future(journal.flush())
    await asyncio.sleep(0.05)
    await journal.flush()
    assert await journal.pending() == 0
    await under_way
    await journal.close()
