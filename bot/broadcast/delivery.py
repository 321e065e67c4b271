"""Delivery workers: take rows from the outbox and send them through the ChannelGateway.

botbuilder 4.17.1 does not retry a send that gets 429 or 5xx, so this module does: Retry-After is
honoured on 429; 408, 412, 5xx and timeouts are retried with exponential backoff and jitter up to
`max_attempts`; 403/404 mark the conversation gone; anything else fails at once with its reason.

A worker runs forever with the app (`run`) or in burst mode (`drain`): it delivers until the
outbox has nothing pending and returns. Time comes from the injected clock and waiting from the
injected `sleep`, so tests with a manual clock drain without waiting.

Duplicates: a row is confirmed in the database after Teams accepted it. If the process dies (or
a send times out) between Teams accepting and that write, the row is sent again, so at most
`concurrency` messages per crashed worker can arrive twice. A graceful stop waits for sends in
flight and gives the other leases back, so it duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from botbuilder.schema import Activity, ConversationReference

from bot.broadcast.conversations import ConversationRegistry
from bot.broadcast.outbox import Outbox, OutboxRow
from bot.broadcast.rate_limit import RateLimiter
from bot.clock import Clock
from bot.transport.channel import ChannelGateway, DeliveryError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before the next attempt, after `attempts` failed ones.

        Retry-After is a minimum (plus up to 10 % jitter so that throttled rows do not return
        together); otherwise exponential backoff with "equal jitter": half fixed, half random.
        """
        if retry_after is not None:
            return retry_after * (1 + 0.1 * rng.random())
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 16
    lease: timedelta = timedelta(seconds=90)  # longer than send_timeout: a live send keeps its row
    send_timeout: float = 30.0
    max_inline_wait: float = 2.0  # wait this long for the rate limiter; longer: give the row back
    poll_interval: float = 2.0
    stop_grace: float = 35.0  # a graceful stop waits this long for sends in flight


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        gateway: ChannelGateway,
        limiter: RateLimiter,
        clock: Clock,
        registry: ConversationRegistry,
        *,
        settings: WorkerSettings | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.gateway = gateway
        self.limiter = limiter
        self.clock = clock
        self.registry = registry
        self.settings = settings or WorkerSettings()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        outbox.listeners.append(self._wake.set)

    # ---- modes ----------------------------------------------------------------------------

    async def drain(self) -> None:
        """Deliver until nothing is pending anywhere in the outbox (burst mode)."""
        await self._loop(burst=True)

    async def run(self) -> None:
        """Deliver until `stop()`; wakes on new rows in this process and polls for other replicas' rows."""
        try:
            await self._loop(burst=False)
        finally:
            await self._wait_inflight(self.settings.stop_grace)
            await self.outbox.release(self.worker_id)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def abort(self) -> None:
        """Die like a crashed process: cancel everything, record nothing, keep the leases."""
        self._stopping = True
        for task in self._inflight:
            task.cancel()

    # ---- the loop -------------------------------------------------------------------------

    async def _loop(self, *, burst: bool) -> None:
        await self.outbox.finish_completed()
        while not self._stopping:
            free = self.settings.concurrency - len(self._inflight)
            rows = await self.outbox.claim(self.worker_id, free, self.settings.lease) if free > 0 else []
            for row in rows:
                if self._stopping:
                    break
                await self._dispatch(row)
            if self._stopping:
                break
            if rows and len(self._inflight) < self.settings.concurrency:
                continue
            if self._inflight:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            due = await self.outbox.next_due()
            if burst and due is None:
                await self.outbox.finish_completed()
                if await self.outbox.next_due() is None:
                    return
                continue
            wait = self.settings.poll_interval
            if due is not None:
                wait = max(0.0, min(wait, (due - self.clock.now()).total_seconds()))
            if burst:
                await self.sleep(wait)
            else:
                self._wake.clear()
                if self._stopping:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _dispatch(self, row: OutboxRow) -> None:
        """Wait for the rate limiter (briefly) and start the send; a long wait gives the row back."""
        while True:
            now = self.clock.now()
            wait = self.limiter.acquire(row.conversation_id, row.tenant_id, now.timestamp())
            if wait <= 0:
                break
            if wait > self.settings.max_inline_wait:
                await self.outbox.postpone(row, self.worker_id, now + timedelta(seconds=wait))
                return
            await self.sleep(wait)
        task = asyncio.create_task(self._deliver_logged(row))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _wait_inflight(self, within: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=within)

    # ---- one send -------------------------------------------------------------------------

    async def _deliver_logged(self, row: OutboxRow) -> None:
        try:
            await self._deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is away: the lease expires and the row is retried
            log.exception("delivery bookkeeping failed", extra={"row": row.id})

    async def _deliver(self, row: OutboxRow) -> None:
        error: DeliveryError | None = None
        activity_id: str | None = None
        try:
            reference = ConversationReference().deserialize(row.reference)
            activity = Activity().deserialize(row.activity)
            async with asyncio.timeout(self.settings.send_timeout):
                activity_id = await self.gateway.send_proactive(reference, activity)
        except DeliveryError as exc:
            error = exc
        except TimeoutError:
            error = DeliveryError(None, f"timeout after {self.settings.send_timeout:g} s")
        except (ValueError, TypeError, KeyError) as exc:
            error = DeliveryError(400, f"unreadable row: {type(exc).__name__}")
        attempts = row.attempts + 1
        broadcasts = [row.broadcast_id]
        if error is None:
            await self.outbox.delivered(row, self.worker_id, activity_id)
        elif error.gone:
            log.info("conversation gone", extra={"row": row.id, "status": error.status})
            await self.registry.mark_gone(row.conversation_id)
            broadcasts = await self.outbox.gone(row, self.worker_id, f"{error.status} {error.reason}")
        elif error.retryable and attempts < self.retry.max_attempts:
            delay = self.retry.delay(attempts, error.retry_after if error.status == 429 else None, self.rng)
            if error.status == 429:
                self.limiter.block(row.conversation_id, self.clock.now().timestamp() + delay)
            log.info(
                "send will be retried",
                extra={"row": row.id, "status": error.status, "attempts": attempts, "delay_s": round(delay, 2)},
            )
            at = self.clock.now() + timedelta(seconds=delay)
            await self.outbox.retry_later(row, self.worker_id, _reason(error), at)
            return
        else:
            log.warning("send failed", extra={"row": row.id, "status": error.status, "attempts": attempts})
            await self.outbox.failed(row, self.worker_id, _reason(error, attempts))
        for broadcast_id in broadcasts:
            await self.outbox.finish_if_done(broadcast_id)


def _reason(error: DeliveryError, attempts: int | None = None) -> str:
    status = error.status if error.status is not None else "no response"
    text = f"{status}: {error.reason}"
    return f"{text} (after {attempts} attempts)" if attempts and attempts > 1 else text
