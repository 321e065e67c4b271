"""Turning a lägesbild or a reminder into outbox rows, inside the caller's transaction.

Both the chat commands ("publish now", "reminder now") and the scheduled jobs go through here,
so a scheduled job's job_runs row, the report's state change, the outbox rows and the audit
entry commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from botbuilder.core import MessageFactory
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.cards import lagesbild_activity, reminder_activity
from bot.broadcast.content import BroadcastContent
from bot.broadcast.conversations import ConversationRegistry, Target
from bot.broadcast.lagesbild import DRAFT, PUBLISHED, READY, LagesbildStore, Report
from bot.broadcast.outbox import Enqueued, Outbox
from bot.broadcast.reminders import Reminder
from bot.broadcast.roles import YamlRoleDirectory
from bot.broadcast.schedule_math import latest_slot_at_or_before
from bot.broadcast.texts import bt, format_moment
from bot.broadcast.unit_links import UnitLinks
from bot.clock import Clock
from bot.storage import Database


class Publisher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: ZoneInfo,
        content: BroadcastContent,
        roles: YamlRoleDirectory,
        registry: ConversationRegistry,
        outbox: Outbox,
        lagesbild: LagesbildStore,
        org_lang: str = "sv",
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.content = content
        self.roles = roles
        self.registry = registry
        self.outbox = outbox
        self.lagesbild = lagesbild
        self.org_lang = org_lang  # DEFAULT_LANGUAGE: what channels read

    async def report_to(self, conn: AsyncConnection, aad: str | None, fallback: str | None) -> Target | None:
        """The author's personal chat, else the conversation they wrote the command in."""
        target = await self.registry.personal_chat(conn, aad)
        if target is None and fallback:
            target = await self.registry.target(conn, fallback)
        return target if target and target.reference else None

    # ---- lägesbild ------------------------------------------------------------------------

    async def publish(self, conn: AsyncConnection, report: Report, actor: Actor, lang: str = "sv") -> Enqueued | None:
        """Publish to every subscribed channel; None if the report was already published."""
        now = self.clock.now()
        if not await self.lagesbild.claim_for_publishing(conn, report.id, now):
            return None
        targets = await self.registry.subscribers(conn)
        subject = f"lagesbild:{report.id}"
        enqueued = await self.outbox.enqueue(
            conn,
            kind="lagesbild",
            subject=subject,
            title=bt("subject_lagesbild", lang, week=report.week),
            actor=actor,
            targets=targets,
            activity=lagesbild_activity(report, self.content.sections, self.org_lang),
            lang=lang,
            report_to=await self.report_to(conn, report.author_aad, report.author_conversation),
        )
        await self.lagesbild.set_broadcast(conn, report.id, enqueued.broadcast_id)
        await audit(conn, now, actor, "publish", subject, enqueued.total, week=report.week, mode=report.mode)
        return enqueued

    async def publish_now(self, report_id: int, actor: Actor, lang: str) -> Enqueued | None:
        report = await self.lagesbild.get(report_id)
        if report is None or report.state not in (DRAFT, READY):
            return None
        async with self.db.e.begin() as conn:
            enqueued = await self.publish(conn, report, actor, lang)
        self.outbox.notify()
        return enqueued

    async def remind_hr(self, conn: AsyncConnection, slot: datetime) -> str:
        """The day before the slot: remind HR unless a report for it is ready or was written since the last slot."""
        if await self.lagesbild.ready_for_slot(conn, slot) is not None:
            return "not-needed:ready"
        previous = latest_slot_at_or_before(slot - timedelta(seconds=1), self.content.lagesbild_rule, self.tz)
        written = await self.lagesbild.written_since(conn, previous)
        if any(r.state == PUBLISHED for r in written):
            return "not-needed:published"
        draft = next((r for r in written if r.state == DRAFT), None)
        when = format_moment(slot, self.tz, "sv")
        if draft is not None:
            text = bt("hr_reminder_draft", "sv", week=draft.week, slot=when)
            text += "\n\n" + bt("hr_reminder_draft", "en", week=draft.week, slot=format_moment(slot, self.tz, "en"))
        else:
            text = (
                bt("hr_reminder", "sv", slot=when)
                + "\n\n"
                + bt("hr_reminder", "en", slot=format_moment(slot, self.tz, "en"))
            )
        targets = []
        for aad in self.roles.hr_ids():
            target = await self.registry.personal_chat(conn, aad)
            if target is not None:
                targets.append(target)
        enqueued = await self.outbox.enqueue(
            conn,
            kind="hr_reminder",
            subject=f"hr-reminder:{slot.isoformat()}",
            title=bt("subject_hr", "sv"),
            actor=Actor.system(),
            targets=targets,
            activity=MessageFactory.text(text),
            lang="sv",
        )
        return f"reminded:{enqueued.reachable}"

    # ---- reminders ------------------------------------------------------------------------

    async def send_reminder(
        self, conn: AsyncConnection, reminder: Reminder, actor: Actor, lang: str = "sv"
    ) -> Enqueued:
        unit = self.content.units.get(reminder.unit_id)
        linked = await UnitLinks.channels_of(conn, reminder.unit_id)
        channels = list(dict.fromkeys([*(unit.channels if unit else []), *linked]))
        targets = await self.registry.channels(conn, channels)
        template = self.content.templates.get(reminder.template_id) if reminder.template_id else None
        return await self.outbox.enqueue(
            conn,
            kind="reminder",
            subject=reminder.job_id,
            title=bt("subject_reminder", lang, id=reminder.id, unit=unit.name if unit else reminder.unit_id),
            actor=actor,
            targets=targets,
            activity=reminder_activity(
                unit.name if unit else reminder.unit_id, reminder.author_name, reminder.text, template, self.org_lang
            ),
            lang=lang,
            report_to=await self.report_to(conn, reminder.author_aad, reminder.author_conversation),
        )
