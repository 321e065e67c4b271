"""The app factory: builds the whole service from settings; nothing is built at import time."""

from __future__ import annotations

import gc
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState, UserState
from botframework.connector.auth import BotFrameworkAuthentication
from sqlalchemy import text

from bot.broadcast import build_broadcast
from bot.broadcast.schedule_math import WeeklyRule
from bot.broadcast.scheduler import Task
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content_errors import ContentError, ContentProblem
from bot.conversation.features import Feature
from bot.conversation.feedback import FeedbackRepository
from bot.conversation.language import turn_failed_text
from bot.conversation.roles import RoleDirectory
from bot.conversation.teams_bot import GuidanceBot
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.learning.feature import LearningFeature, cleanup_job
from bot.learning.live import LiveKnowledge
from bot.learning.store import LearningStore
from bot.storage import Database
from bot.storage.bot_states import GuidanceConversationState, GuidanceUserState
from bot.storage.kv_store import SqlStorage
from bot.transport.channel import ChannelGateway
from bot.transport.endpoint import messages_handler
from bot.transport.turn_journal import TurnJournal
from dialogs import ResultStore, WalkthroughFeature, load_walkthroughs
from dialogs.definitions import WalkthroughCatalog

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the bot is made of, built once per app and shared by its parts."""

    settings: Settings
    clock: Clock
    db: Database
    storage: SqlStorage
    conversation_state: ConversationState
    user_state: UserState
    knowledge: KnowledgeBase
    feedback: FeedbackRepository
    roles: RoleDirectory
    gateway: ChannelGateway
    bot: GuidanceBot
    features: list[Feature] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


SERVICES = web.AppKey("services", Services)
CLEANUP_JOB = "question-retention"
DAILY_CLEANUP = WeeklyRule(frozenset(range(7)), time(3, 0))  # every night at 03:00 local time
DIGEST_JOB = "owner-digest"
WEEKLY_DIGEST = WeeklyRule(frozenset({0}), time(8, 0))  # content owners' digest, Monday 08:00 local time


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    auth: BotFrameworkAuthentication | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Services:
    """Validate the content and wire the bot; raises ContentError on invalid content."""
    clock = clock or SystemClock()
    knowledge = knowledge or load_knowledge(settings.content_dir)
    db = Database(settings.effective_database_url)
    storage = SqlStorage(db, clock)
    conversation_state = GuidanceConversationState(storage)
    user_state = GuidanceUserState(storage)
    feedback = FeedbackRepository(db, clock)
    journal = TurnJournal(db, clock, owner=replica_id(), lease=timedelta(seconds=settings.turn_lease_seconds))
    gateway = ChannelGateway(settings, auth, journal, error_reply=turn_failed_text)
    # Roles come from content/roles.yaml (validated with the other broadcast content).
    broadcast, roles = build_broadcast(settings, db, clock, gateway)
    # Content owners' learned phrasings live in the database; every turn answers with the newest.
    learning_store = LearningStore(db)
    live = LiveKnowledge(knowledge, learning_store, clock)
    learning = LearningFeature(
        db=db,
        clock=clock,
        roles=roles,
        live=live,
        store=learning_store,
        timezone=settings.timezone,
        unanswered_days=settings.unanswered_days,
        flush_counts=feedback.flush,
    )
    broadcast.scheduler.add_task(
        Task(CLEANUP_JOB, DAILY_CLEANUP, cleanup_job(learning_store, settings.question_retention_days))
    )
    broadcast.scheduler.add_task(Task(DIGEST_JOB, WEEKLY_DIGEST, learning.digest_task(broadcast)))
    # Broadcasts first: their on_message only records the conversation reference, on every message.
    features: list[Feature] = [broadcast, learning]
    catalog = load_walkthroughs(settings.content_dir)
    _check_walkthrough_links(knowledge, catalog)
    features.append(
        WalkthroughFeature(
            catalog=catalog,
            storage=storage,
            results=ResultStore(db, clock),
            clock=clock,
            timezone=settings.timezone,
            # The bot is built below, after its features; bound late, at the first mid-walkthrough question.
            answer_question=lambda turn, question, lang: bot.answer_question(turn, question, lang),
        )
    )
    bot = GuidanceBot(
        knowledge=knowledge,
        conversation_state=conversation_state,
        user_state=user_state,
        storage=storage,
        feedback=feedback,
        roles=roles,
        clock=clock,
        timezone=settings.timezone,
        features=features,
        default_language=settings.default_language,
        on_refused=broadcast.refused,
        live=live,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        storage=storage,
        conversation_state=conversation_state,
        user_state=user_state,
        knowledge=knowledge,
        feedback=feedback,
        roles=roles,
        gateway=gateway,
        bot=bot,
        features=features,
        extras={"broadcast": broadcast, "learning": learning},
    )


def replica_id() -> str:
    """Names this process in claims it holds (turn journal rows): host, pid and a random part."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _check_walkthrough_links(knowledge: KnowledgeBase, catalog: WalkthroughCatalog) -> None:
    """A knowledge entry may offer a walkthrough only if that walkthrough exists."""
    problems = [
        ContentProblem(entry.file, entry.id, "walkthrough", f"no walkthrough with id {entry.walkthrough!r}")
        for entry in knowledge.entries
        if entry.walkthrough and catalog.get(entry.walkthrough) is None
    ]
    if problems:
        raise ContentError(problems)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    auth: BotFrameworkAuthentication | None = None,
    services: Services | None = None,
) -> web.Application:
    """The aiohttp application: /api/messages and /healthz, with resources tied to its lifetime."""
    services = services or build_services(settings, clock=clock, auth=auth)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SERVICES] = services
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_gateway_ctx)  # after the database: closed first, while the database is open
    if settings.broadcast_background and "broadcast" in services.extras:
        # Scheduler and delivery workers: stopped first, while the gateway and database are open.
        app.cleanup_ctx.append(services.extras["broadcast"].background)
    app.router.add_post(
        "/api/messages",
        messages_handler(services.gateway, services.bot, settings.max_body_bytes),
    )
    app.router.add_get("/healthz", _healthz)
    return app


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    await services.db.open()
    log.info(
        "bot ready",
        extra={
            "mode": "local" if services.settings.local_mode else "authenticated",
            "entries": len(services.knowledge.entries),
        },
    )
    yield
    try:  # answered-question counts still in memory (bot/conversation/feedback.py)
        await services.feedback.flush()
    except Exception as error:  # noqa: BLE001 - statistics only: a stop must not fail on them
        log.warning("question counts not written at shutdown", extra={"error": type(error).__name__})
    await services.storage.close()  # the SQLite worker's own connections (bot/storage/sqlite_runner.py)
    await services.db.close()


async def _gateway_ctx(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    _freeze_startup_heap()
    # Journaled turns left by a replica that stopped or died are replayed from here on.
    services.gateway.start_recovery(services.bot.on_turn, interval=min(15.0, services.settings.turn_lease_seconds / 4))
    yield
    # Deferred turns finish (or go back to the journal), then the pooled outbound HTTP session closes.
    await services.gateway.close()


_heap_frozen = False


# Collect the youngest generation after this many new container objects (Python's default: 700).
# A turn's objects are freed by reference counting as it ends (bot/transport/adapter.py), so a collection
# mostly finds the live objects of the turns in flight and frees nothing; at 700 the collector ran
# every few turns and took ~3% of the CPU.
GC_YOUNG_THRESHOLD = 10_000


def _freeze_startup_heap() -> None:
    """Once per process: move everything built at start-up (content, modules, engines) out of the
    garbage collector's sight. Full collections then scan only what turns create; they took up to
    ~100 ms with the start-up heap in view (see "Performance" in README.md)."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


async def _healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with services.db.e.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return web.json_response({"status": "unavailable", "reason": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "entries": len(services.knowledge.entries)})
