"""BroadcastFeature: the lägesbild and reminder commands, card submits, and conversation tracking."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext

from bot.broadcast.audit import Actor, AuditEntry, AuditLog
from bot.broadcast.cards import (
    ACTION_EDIT,
    ACTION_PREVIEW,
    ACTION_PUBLISH,
    ACTION_SCHEDULE,
    ACTIONS,
    delivery_report,
    format_help,
    lagesbild_activity,
    lagesbild_form,
    next_steps,
)
from bot.broadcast.content import BroadcastContent, Unit
from bot.broadcast.conversations import ConversationRegistry, base_conversation_id
from bot.broadcast.delivery import DeliveryWorker, RetryPolicy, Sleep, WorkerSettings
from bot.broadcast.lagesbild import (
    DISCARDED,
    DRAFT,
    ORDINARY,
    READY,
    LagesbildStore,
    Report,
    ReportInput,
    ReportProblem,
    parse_report_text,
    report_from_form,
)
from bot.broadcast.outbox import Outbox
from bot.broadcast.publishing import Publisher
from bot.broadcast.rate_limit import RateLimiter, RateLimits, parse_limits
from bot.broadcast.reminder_syntax import ReminderSyntaxError, parse_reminder
from bot.broadcast.reminders import Reminder, ReminderStore
from bot.broadcast.roles import AMBASSADOR, HR, MANAGER, YamlRoleDirectory
from bot.broadcast.schedule_math import next_slot_after, next_unpaused_slot, pause_bounds, pause_covering
from bot.broadcast.scheduler import BroadcastScheduler
from bot.broadcast.texts import DAY_NAMES, REMINDER_EXAMPLES, bt, format_day, format_moment
from bot.broadcast.unit_links import UnitLinks
from bot.clock import Clock
from bot.config import Settings
from bot.conversation.cards import update_card
from bot.conversation.commands import Command, CommandCall
from bot.conversation.features import FeatureBase
from bot.conversation.texts import counted, t
from bot.storage import Database
from bot.transport.channel import ChannelGateway

log = logging.getLogger(__name__)

PRIVILEGED = frozenset({HR, MANAGER, AMBASSADOR})  # may subscribe a channel
MANAGING = frozenset({HR, AMBASSADOR})  # may list and cancel reminders
AUDIT_SHOWN = 20  # entries "granskningslogg" shows
AUDIT_MAX = 200  # at most, when HR asks for more


def _aad(turn: TurnContext) -> str | None:
    user = turn.activity.from_property
    aad = getattr(user, "aad_object_id", None) if user else None
    return aad.lower() if aad else None


class BroadcastFeature(FeatureBase):
    """Everything of issue 4 that the bot's routing sees; the parts are public for tests and the bench."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        clock: Clock,
        gateway: ChannelGateway,
        content: BroadcastContent,
        roles: YamlRoleDirectory,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.content = content
        self.roles = roles
        self.tz = ZoneInfo(settings.timezone)
        self.registry = ConversationRegistry(db, clock)
        self.outbox = Outbox(db, clock, delivery_report)
        self.lagesbild = LagesbildStore(db)
        self.reminders = ReminderStore(db)
        self.links = UnitLinks(db, clock)
        self.org_lang = settings.default_language
        self.publisher = Publisher(
            db, clock, self.tz, content, roles, self.registry, self.outbox, self.lagesbild, self.org_lang
        )
        self.scheduler = BroadcastScheduler(db, clock, self.tz, content, self.publisher, self.lagesbild, self.reminders)
        self.limits = RateLimits(
            per_conversation=parse_limits(settings.teams_limits_conversation, "TEAMS_LIMITS_CONVERSATION"),
            overall=parse_limits(settings.teams_limits_overall, "TEAMS_LIMITS_OVERALL"),
        )
        self.limiter = RateLimiter(self.limits)
        self.audit = AuditLog(db, clock)

    # ---- workers and lifetime -------------------------------------------------------------

    def new_worker(
        self,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        worker_settings: WorkerSettings | None = None,
        rng: random.Random | None = None,
        limiter: RateLimiter | None = None,
    ) -> DeliveryWorker:
        """A delivery worker on this feature's outbox (tests and the bench pass a clock and sleep)."""
        return DeliveryWorker(
            self.outbox,
            self.gateway,
            limiter or self.limiter,
            clock or self.clock,
            self.registry,
            settings=worker_settings
            or WorkerSettings(
                concurrency=self.settings.delivery_concurrency,
                lease=timedelta(seconds=self.settings.delivery_lease_seconds),
                send_timeout=self.settings.delivery_send_timeout,
            ),
            retry=RetryPolicy(max_attempts=self.settings.delivery_max_attempts),
            sleep=sleep,
            rng=rng,
        )

    async def background(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: the scheduler and one delivery worker live as long as the app."""
        await self.scheduler.start()
        worker = self.new_worker()
        task = asyncio.create_task(worker.run(), name="broadcast-delivery")
        log.info("broadcast background started", extra={"worker": worker.worker_id})
        try:
            yield
        finally:
            worker.stop()
            await task
            await self.scheduler.stop()

    # ---- hooks ----------------------------------------------------------------------------

    def commands(self) -> list[Command]:
        def c(
            key: str, sv: tuple[str, ...], en: tuple[str, ...], desc: tuple[str, str], handler: Any, **kw: Any
        ) -> Command:
            return Command(key, {"sv": sv, "en": en}, {"sv": desc[0], "en": desc[1]}, handler, **kw)

        return [
            c(
                "lagesbild_latest",
                ("senaste lägesbild", "senaste lagesbild", "lägesbild", "lagesbild"),
                ("latest situation report", "situation report"),
                ("visar den senaste lägesbilden", "shows the latest situation report"),
                self._cmd_latest,
            ),
            c(
                "lagesbild_subscribe",
                ("prenumerera lägesbild", "prenumerera på lägesbild", "prenumerera lagesbild"),
                ("subscribe situation report", "subscribe to situation report"),
                (
                    "kanalen får veckans lägesbild (skriv i kanalen)",
                    "the channel gets the weekly report (type it in the channel)",
                ),
                self._cmd_subscribe,
                audience=PRIVILEGED,
            ),
            c(
                "lagesbild_unsubscribe",
                ("avsluta lägesbild", "avsluta lagesbild", "avprenumerera lägesbild"),
                ("unsubscribe situation report", "unsubscribe from situation report"),
                ("kanalen slutar få lägesbilden", "the channel stops getting the report"),
                self._cmd_unsubscribe,
                audience=PRIVILEGED,
            ),
            c(
                "lagesbild_write",
                ("skriv lägesbild", "skriv lagesbild", "ny lägesbild"),
                ("write situation report", "new situation report"),
                ("skriv veckans lägesbild (formulär eller text)", "write this week's report (form or text)"),
                self._cmd_write,
                role=HR,
                takes_args=True,
            ),
            c(
                "lagesbild_preview",
                ("förhandsgranska lägesbild", "forhandsgranska lagesbild"),
                ("preview situation report",),
                ("visar utkastet som kanalerna får det", "shows the draft as channels will get it"),
                self._cmd_preview,
                role=HR,
            ),
            c(
                "lagesbild_publish",
                ("publicera lägesbild", "publicera lagesbild"),
                ("publish situation report",),
                ("skickar utkastet till kanalerna nu", "sends the draft to the channels now"),
                self._cmd_publish,
                role=HR,
            ),
            c(
                "lagesbild_schedule",
                ("schemalägg lägesbild", "schemalagg lagesbild"),
                ("schedule situation report",),
                ("skickar utkastet vid nästa veckoutskick", "sends the draft at the next weekly slot"),
                self._cmd_schedule,
                role=HR,
            ),
            c(
                "reminder",
                ("påminnelse", "paminnelse", "påminn"),
                ("reminder", "remind"),
                ("skickar en påminnelse till din enhets kanaler", "sends a reminder to your unit's channels"),
                self._cmd_reminder,
                role=AMBASSADOR,
                takes_args=True,
            ),
            c(
                "reminder_list",
                ("mina påminnelser", "mina paminnelser", "påminnelser", "paminnelser"),
                ("my reminders", "reminders"),
                ("listar schemalagda påminnelser", "lists scheduled reminders"),
                self._cmd_list,
                audience=MANAGING,
            ),
            c(
                "reminder_cancel",
                ("avbryt påminnelse", "avbryt paminnelse", "ta bort påminnelse"),
                ("cancel reminder", "delete reminder"),
                ("tar bort en schemalagd påminnelse", "cancels a scheduled reminder"),
                self._cmd_cancel,
                takes_args=True,
                audience=MANAGING,
            ),
            c(
                "unit_link",
                ("koppla kanalen till enhet", "koppla kanalen till", "koppla kanal till enhet"),
                ("link channel to unit", "link this channel to unit"),
                (
                    "kopplar kanalen till en enhet (skriv i kanalen)",
                    "links the channel to a unit (type it in the channel)",
                ),
                self._cmd_link,
                takes_args=True,
                audience=PRIVILEGED,
            ),
            c(
                "unit_unlink",
                ("koppla loss kanalen", "koppla bort kanalen"),
                ("unlink channel", "unlink this channel"),
                ("ångrar kopplingen av kanalen", "undoes the channel's link"),
                self._cmd_unlink,
                audience=PRIVILEGED,
            ),
            c(
                "unit_links",
                ("kopplade kanaler", "enheternas kanaler"),
                ("linked channels", "unit channels"),
                ("listar vilka kanaler som hör till vilka enheter", "lists which channels belong to which units"),
                self._cmd_links,
                audience=PRIVILEGED,
            ),
            c(
                "audit_log",
                ("granskningslogg", "visa granskningslogg", "granskningsloggen"),
                ("audit log", "show audit log"),
                ("visar de senaste posterna i granskningsloggen", "shows the latest audit log entries"),
                self._cmd_audit_log,
                role=HR,
                takes_args=True,
            ),
            c(
                "reminder_templates",
                ("påminnelsemallar", "paminnelsemallar"),
                ("reminder templates",),
                ("listar mallar för påminnelser", "lists reminder templates"),
                self._cmd_templates,
                audience=MANAGING,
            ),
        ]

    async def on_message(self, turn: TurnContext, text: str, lang: str) -> bool:
        await self.registry.record(turn.activity)
        return False

    async def on_submit(self, turn: TurnContext, value: dict[str, Any], lang: str) -> bool:
        await self.registry.record(turn.activity)
        action = value.get("action")
        if not isinstance(action, str) or action not in ACTIONS:
            return False
        # The card's own language: a submit carries no text to tell it from.
        lang = value["lang"] if value.get("lang") in ("sv", "en") else lang
        if HR not in self.roles.roles_of(_aad(turn)):
            await self.refused(turn, "submit", str(action), "role hr required")
            await turn.send_activity(t("not_allowed", lang, role="HR"))
            return True
        report_id = value.get("report_id")
        if action == ACTION_PREVIEW:
            await self._preview_form(turn, lang, value)
        elif not isinstance(report_id, int):
            await turn.send_activity(bt("lb_no_draft", lang))
        elif action == ACTION_PUBLISH:
            await self._publish(turn, lang, report_id, clicked=True)
        elif action == ACTION_SCHEDULE:
            await self._schedule(turn, lang, report_id, clicked=True)
        elif action == ACTION_EDIT:
            report = await self.lagesbild.get(report_id)
            await turn.send_activity(lagesbild_form(self.content.sections, lang, self._default_week(), report))
        return True

    async def on_installed(self, turn: TurnContext) -> None:
        # Always written: the conversation may have been marked gone (by any replica) before.
        await self.registry.record(turn.activity, force=True)

    async def on_removed(self, turn: TurnContext) -> None:
        gone = await self.registry.removed(turn.activity)
        log.info("bot removed", extra={"conversations": gone})

    async def refused(self, turn: TurnContext, action: str, subject: str, reason: str) -> None:
        """Audit a refused privileged action (also called by the bot for commands refused for their role)."""
        await self.audit.refused(self._actor(turn), action, subject, reason)

    # ---- helpers --------------------------------------------------------------------------

    def _actor(self, turn: TurnContext) -> Actor:
        aad = _aad(turn)
        user = turn.activity.from_property
        return Actor(aad, self.roles.display_name(aad) or (user.name if user else None))

    def _conversation_id(self, turn: TurnContext) -> str | None:
        conversation = turn.activity.conversation
        return base_conversation_id(conversation.id) if conversation and conversation.id else None

    def _next_slot(self) -> datetime | None:
        return self.scheduler.next_lagesbild_slot(self.clock.now())

    def _default_week(self) -> str:
        slot = self._next_slot() or self.clock.now()
        return str(slot.astimezone(self.tz).isocalendar().week)

    async def _say(self, turn: TurnContext, text: str) -> None:
        await turn.send_activity(MessageFactory.text(text))

    # ---- lägesbild ------------------------------------------------------------------------

    async def _cmd_latest(self, turn: TurnContext, call: CommandCall) -> None:
        report = await self.lagesbild.latest_published()
        if report is None:
            await self._say(turn, bt("lb_latest_none", call.lang))
            return
        await turn.send_activity(lagesbild_activity(report, self.content.sections, self.org_lang))

    async def _subscription(self, turn: TurnContext, call: CommandCall, subscribe: bool) -> None:
        if not self.roles.roles_of(_aad(turn)) & {HR, MANAGER, AMBASSADOR}:
            subject = f"conversation:{self._conversation_id(turn) or '-'}"
            await self.refused(
                turn, "subscribe" if subscribe else "unsubscribe", subject, "role hr, manager or ambassador required"
            )
            await self._say(turn, bt("lb_subscribe_roles", call.lang))
            return
        conversation = turn.activity.conversation
        if not conversation or conversation.conversation_type not in ("channel", "groupChat"):
            await self._say(turn, bt("lb_subscribe_where", call.lang))
            return
        cid = await self.registry.record(turn.activity)
        changed = await self.registry.set_subscribed(cid, subscribe, self._actor(turn))
        if subscribe:
            await self._say(turn, bt("lb_subscribed" if changed else "lb_already_subscribed", call.lang))
        else:
            await self._say(turn, bt("lb_unsubscribed" if changed else "lb_not_subscribed", call.lang))

    async def _cmd_subscribe(self, turn: TurnContext, call: CommandCall) -> None:
        await self._subscription(turn, call, True)

    async def _cmd_unsubscribe(self, turn: TurnContext, call: CommandCall) -> None:
        await self._subscription(turn, call, False)

    async def _cmd_write(self, turn: TurnContext, call: CommandCall) -> None:
        if not call.args.strip():
            unsent = await self.lagesbild.unsent()
            await turn.send_activity(lagesbild_form(self.content.sections, call.lang, self._default_week(), unsent))
            return
        await self._save_and_preview(
            turn, call.lang, lambda: parse_report_text(call.args, self.content.sections, self._default_week())
        )

    async def _save_and_preview(self, turn: TurnContext, lang: str, read: Callable[[], ReportInput]) -> None:
        try:
            written = read()
        except ReportProblem as problem:
            await self._say(
                turn, bt(problem.key, lang, **problem.detail) + "\n\n" + format_help(self.content.sections, lang)
            )
            return
        report = await self.lagesbild.save_draft(
            written, self._actor(turn), self._conversation_id(turn), self.clock.now()
        )
        await self._preview(turn, lang, report)

    async def _preview_form(self, turn: TurnContext, lang: str, value: dict[str, Any]) -> None:
        """The form's submit: a problem comes back as the same form, filled in as sent, with the problem
        on top in the form's language; nothing is saved until the form is right."""
        try:
            written = report_from_form(value, self.content.sections, self._default_week())
        except ReportProblem as problem:
            log.info("lagesbild form refused", extra={"problem": problem.key})
            error = bt(problem.key, lang, **problem.detail)
            await turn.send_activity(
                lagesbild_form(self.content.sections, lang, self._default_week(), _as_sent(value, self.content), error)
            )
            return
        report = await self.lagesbild.save_draft(
            written, self._actor(turn), self._conversation_id(turn), self.clock.now()
        )
        await self._preview(turn, lang, report)

    async def _preview(self, turn: TurnContext, lang: str, report: Report) -> None:
        slot = self._next_slot()
        slot_text = format_moment(slot, self.tz, lang) if slot else None
        moved = self._pause_note(slot, lang) if slot else None
        if slot_text and moved:
            slot_text = f"{slot_text} ({moved})"
        await turn.send_activities(
            [
                MessageFactory.text(bt("lb_preview_intro", lang)),
                lagesbild_activity(report, self.content.sections, self.org_lang),
                next_steps(report, slot_text, lang),
            ]
        )

    async def _cmd_preview(self, turn: TurnContext, call: CommandCall) -> None:
        report = await self.lagesbild.unsent()
        if report is None:
            await self._say(turn, bt("lb_no_draft", call.lang))
            return
        await self._preview(turn, call.lang, report)

    async def _cmd_publish(self, turn: TurnContext, call: CommandCall) -> None:
        report = await self.lagesbild.unsent()
        if report is None:
            await self._say(turn, bt("lb_no_draft", call.lang))
            return
        await self._publish(turn, call.lang, report.id)

    async def _publish(self, turn: TurnContext, lang: str, report_id: int, clicked: bool = False) -> None:
        """Publish once: a second click (or a click on a replaced draft) is explained and sends nothing."""
        enqueued = await self.publisher.publish_now(report_id, self._actor(turn), lang)
        report = await self.lagesbild.get(report_id)
        if enqueued is None:
            replaced = report is not None and report.state == DISCARDED
            log.info("stale publish", extra={"report": report_id, "replaced": replaced})
            await self._say(turn, bt("lb_replaced" if replaced else "lb_already_published", lang))
            return
        channels = counted(enqueued.reachable, "channel", lang)
        if clicked and report is not None:
            done = bt("lb_published_card", lang, when=format_moment(self.clock.now(), self.tz, lang), channels=channels)
            await update_card(turn, next_steps(report, None, lang, done=done))
        await self._say(turn, bt("lb_published", lang, week=report.week if report else "", channels=channels))

    async def _cmd_schedule(self, turn: TurnContext, call: CommandCall) -> None:
        report = await self.lagesbild.unsent()
        if report is None:
            await self._say(turn, bt("lb_no_draft", call.lang))
            return
        await self._schedule(turn, call.lang, report.id)

    async def _schedule(self, turn: TurnContext, lang: str, report_id: int, clicked: bool = False) -> None:
        report = await self.lagesbild.get(report_id)
        if report is None or report.state not in (DRAFT, READY):
            replaced = report is not None and report.state == DISCARDED
            await self._say(turn, bt("lb_replaced" if replaced else "lb_already_published", lang))
            return
        slot = self._next_slot()
        if slot is None:
            await self._say(turn, bt("lb_no_slot", lang))
            return
        if not await self.lagesbild.mark_ready(report_id, slot, self._actor(turn), self.clock.now()):
            await self._say(turn, bt("lb_already_published", lang))
            return
        when = format_moment(slot, self.tz, lang)
        moved = self._pause_note(slot, lang)
        if clicked:
            await update_card(turn, next_steps(report, None, lang, done=bt("lb_scheduled_card", lang, slot=when)))
        await self._say(turn, bt("lb_scheduled", lang, week=report.week, slot=when) + (f"\n\n{moved}" if moved else ""))

    def _pause_note(self, slot: datetime, lang: str) -> str | None:
        """Why the weekly slot is not the very next one: the pause that skips it, said once."""
        planned = next_slot_after(self.clock.now(), self.content.lagesbild_rule, self.tz)
        if planned >= slot:
            return None
        pause = pause_covering(planned, self.content.pauses_for("lagesbild"), self.tz)
        if pause is None:
            return None
        end = pause_bounds(planned.astimezone(self.tz).date(), pause)[1]
        return bt(
            "lb_slot_after_pause",
            lang,
            skipped=format_moment(planned, self.tz, lang),
            reason=pause.reason or "–",
            end=format_day(end, lang),
            slot=format_moment(slot, self.tz, lang),
        )

    # ---- reminders ------------------------------------------------------------------------

    def _syntax_help(self, lang: str, key: str, detail: dict[str, str], units: list[str]) -> str:
        return bt(
            key,
            lang,
            **detail,
            units=", ".join(units) or "–",
            templates=", ".join(self.content.templates) or "–",
        )

    async def _cmd_reminder(self, turn: TurnContext, call: CommandCall) -> None:
        lang = call.lang
        aad = _aad(turn)
        mine = self.roles.ambassador_units(aad)
        my_ids = [u.id for u in mine]
        if not call.args.strip():
            await self._say(turn, REMINDER_EXAMPLES.get(lang, REMINDER_EXAMPLES["sv"]))
            return
        now = self.clock.now()
        try:
            request = parse_reminder(
                call.args, now=now, tz=self.tz, units=set(self.content.units), templates=set(self.content.templates)
            )
        except ReminderSyntaxError as error:
            await self._say(turn, self._syntax_help(lang, error.key, error.detail, my_ids))
            return
        if request.unit_id is not None and request.unit_id not in my_ids:
            await self.refused(turn, "reminder", f"unit:{request.unit_id}", "not an ambassador of the unit")
            await self._say(turn, bt("rem_not_your_unit", lang, units=", ".join(my_ids) or "–"))
            return
        if request.unit_id is None and len(mine) != 1:
            key = "rem_pick_unit" if mine else "rem_not_your_unit"
            if not mine:
                await self.refused(turn, "reminder", "unit:-", "an ambassador of no unit")
            await self._say(turn, bt(key, lang, units=", ".join(my_ids) or "–", first=my_ids[0] if my_ids else ""))
            return
        unit = self.content.units[request.unit_id or my_ids[0]]
        if not unit.channels and not await self._linked_channels(unit.id):
            await self._say(turn, bt("rem_no_channels", lang, unit=unit.name, unit_id=unit.id))
            return
        if request.run_at is not None:
            pause = pause_covering(request.run_at, self.content.pauses_for("reminders"), self.tz)
            if pause is not None:
                await self._say(turn, bt("rem_in_pause", lang, reason=pause.reason or "–"))
                return
        actor = self._actor(turn)
        reminder = await self.reminders.create(request, unit.id, actor, self._conversation_id(turn), now)
        if request.kind == "now":
            async with self.db.e.begin() as conn:
                enqueued = await self.publisher.send_reminder(conn, reminder, actor, lang)
                await self.reminders.mark_done(conn, reminder.id)
            self.outbox.notify()
            channels = counted(enqueued.reachable, "channel", lang)
            await self._say(turn, bt("rem_sent_now", lang, id=reminder.id, channels=channels, unit=unit.name))
            return
        await self.scheduler.sync_jobs()
        await self._say(
            turn, bt("rem_scheduled", lang, id=reminder.id, unit=unit.name, when=self._when(reminder, lang))
        )

    # ---- channels linked to units ---------------------------------------------------------

    async def _linked_channels(self, unit_id: str) -> list[str]:
        async with self.db.e.connect() as conn:
            return await UnitLinks.channels_of(conn, unit_id)

    def _pinned_unit(self, channel_id: str) -> Unit | None:
        return next((u for u in self.content.units.values() if channel_id in u.channels), None)

    def _channel_here(self, turn: TurnContext) -> str | None:
        conversation = turn.activity.conversation
        if not conversation or conversation.conversation_type != "channel":
            return None
        return self._conversation_id(turn)

    async def _cmd_link(self, turn: TurnContext, call: CommandCall) -> None:
        lang = call.lang
        words = call.args.strip().lower().split()
        unit_id = words[-1] if words else ""
        unit = self.content.units.get(unit_id)
        if unit is None:
            await self._say(turn, bt("link_usage", lang, units=", ".join(self.content.units) or "–"))
            return
        roles = self.roles.roles_of(_aad(turn))
        if not (roles & {HR, MANAGER} or unit.id in {u.id for u in self.roles.ambassador_units(_aad(turn))}):
            await self._say(turn, bt("link_not_allowed", lang, unit=unit.name))
            return
        channel = self._channel_here(turn)
        if channel is None:
            await self._say(turn, bt("link_where", lang))
            return
        pinned = self._pinned_unit(channel)
        if pinned is not None:
            await self._say(turn, bt("link_pinned", lang, unit=pinned.name))
            return
        await self.registry.record(turn.activity, force=True)
        previous = await self.links.link(channel, unit.id, self._actor(turn))
        text = bt("linked", lang, unit=unit.name)
        if previous and previous != unit.id:
            before = self.content.units.get(previous)
            text += " " + bt("linked_moved", lang, previous=before.name if before else previous)
        await self._say(turn, text)

    async def _cmd_unlink(self, turn: TurnContext, call: CommandCall) -> None:
        channel = self._channel_here(turn)
        if channel is None:
            await self._say(turn, bt("link_where", call.lang))
            return
        linked = await self.links.unit_of(channel)
        if linked is None:
            pinned = self._pinned_unit(channel)
            key = "link_pinned" if pinned else "not_linked"
            await self._say(turn, bt(key, call.lang, unit=pinned.name if pinned else ""))
            return
        unit = self.content.units.get(linked)
        roles = self.roles.roles_of(_aad(turn))
        if not (roles & {HR, MANAGER} or linked in {u.id for u in self.roles.ambassador_units(_aad(turn))}):
            await self._say(turn, bt("link_not_allowed", call.lang, unit=unit.name if unit else linked))
            return
        await self.links.unlink(channel, self._actor(turn))
        await self._say(turn, bt("unlinked", call.lang, unit=unit.name if unit else linked))

    async def _cmd_links(self, turn: TurnContext, call: CommandCall) -> None:
        lang = call.lang
        lines = []
        for unit in self.content.units.values():
            for channel in unit.channels:
                lines.append(f"- **{unit.name}** ({unit.id}): {channel} – {bt('links_pinned', lang)}")
        for link in await self.links.all():
            known = self.content.units.get(link.unit_id)
            at = format_moment(link.linked_at, self.tz, lang) if link.linked_at else ""
            who = bt("links_by", lang, who=link.linked_by or "–", at=at)
            name = known.name if known else link.unit_id
            lines.append(f"- **{name}** ({link.unit_id}): {link.channel_id} – {who}")
        await self._say(turn, "\n".join([bt("links_head", lang), *lines]) if lines else bt("links_none", lang))

    def _when(self, reminder: Reminder, lang: str) -> str:
        if reminder.kind == "once" and reminder.run_at:
            return format_moment(reminder.run_at, self.tz, lang)
        rule = reminder.rule
        if rule is None:
            return "–"
        names = DAY_NAMES.get(lang, DAY_NAMES["sv"])
        if len(rule.weekdays) == 7:
            days = bt("rem_every_day", lang)
        elif rule.weekdays == frozenset(range(5)):
            days = bt("rem_every_weekday", lang)
        else:
            days = ", ".join(names[d] for d in sorted(rule.weekdays))
        until = bt("rem_until", lang, date=reminder.until.isoformat()) if reminder.until else ""
        text = bt("rem_when_weekly", lang, days=days, time=rule.at.strftime("%H:%M"), until=until)
        return f"{text} ({self._next_send(reminder, lang)})"

    def _next_send(self, reminder: Reminder, lang: str) -> str:
        """The next date that will really send, and the pause that skips the ones before it."""
        assert reminder.rule is not None
        now = self.clock.now()
        pauses = self.content.pauses_for("reminders")
        planned = next_slot_after(now, reminder.rule, self.tz)
        real = next_unpaused_slot(now, reminder.rule, pauses, self.tz)
        if real is not None and reminder.until is not None and real.astimezone(self.tz).date() > reminder.until:
            real = None
        if real is None:
            return bt("rem_no_next", lang)
        at = format_moment(real, self.tz, lang)
        pause = pause_covering(planned, pauses, self.tz) if real != planned else None
        if pause is None:
            return bt("rem_next", lang, at=at)
        end = pause_bounds(planned.astimezone(self.tz).date(), pause)[1]
        return bt("rem_next_after_pause", lang, at=at, reason=pause.reason or "–", end=format_day(end, lang))

    def _may_manage(self, turn: TurnContext) -> tuple[bool, bool]:
        roles = self.roles.roles_of(_aad(turn))
        return HR in roles, AMBASSADOR in roles

    async def _cmd_list(self, turn: TurnContext, call: CommandCall) -> None:
        is_hr, is_ambassador = self._may_manage(turn)
        if not (is_hr or is_ambassador):
            await self.refused(turn, "list", "reminders", "role hr or ambassador required")
            await self._say(turn, bt("rem_roles", call.lang))
            return
        found = await self.reminders.active(None if is_hr else _aad(turn))
        found = [r for r in found if r.kind in ("once", "weekly")]
        if not found:
            await self._say(turn, bt("rem_list_empty", call.lang))
            return
        lines = [bt("rem_list_head", call.lang)]
        for reminder in found:
            unit = self.content.units.get(reminder.unit_id)
            template = self.content.templates.get(reminder.template_id) if reminder.template_id else None
            what = template.title.get(call.lang) if template else (reminder.text or "")[:60]
            who = f" – {reminder.author_name}" if is_hr and reminder.author_name else ""
            lines.append(
                f"- **#{reminder.id}** {unit.name if unit else reminder.unit_id}: {self._when(reminder, call.lang)} · {what}{who}"
            )
        lines += ["", bt("rem_list_hint", call.lang)]
        await self._say(turn, "\n".join(lines))

    async def _cmd_cancel(self, turn: TurnContext, call: CommandCall) -> None:
        is_hr, is_ambassador = self._may_manage(turn)
        raw = call.args.strip().lstrip("#").split(" ")[0]
        if not (is_hr or is_ambassador):
            subject = f"reminder:{raw[:20]}" if raw else "reminder:-"
            await self.refused(turn, "cancel", subject, "role hr or ambassador required")
            await self._say(turn, bt("rem_roles", call.lang))
            return
        if not raw.isdecimal():
            await self._say(turn, bt("rem_cancel_usage", call.lang))
            return
        reminder_id = int(raw)
        reminder = await self.reminders.get(reminder_id)
        if reminder is None or reminder.state != "active":
            await self._say(turn, bt("rem_cancel_not_found", call.lang, id=reminder_id))
            return
        if not is_hr and reminder.author_aad != _aad(turn):
            await self.refused(turn, "cancel", f"reminder:{reminder_id}", "not the author")
            await self._say(turn, bt("rem_cancel_not_yours", call.lang, id=reminder_id))
            return
        if not await self.reminders.cancel(reminder_id, self._actor(turn), self.clock.now()):
            await self._say(turn, bt("rem_cancel_not_found", call.lang, id=reminder_id))
            return
        await self.scheduler.sync_jobs()
        await self._say(turn, bt("rem_cancelled", call.lang, id=reminder_id))

    async def _cmd_templates(self, turn: TurnContext, call: CommandCall) -> None:
        if not self.content.templates:
            await self._say(turn, bt("rem_templates_none", call.lang))
            return
        lines = [bt("rem_templates_head", call.lang)]
        for template in self.content.templates.values():
            lines.append(f"- **{template.id}** – {template.title.get(call.lang)}")
        await self._say(turn, "\n".join(lines))

    # ---- the audit log --------------------------------------------------------------------

    async def _cmd_audit_log(self, turn: TurnContext, call: CommandCall) -> None:
        """HR reads the newest entries (`granskningslogg 50` for more); the reading is audited too."""
        raw = call.args.strip()
        limit = min(int(raw), AUDIT_MAX) if raw.isdecimal() and int(raw) > 0 else AUDIT_SHOWN
        entries = await self.audit.latest(limit)
        await self.audit.record(self._actor(turn), "audit_read", "audit_log", outcome="done", count=len(entries))
        if not entries:
            await self._say(turn, bt("audit_empty", call.lang))
            return
        lines = [bt("audit_head", call.lang, count=len(entries))]
        lines += [self._audit_line(entry, call.lang) for entry in entries]
        await self._say(turn, "\n".join(lines))

    def _audit_line(self, entry: AuditEntry, lang: str) -> str:
        when = (
            entry.at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if entry.at.tzinfo else f"{entry.at:%Y-%m-%d %H:%M}"
        )
        who = entry.actor_name or "–"
        if entry.actor_aad:
            who = f"{who} ({entry.actor_aad})"
        outcome = entry.detail.get("outcome")
        result = bt("audit_refused" if outcome == "refused" else "audit_done", lang)
        reason = entry.detail.get("reason")
        count = f" · {entry.target_count}" if entry.target_count is not None else ""
        why = f" ({reason})" if outcome == "refused" and reason else ""
        return f"- {when} · {who} · **{entry.action}** {entry.subject}{count} · {result}{why}"


def _as_sent(value: dict[str, Any], content: BroadcastContent) -> ReportInput:
    """The form's fields as HR sent them, to show the form again after a problem."""

    def field(name: str) -> str:
        raw = value.get(name)
        return raw[:4000] if isinstance(raw, str) else ""

    sections = {s.id: field(f"section_{s.id}") for s in content.sections}
    return ReportInput(
        week=field("week")[:32], mode=field("mode") or ORDINARY, summary=field("summary"), sections=sections
    )
