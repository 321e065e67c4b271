"""Scheduled jobs on a manual clock: the weekly slot, pauses, summer time, missed slots, HR's reminder, reminders."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from bot.broadcast import BroadcastFeature
from bot.broadcast.audit import Actor, audit_entries
from bot.broadcast.lagesbild import PUBLISHED, READY, ReportInput
from bot.broadcast.reminder_syntax import ReminderRequest
from bot.broadcast.schedule_math import next_slot_after
from bot.broadcast.scheduler import JOB_HR_REMINDER, JOB_LAGESBILD
from bot.clock import ManualClock
from bot.storage import Database
from bot.storage.tables import broadcasts, job_runs
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import AMBASSADOR_KSF, HR_ID, KSF_CHANNEL, FakeTime, content_dir, text_of
from tests.broadcast.rig import FeatureFactory, add_channels, add_personal_chat

HR = Actor(HR_ID, "HR")
# The shipped schedule has no pauses (the sources kept the lägesbild going in summer 2021); these tests opt in.
SUMMER_2021_PAUSE = """lagesbild: {weekday: monday, time: "08:00"}
hr_reminder: {days_before: 1, time: "10:00"}
pauses:
  - {from: 2021-06-24, to: 2021-08-16, reason: Ett uppehåll som organisationen valt}
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def subscribe(feature: BroadcastFeature, url: str, count: int = 3) -> list[str]:
    channels = await add_channels(feature, url, count)
    for cid in channels:
        await feature.registry.set_subscribed(cid, True, HR)
    return channels


async def ready_report(feature: BroadcastFeature, clock: ManualClock, week: str = "48") -> int:
    draft = await feature.lagesbild.save_draft(ReportInput(week, "ordinarie", "Läget är lugnt."), HR, None, clock.now())
    slot = feature.scheduler.next_lagesbild_slot(clock.now())
    assert slot is not None
    assert await feature.lagesbild.mark_ready(draft.id, slot, HR, clock.now())
    return draft.id


async def deliver(feature: BroadcastFeature, clock: ManualClock) -> None:
    await feature.new_worker(clock=clock, sleep=FakeTime(clock).sleep).drain()


async def broadcast_count(database: Database, kind: str = "lagesbild") -> int:
    async with database.e.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(broadcasts).where(broadcasts.c.kind == kind)))


