"""The seam around botbuilder's adapter: inbound turns and outbound proactive sends.

Nothing else in the project builds an adapter or talks to the Bot Connector, so a move to
the Microsoft 365 Agents SDK would replace this module and little else.

Authentication is botbuilder's ConfigurationBotFrameworkAuthentication, wrapped so that the
connector clients and credentials it builds after a request passed its checks are reused and
send over one pooled aiohttp session (bot/transport/fast_auth.py, bot/transport/connector_pool.py). Call
`close()` when the app stops.

With `defer_turns` (DEFER_TURNS, on by default in a served bot) an authenticated message's turn
starts at once, in arrival order per conversation. The channel gets its answer when the turn
finished or after ACK_WAIT_MS, whichever comes first, so a slow Bot Connector does not hold the
channel's request open. A turn still running at that moment is first written to the turn journal
(bot/transport/turn_journal.py), so a crash after the answer does not lose the message (the journal replays
it); a turn that finished in time needs no row. Invokes and expectReplies still answer in the
request, and authentication happens before any answer.

A deferred turn's replies are owed until delivered: they are retried (Retry-After, backoff) until
REPLY_DEADLINE_SECONDS after the message arrived, while the replica renews the turn's journal claim,
and each reply the connector accepted is recorded in the journal, so that a replay after a crash
sends only what was not accepted yet. A reply to a conversation that is gone (403/404), or whose
deadline passed, is dropped with a warning that names the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, DeliveryModes
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

from bot.config import Settings
from bot.transport.adapter import GuidanceCloudAdapter, current_ledger
from bot.transport.connector_pool import ConnectorPool
from bot.transport.fast_auth import PooledBotFrameworkAuthentication
from bot.transport.http_sender import no_retries, owe_replies_until, parse_retry_after, reply_deadline_passed
from bot.transport.turn_journal import JournaledTurn, TurnJournal, auth_record, restore_auth

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
        raw = headers.get("Retry-After") if hasattr(headers, "get") else None
        retry_after = parse_retry_after(str(raw)) if raw is not None else None
        if isinstance(status, int):
            return cls(status, type(exc).__name__, retry_after)
        return cls(None, f"{type(exc).__name__}: {str(exc)[:200]}")


class ChannelGateway:
    """Owns the CloudAdapter and the Bot Framework authentication built from settings.

    Without `auth`, it is botbuilder's configuration authentication with pooled outbound
    clients; a given `auth` is used exactly as it is.
    """

    def __init__(
        self,
        settings: Settings,
        auth: BotFrameworkAuthentication | None = None,
        journal: TurnJournal | None = None,
        error_reply: Callable[[Activity], str] | None = None,
    ) -> None:
        self.settings = settings
        # What a user is told when their turn failed; the conversation layer words it (transport knows no texts).
        self.error_reply = error_reply
        self.pool = ConnectorPool()
        self.auth = auth or PooledBotFrameworkAuthentication.from_settings(settings, self.pool)
        self.adapter = GuidanceCloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.journal = journal
        # Acknowledging before the turn ran is only safe with a journal to replay from.
        self.defer_turns = bool(settings.defer_turns and journal is not None)
        self.ack_wait = settings.ack_wait_ms / 1000
        self.turns = DeferredTurns()
        self._in_flight: set[int] = set()  # journal rows whose turns were accepted and not finished
        self._recovery: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._wake_recovery: asyncio.Event | None = None
        self.reply_deadline = settings.reply_deadline_seconds

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Stop replaying, finish deferred turns, hand unfinished ones back, release the HTTP session."""
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
            self._recovery = None
        await self.turns.drain(drain_timeout)
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
            self._renewer = None
        if self.journal is not None:
            try:
                await self.journal.release(sorted(self._in_flight))
                await self.journal.close()
            except Exception:  # the rows stay and are replayed when their claims run out
                log.exception("turn journal could not be closed cleanly")
        await self.pool.close()

    async def process(
        self, auth_header: str, activity: Activity, logic: TurnLogic, body: bytes | None = None
    ) -> InvokeResponse | None:
        """Authenticate and run one inbound activity; raises PermissionError when the token is bad.

        `body` is the request as received; a deferred turn's journal row keeps it for a replay.
        """
        if not (self.defer_turns and self.journal is not None and _deferrable(activity)):
            return await self.adapter.process_activity(auth_header, activity, logic)
        # The same authentication the adapter would run, before the channel gets its answer.
        result = await self.auth.authenticate_request(activity, auth_header)
        key = _conversation_key(activity)
        if self.turns.full():
            # No room to run it now: written down for the next sweep (of any replica), then acknowledged.
            await self._journal_for_later(key, activity, body, result)
            return None
        turn = _DeferredTurn(self.journal)
        deadline = time.monotonic() + self.reply_deadline
        task = await self.turns.submit(key, lambda: self._run_deferred(turn, result, activity, logic, deadline))
        # A quick turn (the usual case) finishes within ACK_WAIT_MS: the channel hears back when it is
        # done, as without deferral, and nothing needs writing down.
        if self.ack_wait > 0:
            await asyncio.wait({task}, timeout=self.ack_wait)
        if turn.finished:
            return None
        # One that waits longer (on a slow Bot Connector, say) carries on after the answer, so it is
        # written down first: a crash after the answer must not lose it.
        raw = body.decode("utf-8") if body is not None else json.dumps(activity.serialize())
        written = turn.sent
        try:
            entry_id = await self.journal.add(key, raw, auth_record(result), replies_sent=written)
        except Exception:  # without a journal row, answer only after the turn
            log.exception("turn journal unavailable; the turn runs before the answer")
            await asyncio.wait({task})
            return None
        if turn.finished:  # it finished while the row was being written
            self.journal.done(entry_id)
        else:
            turn.entry_id = entry_id
            self._in_flight.add(entry_id)
            if turn.sent > written:  # a reply was accepted while the row was being written
                self.journal.note_sent(entry_id, turn.sent)
        return None

    async def _journal_for_later(
        self, key: str, activity: Activity, body: bytes | None, result: AuthenticateRequestResult
    ) -> None:
        assert self.journal is not None
        raw = body.decode("utf-8") if body is not None else json.dumps(activity.serialize())
        await self.journal.add(key, raw, auth_record(result), claimed=False)
        log.info("turn journaled for later", extra={"pending": len(self.turns)})
        if self._wake_recovery is not None:
            self._wake_recovery.set()

    async def _run_deferred(
        self,
        turn: _DeferredTurn,
        result: AuthenticateRequestResult,
        activity: Activity,
        logic: TurnLogic,
        deadline: float,
    ) -> None:
        try:
            # This runs in the turn's own task (DeferredTurns): what is set here is the turn's alone.
            # Replies are owed until the deadline; the ledger counts (and records) what was accepted.
            owe_replies_until(deadline)
            current_ledger.set(turn)
            await self.adapter.process_activity(result, activity, logic)
        except Exception:  # on_turn_error has told the user; a replay would repeat it
            log.exception("deferred turn failed", extra={"journal_id": turn.entry_id})
        # Not reached when cancelled at shutdown: a journaled turn is then released for a replay, and
        # one not yet journaled is written down by the request still waiting for it.
        turn.finished = True
        if turn.entry_id is not None:
            self._in_flight.discard(turn.entry_id)
            if self.journal is not None:
                self.journal.done(turn.entry_id)

    def start_recovery(self, logic: TurnLogic, interval: float = 15.0) -> None:
        """Replay journaled turns whose claims ran out: now, then every `interval` seconds; and keep
        renewing the claims of this replica's running turns."""
        if self.defer_turns and self._recovery is None:
            loop = asyncio.get_running_loop()
            self._wake_recovery = asyncio.Event()
            self._recovery = loop.create_task(self._recover_forever(logic, interval))
            self._renewer = loop.create_task(self._renew_forever())

    async def _recover_forever(self, logic: TurnLogic, interval: float) -> None:
        assert self._wake_recovery is not None
        while True:
            try:
                while await self.recover(logic):
                    pass
            except Exception:  # the next sweep tries again
                log.exception("turn journal sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_recovery.wait(), interval)
            self._wake_recovery.clear()

    async def _renew_forever(self) -> None:
        """Renew at a third of the lease: a running turn's claim never runs out while this replica lives."""
        assert self.journal is not None
        every = self.journal.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew_claims()
            except Exception:  # noqa: BLE001 - tried again in a moment; the lease is three times as long
                log.warning("turn journal claims not renewed", extra={"count": len(self._in_flight)})

    async def renew_claims(self) -> None:
        """Extend the claims on the journal rows of the turns this replica is running."""
        if self.journal is not None and self._in_flight:
            await self.journal.renew(sorted(self._in_flight))

    async def recover(self, logic: TurnLogic) -> int:
        """Claim and run journaled turns whose claims ran out; returns how many were claimed."""
        if self.journal is None:
            return 0
        claimed = await self.journal.claim_expired()
        for turn in claimed:
            if turn.id in self._in_flight:  # our own running turn, whose claim was not renewed in time
                continue
            await self._replay(turn, logic)
        return len(claimed)

    async def _replay(self, turn: JournaledTurn, logic: TurnLogic) -> None:
        assert self.journal is not None
        try:
            activity = Activity().deserialize(turn.activity)
            result = restore_auth(turn.auth)
            result.connector_factory = self.auth.create_connector_factory(result.claims_identity)
        except Exception:  # a row we cannot read would fail every time
            log.exception("journaled turn unreadable; given up", extra={"journal_id": turn.id})
            self.journal.done(turn.id)
            return
        log.warning(
            "journaled turn replayed",
            extra={"journal_id": turn.id, "attempt": turn.attempts, "replies_sent": turn.replies_sent},
        )
        self._in_flight.add(turn.id)
        replayed = _DeferredTurn(self.journal, entry_id=turn.id, skip=turn.replies_sent)
        # The deadline counts from the message's arrival, not from the replay.
        deadline = time.monotonic() + self.reply_deadline - _age_seconds(turn.received_at, self.journal.clock.now())
        await self.turns.submit(
            turn.conversation_key, lambda: self._run_deferred(replayed, result, activity, logic, deadline)
        )

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
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (403, 404) or reply_deadline_passed():
            # Not a fault of ours: the conversation is gone, or the connector did not take the reply in time.
            log.warning(
                "reply dropped",
                extra={
                    "reason": "conversation gone" if status in (403, 404) else "reply deadline passed",
                    "status": status,
                    "conversation": activity.conversation.id if activity.conversation else None,
                    "activity_id": activity.id,
                },
            )
            return
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
        if activity.type == "message" and not turn_context.responded and self.error_reply is not None:
            try:
                await turn_context.send_activity(self.error_reply(activity))
            except Exception as send_error:  # noqa: BLE001 - the connector may be the failing part
                log.warning("error reply failed", extra={"error": type(send_error).__name__})


@dataclass
class _DeferredTurn:
    """A deferred turn's journal row, once it has one, whether the turn is over, and its replies.

    It is the turn's ReplyLedger (bot/transport/adapter.py): `sent` counts the replies the connector
    accepted (and `skip` those a run before a crash had sent); once the turn has a row, each one
    is recorded in it at once.
    """

    journal: TurnJournal | None = field(default=None, repr=False)
    entry_id: int | None = None
    finished: bool = False
    skip: int = 0
    sent: int = 0

    def accepted(self) -> None:
        # Without a row yet, the count goes into the row when it is written (ChannelGateway.process).
        if self.entry_id is not None and self.journal is not None:
            self.journal.note_sent(self.entry_id, self.sent)


def _age_seconds(received_at: datetime | None, now: datetime) -> float:
    return max(0.0, (now - received_at).total_seconds()) if received_at is not None else 0.0


def _conversation_key(activity: Activity) -> str:
    conversation = activity.conversation.id if activity.conversation else ""
    return f"{activity.channel_id}/{conversation}"


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

    def full(self) -> bool:
        """Whether a submit would wait for a running turn to finish."""
        return len(self._tasks) >= self.limit

    async def submit(self, key: str, run: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        await self._slots.acquire()
        task = asyncio.get_running_loop().create_task(self._run(self._tails.get(key), run))
        self._tails[key] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(key, done))
        return task

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
