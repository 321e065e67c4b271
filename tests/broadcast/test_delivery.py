"""Delivery through the real ChannelGateway to the local connector over HTTP: nothing lost, nothing twice, limits kept."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select, text

from bot.broadcast.conversations import GONE
from bot.broadcast.delivery import WorkerSettings
from bot.broadcast.rate_limit import TEAMS_OVERALL, TEAMS_PER_CONVERSATION
from bot.clock import ManualClock, SystemClock
from bot.storage import Database
from bot.storage.tables import conversation_refs, outbox
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import FakeTime, text_of
from tests.broadcast.limits import violations
from tests.broadcast.rig import FeatureFactory, RequestLog, add_channels, add_personal_chat, broadcast, install_faults


def received(connector: LocalConnector) -> Counter[str]:
    return Counter(r.conversation_id for r in connector.received)


async def test_every_channel_gets_the_message_once_despite_429_and_5xx_within_limits(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector
) -> None:
    """Real time: Retry-After and backoff are waited for, and the connector's clock judges the limits."""
    feature = await new_feature(SystemClock())
    channels = await add_channels(feature, connector.url, 60)
    rng = random.Random(4)
    log = RequestLog()

    def fault(cid: str, attempt: int) -> web.Response | None:
        roll = rng.random()
        if roll < 0.08:
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
        if roll < 0.16:
            return web.json_response({}, status=rng.choice([500, 502, 503, 504, 412]))
        return None

    install_faults(connector, fault, log)
    await broadcast(feature, channels)
    await feature.new_worker().drain()

    assert received(connector) == Counter(dict.fromkeys(channels, 1))
    assert sum(len(t) for t in log.times.values()) > len(channels)  # faults happened and were retried
    assert violations(log.all_times(), TEAMS_OVERALL) == []
    for cid, times in log.times.items():
        assert violations(times, TEAMS_PER_CONVERSATION) == [], cid
    assert await feature.outbox.counts() == {"delivered": 60}


async def test_many_messages_to_one_conversation_keep_its_windows(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector
) -> None:
    feature = await new_feature(SystemClock())
    (channel,) = await add_channels(feature, connector.url, 1)
    log = RequestLog()
    install_faults(connector, None, log)
    for n in range(12):
        await broadcast(feature, [channel], text=f"meddelande {n}")
    await feature.new_worker().drain()
    assert len(connector.received) == 12
    assert violations(log.times[channel], TEAMS_PER_CONVERSATION) == []
    # 7 a second then 8 in 2 s: the 12th cannot go before about 2 s.
    assert max(log.times[channel]) - min(log.times[channel]) > 2.0


