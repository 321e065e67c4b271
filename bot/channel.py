"""The seam around botbuilder's adapter: inbound turns and outbound proactive sends.

Nothing else in the project builds an adapter or talks to the Bot Connector, so a move to
the Microsoft 365 Agents SDK would replace this module and little else.

Authentication is botbuilder's ConfigurationBotFrameworkAuthentication, wrapped so that the
connector clients and credentials it builds after a request passed its checks are reused and
send over one pooled aiohttp session (bot/fast_auth.py, bot/connector_pool.py). Call
`close()` when the app stops.

With `defer_turns` (off by default; `Settings.defer_turns` when present) an authenticated
message is acknowledged at once and its turn runs right after, in arrival order per
conversation, so a slow Bot Connector does not hold the channel's request open; invokes and
expectReplies still answer in the request, and authentication still happens before the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from copy import copy

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, DeliveryModes
from botframework.connector.auth import BotFrameworkAuthentication

from bot.config import Settings
from bot.connector_pool import ConnectorPool, no_retries
from bot.fast_auth import PooledBotFrameworkAuthentication
from bot.language import language_for
from bot.texts import t

log = logging.getLogger(__name__)

TurnLogic = Callable[[TurnContext], Awaitable[None]]


class DeliveryError(Exception):
    """A send that the channel refused or that did not complete."""

    def __init__(self, status: int | None, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status or 'no status'}: {reason}")
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    @property
    def gone(self) -> bool:
        """The bot was removed from the conversation, or it no longer exists."""
        return self.status in (403, 404)

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in (408, 412, 429) or self.status >= 500

    @classmethod
    def from_exception(cls, exc: Exception) -> DeliveryError:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        headers = getattr(response, "headers", None) or {}
        retry_after = _parse_retry_after(headers.get("Retry-After") if hasattr(headers, "get") else None)
        if isinstance(status, int):
            return cls(status, type(exc).__name__, retry_after)
        return cls(None, f"{type(exc).__name__}: {str(exc)[:200]}")


def _parse_retry_after(value: object) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(str(value)))
    except ValueError:
        return None


class ChannelGateway:
    """Owns the CloudAdapter and the Bot Framework authentication built from settings.

    Without `auth`, it is botbuilder's configuration authentication with pooled outbound
    clients; a given `auth` is used exactly as it is.
    """

    def __init__(self, settings: Settings, auth: BotFrameworkAuthentication | None = None) -> None:
        self.settings = settings
        self.pool = ConnectorPool()
        self.auth = auth or PooledBotFrameworkAuthentication.from_settings(settings, self.pool)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.defer_turns = bool(getattr(settings, "defer_turns", False))
        self.turns = DeferredTurns()

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Finish deferred turns, then release the pooled HTTP session (it reopens if used again)."""
        await self.turns.drain(drain_timeout)
        await self.pool.close()

    async def process(self, auth_header: str, activity: Activity, logic: TurnLogic) -> InvokeResponse | None:
        """Authenticate and run one inbound activity; raises PermissionError when the token is bad."""
        if not (self.defer_turns and _deferrable(activity)):
            return await self.adapter.process_activity(auth_header, activity, logic)
        # The same authentication the adapter would run, before the channel gets its answer.
        result = await self.auth.authenticate_request(activity, auth_header)
        conversation = activity.conversation.id if activity.conversation else ""
        await self.turns.submit(
            f"{activity.channel_id}/{conversation}",
            lambda: self.adapter.process_activity(result, activity, logic),
        )
        return None

    async def continue_conversation(self, reference: ConversationReference, logic: TurnLogic) -> None:
        """Run `logic` in an existing conversation (proactive messages)."""
        await self.adapter.continue_conversation(reference, logic, self.settings.app_id or None)

    async def send_proactive(self, reference: ConversationReference, activity: Activity) -> str | None:
        """Send one activity into an existing conversation; raises DeliveryError with the HTTP status.

        This is the outbox's single way out: it tells throttling (429 + Retry-After), transient
        failures (5xx, timeouts) and a removed bot (403/404) apart so the caller can decide.
        """
        outcome: dict[str, object] = {}

        async def logic(turn_context: TurnContext) -> None:
            try:
                # A new top-level post (POST …/activities), not a reply into the thread of whatever
                # message the reference was taken from, which is where send_activity would put it.
                outgoing = TurnContext.apply_conversation_reference(copy(activity), reference)
                outgoing.reply_to_id = None
                connector = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
                response = await connector.conversations.send_to_conversation(outgoing.conversation.id, outgoing)
                outcome["id"] = response.id if response else None
            except Exception as exc:  # noqa: BLE001 - classified below, outside the pipeline
                outcome["error"] = exc

        try:
            # One try per call: the caller schedules retries from DeliveryError.retry_after.
            with no_retries():
                await self.continue_conversation(reference, logic)
        except Exception as exc:  # noqa: BLE001 - e.g. token acquisition failed
            outcome["error"] = exc
        error = outcome.get("error")
        if isinstance(error, Exception):
            raise DeliveryError.from_exception(error) from error
        return outcome.get("id")  # type: ignore[return-value]

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        activity = turn_context.activity
        log.error(
            "turn failed",
            exc_info=error,
            extra={
                "activity_type": activity.type,
                "activity_id": activity.id,
                "conversation": activity.conversation.id if activity.conversation else None,
            },
        )
        # Tell the user, but never let a failing reply turn into an HTTP 500 for the channel.
        if activity.type == "message" and not turn_context.responded:
            try:
                await turn_context.send_activity(t("error", language_for(activity.text or "", activity.locale)))
            except Exception as send_error:  # noqa: BLE001 - the connector may be the failing part
                log.warning("error reply failed", extra={"error": type(send_error).__name__})


def _deferrable(activity: Activity) -> bool:
    """Activities whose HTTP answer carries nothing: botbuilder answers them with an empty 201 anyway."""
    return activity.type != ActivityTypes.invoke and activity.delivery_mode != DeliveryModes.expect_replies


class DeferredTurns:
    """Runs acknowledged turns: in arrival order per key (conversation), at most `limit` at a time.

    When `limit` turns are pending, `submit` waits, so the channel's requests slow down instead of
    turns piling up in memory. `drain` waits for what was accepted (on shutdown).
    """

    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    async def submit(self, key: str, run: Callable[[], Awaitable[object]]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        await self._slots.acquire()
        task = asyncio.get_running_loop().create_task(self._run(self._tails.get(key), run))
        self._tails[key] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(key, done))

    @staticmethod
    async def _run(previous: asyncio.Task[None] | None, run: Callable[[], Awaitable[object]]) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is its own; only the order matters here
        try:
            await run()
        except Exception:
            log.exception("deferred turn failed")

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]
        if self._slots is not None:
            self._slots.release()

    async def drain(self, within: float) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=within)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("deferred turns cancelled at shutdown", extra={"count": len(pending)})
            await asyncio.wait(pending, timeout=1.0)