async def test_weekly_slot_publishes_the_ready_report_exactly_once_across_replicas(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    replica = await new_feature(clock)
    channels = await subscribe(feature, connector.url)
    report_id = await ready_report(feature, clock)  # Monday 23 Nov, 10:00: for Monday 30 Nov 08:00

    assert await feature.scheduler.run_due(utc(2026, 11, 30, 6, 59)) == []
    slot = utc(2026, 11, 30, 7, 0)
    first, second = await asyncio.gather(feature.scheduler.run_due(slot), replica.scheduler.run_due(slot))
    fired = [r for r in first + second if r.job_id == JOB_LAGESBILD]
    assert len(fired) == 1
    assert fired[0].outcome.startswith("published:")
    assert await replica.scheduler.run_due(slot + timedelta(minutes=5)) == []  # a restart later that morning
    assert (await feature.lagesbild.get(report_id)).state == PUBLISHED

    clock.set(slot)
    await deliver(feature, clock)
    assert sorted(r.conversation_id for r in connector.received) == channels
    assert "Läget är lugnt." in text_of(connector.received[0].activity)
    async with database.e.connect() as conn:
        rows = (await conn.execute(select(job_runs).where(job_runs.c.job_id == JOB_LAGESBILD))).all()
    assert len(rows) == 1
    actions = [(e.action, e.subject, e.target_count) for e in await audit_entries(database, f"lagesbild:{report_id}")]
    assert ("schedule", f"lagesbild:{report_id}", None) in actions
    assert ("publish", f"lagesbild:{report_id}", 3) in actions
    assert ("send", f"lagesbild:{report_id}", 3) in actions
    assert ("delivered", f"lagesbild:{report_id}", 3) in actions

    # Next week, with no new report, nothing goes out: last week's is not sent again.
    assert [r.outcome for r in await feature.scheduler.run_due(utc(2026, 12, 7, 7, 0))] == ["no-report"]
    assert await broadcast_count(database) == 1


@pytest.mark.parametrize(
    ("made_ready_at", "before", "slot"),
    [
        # Summer time starts Sunday 28 March 2027: Monday 08:00 is 06:00 UTC.
        (utc(2027, 3, 24, 12, 0), utc(2027, 3, 29, 5, 59), utc(2027, 3, 29, 6, 0)),
        # Summer time ends Sunday 31 October 2027: Monday 08:00 is 07:00 UTC again.
        (utc(2027, 10, 27, 12, 0), utc(2027, 11, 1, 6, 59), utc(2027, 11, 1, 7, 0)),
    ],
)
async def test_the_slot_is_0800_local_across_the_summer_time_change(
    new_feature: FeatureFactory,
    connector: LocalConnector,
    clock: ManualClock,
    made_ready_at: datetime,
    before: datetime,
    slot: datetime,
) -> None:
    feature = await new_feature(clock)
    await subscribe(feature, connector.url, 1)
    clock.set(made_ready_at)
    await ready_report(feature, clock)
    assert [r for r in await feature.scheduler.run_due(before) if r.job_id == JOB_LAGESBILD] == []
    (run,) = [r for r in await feature.scheduler.run_due(slot) if r.job_id == JOB_LAGESBILD]
    assert run.scheduled_for == slot
    assert run.outcome.startswith("published:")


async def test_nothing_goes_out_in_a_pause_and_it_resumes_by_itself(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock, tmp_path: Path
) -> None:
    """A pause configured for 24 June – 16 August 2021: every Monday in it is skipped."""
    content_dir(tmp_path, **{"schedule.yaml": SUMMER_2021_PAUSE})
    feature = await new_feature(clock)
    await subscribe(feature, connector.url, 2)
    clock.set(utc(2021, 6, 22, 12, 0))
    report_id = await ready_report(feature, clock, week="26")
    assert (await feature.lagesbild.get(report_id)).for_slot == utc(2021, 8, 23, 6, 0)

    monday = utc(2021, 6, 28, 6, 0)
    while monday <= utc(2021, 8, 16, 6, 0):
        outcomes = {r.job_id: r.outcome for r in await feature.scheduler.run_due(monday)}
        assert outcomes[JOB_LAGESBILD].startswith("paused"), monday
        monday += timedelta(days=7)
    assert await broadcast_count(database) == 0

    outcomes = {r.job_id: r.outcome for r in await feature.scheduler.run_due(utc(2021, 8, 23, 6, 0))}
    assert outcomes[JOB_LAGESBILD].startswith("published:")


async def test_a_slot_missed_while_down_runs_at_start_within_grace_and_never_late(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    await subscribe(feature, connector.url, 1)
    await ready_report(feature, clock)
    # Down from Sunday evening until Monday 13:59 local: still within the 6 h grace.
    restarted = await new_feature(clock)
    runs = [r for r in await restarted.scheduler.run_due(utc(2026, 11, 30, 12, 59)) if r.job_id == JOB_LAGESBILD]
    assert [r.scheduled_for for r in runs] == [utc(2026, 11, 30, 7, 0)]
    assert await restarted.scheduler.run_due(utc(2026, 11, 30, 13, 0)) == []


async def test_a_report_whose_slot_was_missed_beyond_grace_is_not_sent_later_as_new(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    await subscribe(feature, connector.url, 1)
    await add_personal_chat(feature, connector.url, HR_ID)
    report_id = await ready_report(feature, clock)
    assert [r.job_id for r in await feature.scheduler.run_due(utc(2026, 11, 30, 15, 0))] == []  # back too late
    assert (await feature.lagesbild.get(report_id)).state == READY
    # HR is reminded before the next slot, and the next slot sends nothing.
    hr = {r.job_id: r.outcome for r in await feature.scheduler.run_due(utc(2026, 12, 6, 9, 0))}
    assert hr[JOB_HR_REMINDER] == "reminded:1"
    assert {r.job_id: r.outcome for r in await feature.scheduler.run_due(utc(2026, 12, 7, 7, 0))} == {
        JOB_LAGESBILD: "no-report"
    }
    assert await broadcast_count(database) == 0


async def test_hr_is_reminded_the_day_before_when_no_report_is_ready(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    hr_chat = await add_personal_chat(feature, connector.url, HR_ID)
    sunday_1000 = utc(2026, 11, 29, 9, 0)
    assert [r.job_id for r in await feature.scheduler.run_due(sunday_1000 - timedelta(minutes=1))] == []
    (run,) = await feature.scheduler.run_due(sunday_1000)
    assert (run.job_id, run.outcome) == (JOB_HR_REMINDER, "reminded:1")
    assert await feature.scheduler.run_due(sunday_1000 + timedelta(hours=1)) == []  # once
    clock.set(sunday_1000)
    await deliver(feature, clock)
    (message,) = connector.activities(hr_chat)
    assert "ingen ny lägesbild" in text_of(message)
    assert "måndag 30 november 2026 kl 08:00" in text_of(message)

    # A draft that is not scheduled: HR is told to schedule or publish it.
    await feature.lagesbild.save_draft(ReportInput("49", "ordinarie", "Utkast."), HR, None, utc(2026, 12, 1, 9, 0))
    (run,) = await feature.scheduler.run_due(utc(2026, 12, 6, 9, 0))
    clock.set(utc(2026, 12, 6, 9, 0))
    await deliver(feature, clock)
    assert "inte schemalagt" in text_of(connector.activities(hr_chat)[-1])

    # A ready report: no reminder.
    clock.set(utc(2026, 12, 8, 9, 0))
    await ready_report(feature, clock, week="50")
    (run,) = await feature.scheduler.run_due(utc(2026, 12, 13, 9, 0))
    assert run.outcome == "not-needed:ready"


async def test_no_hr_reminder_before_a_paused_slot(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock, tmp_path: Path
) -> None:
    content_dir(tmp_path, **{"schedule.yaml": SUMMER_2021_PAUSE})
    feature = await new_feature(clock)
    await add_personal_chat(feature, connector.url, HR_ID)
    (run,) = await feature.scheduler.run_due(utc(2021, 7, 4, 8, 0))  # Sunday 10:00 CEST before a paused Monday
    assert (run.job_id, run.outcome) == (JOB_HR_REMINDER, "paused")


async def test_weekly_reminder_fires_every_monday_until_its_last_date_and_cancel_stops_it(
    new_feature: FeatureFactory, database: Database, connector: LocalConnector, clock: ManualClock
) -> None:
    feature = await new_feature(clock)
    await add_channels(feature, connector.url, 1, prefix="19:exempel-ksf-hr-allmant")  # not the configured id
    request = ReminderRequest(
        "weekly", weekdays=frozenset({0}), at=time(9, 0), until=date(2026, 12, 14), template_id="hygien"
    )
    reminder = await feature.reminders.create(request, "ksf-hr", Actor(AMBASSADOR_KSF, "Amb"), None, clock.now())
    fired = []
    moment = clock.now()
    for _ in range(6):
        moment = next_slot_after(moment, reminder.rule, feature.tz)
        fired += [
            (r.scheduled_for, r.outcome.split(":")[0])
            for r in await feature.scheduler.run_due(moment)
            if r.job_id == reminder.job_id
        ]
    assert fired == [
        (utc(2026, 11, 30, 8, 0), "sent"),
        (utc(2026, 12, 7, 8, 0), "sent"),
        (utc(2026, 12, 14, 8, 0), "sent"),
    ]
    assert (await feature.reminders.get(reminder.id)).state == "done"

    # The configured channel had no reference of its own; it was reached through a seen channel's.
    clock.set(moment)
    await deliver(feature, clock)
    assert {r.conversation_id for r in connector.received} == {KSF_CHANNEL}
    assert len(connector.received) == 3

    second = await feature.reminders.create(
        request, "ksf-hr", Actor(AMBASSADOR_KSF, "Amb"), None, utc(2026, 11, 23, 9, 0)
    )
    assert await feature.reminders.cancel(second.id, Actor(HR_ID, "HR"), clock.now())
    assert [r for r in await feature.scheduler.run_due(utc(2026, 11, 30, 8, 0)) if r.job_id == second.job_id] == []
    assert "cancel" in [e.action for e in await audit_entries(database, second.job_id)]


async def test_each_replica_rebuilds_its_in_memory_jobs_from_the_database_with_local_wall_times(
    new_feature: FeatureFactory, database: Database, clock: ManualClock
) -> None:
    """The real wake-ups: each replica's own APScheduler, jobs in memory, 08:00 Stockholm time."""
    from apscheduler.jobstores.memory import MemoryJobStore

    feature = await new_feature(clock)
    other = await new_feature(clock)  # a second replica on the same database
    request = ReminderRequest("weekly", weekdays=frozenset({3}), at=time(9, 0))
    await feature.scheduler.start()
    await other.scheduler.start()
    try:
        aps = feature.scheduler.aps
        assert aps is not None
        assert other.scheduler.aps is not None
        assert isinstance(aps._lookup_jobstore("default"), MemoryJobStore)
        # Created through one replica; the other learns of it at its next resync (sync_jobs).
        reminder = await feature.reminders.create(request, "ksf-hr", Actor(AMBASSADOR_KSF, "Amb"), None, clock.now())
        await feature.scheduler.sync_jobs()
        assert other.scheduler.aps.get_job(f"bc:{reminder.job_id}") is None
        await other.scheduler.sync_jobs()
        for replica in (aps, other.scheduler.aps):
            ids = {job.id for job in replica.get_jobs()}
            assert {"bc:lagesbild", "bc:lagesbild-hr-reminder", f"bc:{reminder.job_id}", "resync"} <= ids
            now = datetime.now(UTC)
            expected = next_slot_after(now, feature.content.lagesbild_rule, feature.tz)
            assert replica.get_job("bc:lagesbild").next_run_time == expected
            assert replica.get_job(f"bc:{reminder.job_id}").next_run_time.astimezone(feature.tz).hour == 9
        await feature.reminders.cancel(reminder.id, HR, clock.now())
        for replica in (feature, other):
            await replica.scheduler.sync_jobs()
            assert replica.scheduler.aps.get_job(f"bc:{reminder.job_id}") is None
    finally:
        await feature.scheduler.stop()
        await other.scheduler.stop()
    # Nothing of APScheduler's is kept in the database: job_runs is the only coordination.
    async with database.e.connect() as conn:
        assert "apscheduler_jobs" not in await conn.run_sync(lambda c: inspect(c).get_table_names())


async def test_both_replicas_woken_for_the_same_slot_fire_it_once(
    new_feature: FeatureFactory, database: Database, clock: ManualClock
) -> None:
    """Two in-memory job stores mean two wake-ups per slot; the job_runs row lets one of them through."""
    replicas = [await new_feature(clock) for _ in range(2)]
    request = ReminderRequest("once", run_at=utc(2026, 11, 24, 8, 0))  # 09:00 in Stockholm
    reminder = await replicas[0].reminders.create(request, "ksf-hr", Actor(AMBASSADOR_KSF, "Amb"), None, clock.now())
    clock.set(utc(2026, 11, 24, 8, 0, 30))
    await asyncio.gather(*(replica.scheduler.wake(reminder.job_id) for replica in replicas))
    async with database.e.connect() as conn:
        runs = (await conn.execute(select(job_runs).where(job_runs.c.job_id == reminder.job_id))).all()
    assert len(runs) == 1