async def test_persistent_failure_is_reported_with_its_reason_and_a_removed_bot_is_gone(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    """Manual time: backoff grows until the attempt limit, 403 stops at once; the author gets a report."""
    feature = await new_feature(clock, delivery_max_attempts=5)
    ok, broken, removed = await add_channels(feature, connector.url, 3)
    hr_chat = await add_personal_chat(feature, connector.url)
    log = RequestLog()

    def fault(cid: str, attempt: int) -> web.Response | None:
        if cid == broken:
            return web.json_response({}, status=503)
        if cid == removed:
            return web.json_response({"error": {"code": "BotNotInConversationRoster"}}, status=403)
        return None

    install_faults(connector, fault, log, clock)
    enqueued = await broadcast(feature, [ok, broken, removed], report_to=hr_chat)
    fake = FakeTime(clock)
    await feature.new_worker(clock=clock, sleep=fake.sleep).drain()

    assert len(log.times[broken]) == 5
    gaps = [b - a for a, b in zip(log.times[broken], log.times[broken][1:], strict=False)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps  # exponential
    assert 0.5 <= gaps[0] <= 1.0
    assert 4.0 <= gaps[3] <= 8.0
    assert len(log.times[removed]) == 1
    summary = await feature.outbox.summary(enqueued.broadcast_id)
    assert summary.delivered == 1
    assert summary.failed[0][1].startswith("503")
    assert "5 attempts" in summary.failed[0][1]
    assert len(summary.gone) == 1
    async with database.e.connect() as conn:
        state = await conn.scalar(
            select(conversation_refs.c.state).where(conversation_refs.c.conversation_id == removed)
        )
    assert state == GONE

    (report,) = connector.activities(hr_chat)
    text = text_of(report)
    assert "Levererad till 1 av 3" in text
    assert "503" in text
    assert "Boten finns inte längre där (1)" in text

    # Nothing more goes to the removed conversation: a later broadcast marks it gone without a request.
    await broadcast(feature, [ok, removed])
    await feature.new_worker(clock=clock, sleep=fake.sleep).drain()
    assert len(log.times[removed]) == 1


async def test_retry_after_is_honoured(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    (channel,) = await add_channels(feature, connector.url, 1)
    log = RequestLog()

    def fault(cid: str, attempt: int) -> web.Response | None:
        if attempt <= 2:
            return web.json_response({}, status=429, headers={"Retry-After": "30"})
        return None

    install_faults(connector, fault, log, clock)
    await broadcast(feature, [channel])
    await feature.new_worker(clock=clock, sleep=FakeTime(clock).sleep).drain()
    times = log.times[channel]
    assert len(times) == 3
    assert times[1] - times[0] >= 30
    assert times[2] - times[1] >= 30
    assert len(connector.received) == 1


async def test_two_workers_never_send_the_same_row(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector
) -> None:
    """Two replicas on one database: claims (SKIP LOCKED on PostgreSQL) split the rows between them."""
    feature = await new_feature(SystemClock())
    other = await new_feature(SystemClock())
    channels = await add_channels(feature, connector.url, 40)
    connector.delay = 0.01
    await broadcast(feature, channels)
    quick = WorkerSettings(poll_interval=0.05)  # a worker waits for the other's leases by polling
    first, second = feature.new_worker(worker_settings=quick), other.new_worker(worker_settings=quick)
    await asyncio.gather(first.drain(), second.drain())
    assert received(connector) == Counter(dict.fromkeys(channels, 1))
    async with database.e.connect() as conn:
        attempts = (await conn.execute(select(outbox.c.attempts))).scalars().all()
    assert set(attempts) == {1}


async def test_a_crash_mid_delivery_loses_nothing_and_duplicates_at_most_the_sends_in_flight(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    """A worker dies with sends in flight and leases held; after the leases expire another takes over."""
    feature = await new_feature(clock)
    channels = await add_channels(feature, connector.url, 20)
    hang = asyncio.Event()
    in_flight: list[str] = []
    all_in_flight = asyncio.Event()
    concurrency = 4

    async def stuck(cid: str, body: dict) -> None:
        in_flight.append(cid)
        if len(in_flight) == concurrency:
            all_in_flight.set()
        await hang.wait()  # Teams has the message, but the answer never comes back before the crash

    connector.fault = stuck
    await broadcast(feature, channels)
    dying = feature.new_worker(
        clock=clock, sleep=FakeTime(clock).sleep, worker_settings=WorkerSettings(concurrency=concurrency)
    )
    task = asyncio.create_task(dying.drain())
    await asyncio.wait_for(all_in_flight.wait(), 10)
    dying.abort()  # the process dies: nothing recorded, leases kept
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    connector.fault = None
    hang.set()  # the requests that were in flight reach "Teams" after all

    restarted = await new_feature(clock)
    await restarted.new_worker(clock=clock, sleep=FakeTime(clock).sleep).drain()

    counts = received(connector)
    assert set(counts) == set(channels)  # nothing lost
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= concurrency
    assert await restarted.outbox.counts() == {"delivered": 20}


async def test_polling_an_empty_outbox_does_not_wait_for_another_writer(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector
) -> None:
    """The delivery worker polls every few seconds; with nothing due it only reads, so it neither waits
    for nor blocks a writer (turn state) that holds the SQLite file's write lock."""
    if not database.is_sqlite:
        return  # PostgreSQL claims with row locks (SKIP LOCKED), not a file lock
    feature = await new_feature(SystemClock())
    async with database.e.connect() as holder:
        await holder.execute(text("BEGIN IMMEDIATE"))
        await holder.execute(text("UPDATE outbox SET attempts = attempts WHERE id = -1"))
        claimed = await asyncio.wait_for(feature.outbox.claim("w1", 10, timedelta(seconds=30)), 2.0)
        await holder.execute(text("ROLLBACK"))
    assert claimed == []
    # Once something is due, a claim takes it.
    (channel,) = await add_channels(feature, connector.url, 1)
    await broadcast(feature, [channel])
    rows = await feature.outbox.claim("w1", 10, timedelta(seconds=30))
    assert [r.conversation_id for r in rows] == [channel]
