"""Issue 5 acceptance: two real service processes on one PostgreSQL database.

One schema, a local Bot Connector in this process, 200 subscribed channels and a lägesbild that HR
left for a weekly slot that is due when the replicas start. Both replicas run the scheduler at
start-up (the same slot, at the same time): exactly one fires it. Both delivery workers share the
outbox (SELECT … FOR UPDATE SKIP LOCKED); one replica is SIGKILLed in the middle of the delivery
and the survivor takes its rows over when their leases expire. Every channel gets the lägesbild,
duplicates stay within the design's bound (the killed worker's sends in flight, at most
DELIVERY_CONCURRENCY, bot/broadcast/delivery.py), and a walkthrough started on one replica
continues on the other.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from botbuilder.schema import Activity
from sqlalchemy import func, select

from bot.broadcast import build_broadcast
from bot.broadcast.audit import Actor
from bot.broadcast.lagesbild import parse_report_text
from bot.broadcast.outbox import PENDING
from bot.clock import SystemClock
from bot.config import Settings
from bot.storage import Database
from bot.storage.tables import broadcasts, job_runs, outbox
from bot.transport.channel import ChannelGateway
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import HR_ID, MANAGER_ID, bot_added_to_team, content_dir, personal, text_of
from tests.conftest import create_pg_schema, drop_pg_schema, postgres_url_for_schema, require_postgres
from tests.service_process import ServiceProcess as Replica

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

CHANNELS = 200
CONCURRENCY = 8  # DELIVERY_CONCURRENCY: sends in flight per replica, the design's duplicate bound per crash
LEASE_S = 3.0  # DELIVERY_LEASE_SECONDS (default 90 s): a crashed replica's rows are taken over after this
RATE = "15/1"  # TEAMS_LIMITS_OVERALL per replica: ~7 s for 200 channels, so the kill lands mid-delivery
CONNECTOR_DELAY = 0.03
TZ = "Europe/Stockholm"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

REPORT = """läge: aktiverat
vecka: 48
sammanfattning: Två repliker, en databas.
beslut: Distansarbete gäller till 31 januari."""


def schedule_yaml(slot_local: datetime) -> str:
    """The weekly lägesbild slot one minute ago (due at start within the grace); no pauses, no HR reminder due."""
    at = slot_local.strftime("%H:%M")
    return (
        f'lagesbild:\n  weekday: {WEEKDAYS[slot_local.weekday()]}\n  time: "{at}"\n'
        f'hr_reminder:\n  days_before: 1\n  time: "{at}"\n'
        "grace_hours: 1\npauses: []\n"
    )


async def prepare(url: str, settings: Settings, service_url: str, slot: datetime) -> list[str]:
    """Through the broadcast feature's own classes: channels added and subscribed, HR's chat, a report ready for `slot`."""
    db = Database(url)
    await db.open()
    gateway = ChannelGateway(settings)
    try:
        feature, _ = build_broadcast(settings, db, SystemClock(), gateway)
        manager = Actor(MANAGER_ID, "Chef")
        channels = [f"19:replica-{i:04d}@thread.tacv2" for i in range(CHANNELS)]
        for cid in channels:
            await feature.registry.record(Activity().deserialize(bot_added_to_team(service_url, cid)))
            assert await feature.registry.set_subscribed(cid, True, manager)
        hr_chat = await feature.registry.record(Activity().deserialize(personal(service_url, HR_ID, "hej")))
        hr = Actor(HR_ID, "HR")
        now = datetime.now(UTC)
        draft = await feature.lagesbild.save_draft(
            parse_report_text(REPORT, feature.content.sections, "48"), hr, hr_chat, now - timedelta(minutes=5)
        )
        assert await feature.lagesbild.mark_ready(draft.id, slot, hr, now - timedelta(minutes=5))
        return channels
    finally:
        await gateway.close()
        await db.close()


def lagesbild_counts(connector: LocalConnector, channels: set[str]) -> Counter[str]:
    return Counter(r.conversation_id for r in connector.received if r.conversation_id in channels)


async def say(session: aiohttp.ClientSession, replica: Replica, connector: LocalConnector, aad: str, text: str) -> str:
    activity = personal(connector.url, aad, text)
    cid = activity["conversation"]["id"]
    before = len(connector.received)
    await replica.post(session, activity)
    return "\n".join(text_of(r.activity) for r in connector.received[before:] if r.conversation_id == cid)


async def test_two_replicas_one_database_kill_one_mid_delivery(tmp_path: Path) -> None:
    require_postgres()
    started = time.monotonic()
    schema = f"r_{uuid.uuid4().hex[:12]}"
    await create_pg_schema(schema)
    url = postgres_url_for_schema(schema)
    connector = LocalConnector(delay=CONNECTOR_DELAY)
    await connector.start()
    replicas: list[Replica] = []
    try:
        slot_local = (datetime.now(ZoneInfo(TZ)) - timedelta(minutes=1)).replace(second=0, microsecond=0)
        slot = slot_local.astimezone(UTC)
        content = content_dir(tmp_path, **{"schedule.yaml": schedule_yaml(slot_local)})
        settings = Settings(data_dir=tmp_path, content_dir=content, database_url=url, timezone=TZ)
        channels = await prepare(url, settings, connector.url, slot)
        wanted = set(channels)

        env = {
            "DATABASE_URL": url,
            "CONTENT_DIR": str(content),
            "TIMEZONE": TZ,
            "LOG_LEVEL": "INFO",
            "BROADCAST_BACKGROUND": "1",
            "DELIVERY_CONCURRENCY": str(CONCURRENCY),
            "TEAMS_LIMITS_OVERALL": RATE,
            "DELIVERY_LEASE_SECONDS": str(LEASE_S),
            "DELIVERY_SEND_TIMEOUT": str(LEASE_S / 2),
            # Turns are journaled (the default) and the POST is answered once the turn, state save
            # included, has finished: as a user who answers after reading the question.
            "ACK_WAIT_MS": "5000",
        }
        a = Replica("A", tmp_path / "a", env)
        b = Replica("B", tmp_path / "b", env)
        replicas += [a, b]
        # Both start together: both run the scheduler's start-up catch-up for the same due slot.
        await asyncio.gather(a.start(), b.start())
        await asyncio.gather(a.wait_healthy(), b.wait_healthy())
        healthy_at = time.monotonic()

        # State written by one replica is read by the other: a walkthrough started on A continues on B.
        async with aiohttp.ClientSession() as session:
            first = await say(session, a, connector, MANAGER_ID, "checklista hemarbete")
            assert "Vilken roll eller medarbetare gäller bedömningen?" in first, first
            second = await say(session, b, connector, MANAGER_ID, "handläggare bygglov")
            assert "Passar medarbetarens arbetsuppgifter att göra hemifrån?" in second, second
            assert "Vilken roll" not in second
            third = await say(session, a, connector, MANAGER_ID, "ja")  # and back on A: the third question
            assert third.strip(), third
            assert "Har medarbetaren arbetsuppgifter" not in third, third

        # Kill A in the middle of the delivery (SIGKILL: nothing recorded, leases kept, sends cut off).
        await connector.wait_for(lambda: len(lagesbild_counts(connector, wanted)) >= CHANNELS // 4, within=30)
        a.kill()
        killed_at = time.monotonic()
        at_kill = len(lagesbild_counts(connector, wanted))
        assert at_kill < CHANNELS, "the delivery ended before the kill: lower TEAMS_LIMITS_OVERALL"
        await a.proc.wait()  # type: ignore[union-attr]

        db = Database(url)
        await db.open()
        try:
            async with db.e.connect() as conn:
                leases: dict[str, int] = dict(
                    (
                        await conn.execute(
                            select(outbox.c.claimed_by, func.count())
                            .where(outbox.c.state == PENDING, outbox.c.claimed_by.is_not(None))
                            .group_by(outbox.c.claimed_by)
                        )
                    ).all()
                )
            worker_a = a.worker_id()
            assert worker_a is not None, a.log_tail()
            held_by_a = leases.get(worker_a, 0)

            # The survivor takes the dead replica's rows over once their leases expire.
            await connector.wait_for(lambda: set(lagesbild_counts(connector, wanted)) == wanted, within=30)
            all_at = time.monotonic()
            deadline = time.monotonic() + 15
            while True:  # until the broadcast is finished (its report enqueued) and no row is pending
                async with db.e.connect() as conn:
                    states: dict[str, int] = dict(
                        (await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))).all()
                    )
                    open_broadcasts = await conn.scalar(
                        select(func.count()).where(broadcasts.c.kind == "lagesbild", broadcasts.c.finished_at.is_(None))
                    )
                if (PENDING not in states and not open_broadcasts) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            async with db.e.connect() as conn:
                runs = (await conn.execute(select(job_runs).where(job_runs.c.job_id == "lagesbild"))).all()
                sent = (await conn.execute(select(broadcasts.c.kind, func.count()).group_by(broadcasts.c.kind))).all()
        finally:
            await db.close()

        counts = lagesbild_counts(connector, wanted)
        delivered = len(counts)
        duplicates = sum(n - 1 for n in counts.values())
        lost = len(wanted - set(counts))
        reports = [text_of(r.activity) for r in connector.received if r.conversation_id == "a:personal-00a1"]
        print(
            f"\nreplicas: {CHANNELS} channels, concurrency {CONCURRENCY}/replica, lease {LEASE_S:g} s; "
            f"healthy after {healthy_at - started:.1f} s; killed A with {at_kill} channels delivered, "
            f"A held {held_by_a} leases (all leases {leases}); all delivered {all_at - killed_at:.1f} s after the kill\n"
            f"delivered={delivered} duplicates={duplicates} lost={lost} outbox={states} "
            f"job_runs(lagesbild)={[(r.fired_by, r.outcome) for r in runs]} broadcasts={dict(sent)} "
            f"total {time.monotonic() - started:.1f} s"
        )

        assert lost == 0
        assert duplicates <= CONCURRENCY  # the killed replica's sends in flight, nothing more
        assert states == {"delivered": CHANNELS + 1}  # every channel, and HR's delivery report
        assert held_by_a > 0, "A held no leases when it was killed: it was not mid-delivery"
        # The slot was due at both replicas' start: it fired once, and one lägesbild broadcast went out.
        assert len(runs) == 1
        assert runs[0].scheduled_for == slot
        assert runs[0].outcome.startswith("published:")
        assert dict(sent) == {"lagesbild": 1, "report": 1}
        fired = [r for r in (*a.logs(), *b.logs()) if r.get("event") == "job fired" and r.get("job") == "lagesbild"]
        assert len(fired) == 1
        assert len(reports) == 1, reports
        assert f"Levererad till {CHANNELS} av {CHANNELS}" in reports[0], reports
        assert b.alive
        errors = [r for r in b.logs() if r.get("level") in ("error", "critical")]
        assert not errors, errors
    finally:
        for replica in replicas:
            replica.kill()
        for replica in replicas:
            if replica.proc is not None:
                await replica.proc.wait()
        await connector.stop()
        await drop_pg_schema(schema)
