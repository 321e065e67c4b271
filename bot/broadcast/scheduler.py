"""Scheduled jobs: the weekly lägesbild slot, HR's reminder the day before, and ambassadors' reminders.

`run_due(now)` is the whole of job execution: for each schedule it finds the slot due at `now`
(pure maths in schedule_math) and fires it in one transaction that first inserts the
(job_id, scheduled_for) row into `job_runs`. The primary key makes that insert succeed once per
slot, whichever replica or restart tries, so a slot fires exactly once, and the job's effects
(outbox rows, state changes, audit) commit with it or not at all. Tests call `run_due` with a
manual clock; in production APScheduler does the wake-ups, and the service calls `run_due` once
at start-up so a slot missed while it was down still fires when it is within the grace time
(never twice, never a backlog).

Each replica has its own APScheduler with an in-memory job store, rebuilt from the schedule tables
(`sync_jobs`) at start-up, after every wake-up and every RESYNC_SECONDS: APScheduler 3's job stores
must never be shared between schedulers, and nothing needs them to be, since `job_runs` is the only
coordination between replicas. The periodic resync also picks up reminders created or cancelled on
another replica; a wake-up for a job that is no longer wanted finds nothing due and fires nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from botbuilder.core import MessageFactory
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.content import BroadcastContent
from bot.broadcast.lagesbild import LagesbildStore
from bot.broadcast.publishing import Publisher
from bot.broadcast.reminders import ACTIVE, DONE, MISSED, Reminder, ReminderStore
from bot.broadcast.schedule_math import (
    Pause,
    WeeklyRule,
    due_slot,
    local_date,
    local_to_utc,
    next_slot_after,
    next_unpaused_slot,
    pause_bounds,
    pause_covering,
    shift_rule,
)
from bot.broadcast.texts import bt, format_day, format_moment
from bot.clock import Clock
from bot.storage import Database
from bot.storage.tables import job_runs, reminders

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

JOB_LAGESBILD = "lagesbild"
JOB_HR_REMINDER = "lagesbild-hr-reminder"
APS_PREFIX = "bc:"
RESYNC_JOB = "resync"
# How often a replica re-reads the schedules: a reminder created on another replica fires here at most this
# late when that replica is gone (well inside the grace time).
RESYNC_SECONDS = 60


@dataclass(frozen=True)
class Schedule:
    job_id: str
    rule: WeeklyRule | None = None
    once_at: datetime | None = None
    not_before: datetime | None = None
    until: date | None = None
    reminder: Reminder | None = None


@dataclass(frozen=True)
class Task:
    """Another feature's job on this scheduler (the daily clean-up of stored questions): fired once per slot
    like the others, in the transaction that inserts its `job_runs` row; returns the outcome to record."""

    job_id: str
    rule: WeeklyRule
    run: Callable[[AsyncConnection, datetime], Awaitable[str]]


@dataclass(frozen=True)
class JobRun:
    job_id: str
    scheduled_for: datetime
    outcome: str


class BroadcastScheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: ZoneInfo,
        content: BroadcastContent,
        publisher: Publisher,
        lagesbild: LagesbildStore,
        reminder_store: ReminderStore,
        *,
        instance_id: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.content = content
        self.publisher = publisher
        self.lagesbild = lagesbild
        self.reminders = reminder_store
        self.instance_id = instance_id or f"s-{uuid.uuid4().hex[:12]}"
        self.grace = content.grace
        self._aps: AsyncIOScheduler | None = None
        self.tasks: dict[str, Task] = {}

    def add_task(self, task: Task) -> None:
        self.tasks[task.job_id] = task

    # ---- what is scheduled ----------------------------------------------------------------

    @property
    def hr_reminder_rule(self) -> WeeklyRule:
        reminder = self.content.schedule.hr_reminder
        return shift_rule(self.content.lagesbild_rule, reminder.days_before, reminder.time)

    async def schedules(self) -> list[Schedule]:
        found = [
            Schedule(JOB_LAGESBILD, rule=self.content.lagesbild_rule),
            Schedule(JOB_HR_REMINDER, rule=self.hr_reminder_rule),
            *(Schedule(task.job_id, rule=task.rule) for task in self.tasks.values()),
        ]
        for reminder in await self.reminders.active():
            if reminder.kind == "once":
                found.append(Schedule(reminder.job_id, once_at=reminder.run_at, reminder=reminder))
            elif reminder.kind == "weekly":
                found.append(
                    Schedule(
                        reminder.job_id,
                        rule=reminder.rule,
                        not_before=reminder.created_at,
                        until=reminder.until,
                        reminder=reminder,
                    )
                )
        return found

    def next_lagesbild_slot(self, after: datetime) -> datetime | None:
        """The next weekly slot outside the pauses (what "leave it for the weekly slot" means)."""
        return next_unpaused_slot(after, self.content.lagesbild_rule, self.content.pauses_for("lagesbild"), self.tz)

    # ---- running --------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> list[JobRun]:
        """Fire every schedule whose slot is due at `now` and has not fired yet; returns what fired."""
        now = now or self.clock.now()
        fired: list[JobRun] = []
        for schedule in await self.schedules():
            slot = due_slot(
                now,
                grace=self.grace,
                tz=self.tz,
                rule=schedule.rule,
                once_at=schedule.once_at,
                not_before=schedule.not_before,
                until=schedule.until,
            )
            if slot is None:
                await self._retire(schedule, now)
                continue
            run = await self._fire(schedule, slot, now)
            if run is not None:
                fired.append(run)
        if fired:
            self.publisher.outbox.notify()
        return fired

    async def _fire(self, schedule: Schedule, slot: datetime, now: datetime) -> JobRun | None:
        async with self.db.e.connect() as conn:
            done = await conn.scalar(
                select(job_runs.c.outcome).where(job_runs.c.job_id == schedule.job_id, job_runs.c.scheduled_for == slot)
            )
        if done is not None:
            return None
        async with self.db.e.begin() as conn:
            insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
            claimed = await conn.execute(
                insert(job_runs)
                .values(
                    job_id=schedule.job_id,
                    scheduled_for=slot,
                    fired_at=now,
                    fired_by=self.instance_id,
                    outcome="running",
                )
                .on_conflict_do_nothing(index_elements=["job_id", "scheduled_for"])
            )
            if claimed.rowcount != 1:
                return None  # another replica, or an earlier run of ours, fired this slot
            outcome = await self._job(conn, schedule, slot)
            await conn.execute(
                update(job_runs)
                .where(job_runs.c.job_id == schedule.job_id, job_runs.c.scheduled_for == slot)
                .values(outcome=outcome[:128])
            )
        log.info("job fired", extra={"job": schedule.job_id, "slot": slot.isoformat(), "outcome": outcome})
        return JobRun(schedule.job_id, slot, outcome)

    async def _job(self, conn: AsyncConnection, schedule: Schedule, slot: datetime) -> str:
        task = self.tasks.get(schedule.job_id)
        if task is not None:
            return await task.run(conn, slot)
        if schedule.job_id == JOB_LAGESBILD:
            pause = pause_covering(slot, self.content.pauses_for("lagesbild"), self.tz)
            if pause is not None:
                report = await self.lagesbild.ready_for_slot(conn, slot)
                if report is not None:  # left for a slot that a pause (added since) now covers
                    await self._tell_paused(conn, f"lagesbild:{report.id}", slot, pause, report.author_aad,
                                            report.author_conversation, "pause_notice_lagesbild", week=report.week)  # fmt: skip
                return f"paused:{pause.reason}"
            report = await self.lagesbild.ready_for_slot(conn, slot)
            if report is None:
                return "no-report"
            actor = Actor(report.author_aad, report.author_name)
            enqueued = await self.publisher.publish(conn, report, actor)
            return f"published:{enqueued.broadcast_id}" if enqueued else "already-published"
        if schedule.job_id == JOB_HR_REMINDER:
            target_slot = next_slot_after(slot, self.content.lagesbild_rule, self.tz)
            if pause_covering(target_slot, self.content.pauses_for("lagesbild"), self.tz) is not None:
                return "paused"
            return await self.publisher.remind_hr(conn, target_slot)
        reminder = schedule.reminder
        assert reminder is not None
        if not await self.reminders.is_active(conn, reminder.id):
            return "inactive"
        finished = reminder.kind == "once" or (
            reminder.until is not None
            and local_date(next_slot_after(slot, reminder.rule, self.tz), self.tz) > reminder.until  # type: ignore[arg-type]
        )
        if finished:
            await self.reminders.mark_done(conn, reminder.id)
        pause = pause_covering(slot, self.content.pauses_for("reminders"), self.tz)
        if pause is not None:
            unit = self.content.units.get(reminder.unit_id)
            following = None if finished or reminder.rule is None else self._next_real(slot, reminder)
            lang = self.publisher.org_lang
            next_text = bt("pause_notice_next", lang, at=format_moment(following, self.tz, lang)) if following else ""
            await self._tell_paused(conn, reminder.job_id, slot, pause, reminder.author_aad, reminder.author_conversation,
                                    "pause_notice_reminder", id=str(reminder.id),
                                    unit=unit.name if unit else reminder.unit_id, next=next_text)  # fmt: skip
            return f"paused:{pause.reason}"
        actor = Actor(reminder.author_aad, reminder.author_name)
        enqueued = await self.publisher.send_reminder(conn, reminder, actor)
        return f"sent:{enqueued.broadcast_id}"

    def _next_real(self, slot: datetime, reminder: Reminder) -> datetime | None:
        assert reminder.rule is not None
        found = next_unpaused_slot(slot, reminder.rule, self.content.pauses_for("reminders"), self.tz)
        if found is not None and reminder.until is not None and local_date(found, self.tz) > reminder.until:
            return None
        return found

    async def _tell_paused(
        self,
        conn: AsyncConnection,
        subject: str,
        slot: datetime,
        pause: Pause,
        author_aad: str | None,
        author_conversation: str | None,
        key: str,
        **detail: str,
    ) -> None:
        """Tell the author, once per pause, in their personal chat, that a pause skipped their send.

        "Once" is a job_runs row for (pause-notice:subject, the pause's first day), so a daily
        reminder skipped on 50 days of a summer pause gives one message, on any replica."""
        start, end = pause_bounds(local_date(slot, self.tz), pause)
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        claimed = await conn.execute(
            insert(job_runs)
            .values(
                job_id=f"pause-notice:{subject}"[:128],
                scheduled_for=local_to_utc(start, time(0), self.tz),
                fired_at=self.clock.now(),
                fired_by=self.instance_id,
                outcome="told",
            )
            .on_conflict_do_nothing(index_elements=["job_id", "scheduled_for"])
        )
        if claimed.rowcount != 1:
            return
        target = await self.publisher.report_to(conn, author_aad, author_conversation)
        if target is None:
            return
        lang = self.publisher.org_lang
        text = bt(key, lang, at=format_moment(slot, self.tz, lang), reason=pause.reason or "–",
                  end=format_day(end, lang), **detail).strip()  # fmt: skip
        await self.publisher.outbox.enqueue(
            conn,
            kind="notice",
            subject=f"pause-notice:{subject}"[:128],
            title=bt("subject_pause", lang),
            actor=Actor.system(),
            targets=[target],
            activity=MessageFactory.text(text),
            lang=lang,
        )
        log.info("pause notice", extra={"subject": subject})

    async def _retire(self, schedule: Schedule, now: datetime) -> None:
        """A reminder that can never fire again (its time passed unsent, or its last date) is closed."""
        reminder = schedule.reminder
        if reminder is None:
            return
        if reminder.kind == "once":
            expired = reminder.run_at is not None and now - reminder.run_at > self.grace
        else:
            expired = reminder.until is not None and local_date(now - self.grace, self.tz) > reminder.until
        if not expired:
            return
        async with self.db.e.begin() as conn:
            result = await conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder.id, reminders.c.state == ACTIVE)
                .values(state=MISSED if reminder.kind == "once" else DONE)
            )
            if result.rowcount:
                await audit(conn, now, Actor.system(), "expire", reminder.job_id)

    async def wake(self, job_id: str = "") -> None:
        await self.run_due(self.clock.now())
        await self.sync_jobs()

    # ---- APScheduler: the real wake-ups ---------------------------------------------------

    async def start(self) -> None:
        """Fire what was missed while the service was down, then let APScheduler wake us."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        await self.run_due(self.clock.now())
        # The default job store is in memory: this replica's own, rebuilt from the database by sync_jobs.
        self._aps = AsyncIOScheduler(
            timezone=self.tz,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(self.grace.total_seconds())),
            },
        )
        self._aps.add_job(self.wake, IntervalTrigger(seconds=RESYNC_SECONDS), args=[RESYNC_JOB], id=RESYNC_JOB)
        self._aps.start()
        await self.sync_jobs()

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    @property
    def aps(self) -> AsyncIOScheduler | None:
        return self._aps

    async def sync_jobs(self) -> None:
        """Make the in-memory job store hold one job per schedule, keeping jobs whose trigger did not change."""
        if self._aps is None:
            return
        wanted = {APS_PREFIX + s.job_id: self._trigger(s) for s in await self.schedules()}
        for job in self._aps.get_jobs():
            if job.id.startswith(APS_PREFIX) and job.id not in wanted:
                job.remove()
        for job_id, trigger in wanted.items():
            if trigger is None:
                continue
            existing = self._aps.get_job(job_id)
            if existing is not None and str(existing.trigger) == str(trigger):
                continue
            self._aps.add_job(
                self.wake,
                trigger,
                args=[job_id[len(APS_PREFIX) :]],
                id=job_id,
                replace_existing=True,
            )

    def _trigger(self, schedule: Schedule) -> Any:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.date import DateTrigger

        if schedule.once_at is not None:
            if schedule.once_at < self.clock.now() - self.grace:
                return None
            return DateTrigger(run_date=schedule.once_at, timezone=self.tz)
        rule = schedule.rule
        assert rule is not None
        days = ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(rule.weekdays))
        end = (
            datetime.combine(schedule.until + timedelta(days=1), datetime.min.time(), tzinfo=self.tz)
            if schedule.until
            else None
        )
        return CronTrigger(day_of_week=days, hour=rule.at.hour, minute=rule.at.minute, timezone=self.tz, end_date=end)
