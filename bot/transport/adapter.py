"""botbuilder's CloudAdapter, with turn contexts that refcounting alone can free.

TurnContext._emit (run for every send, update and delete) builds a closure that refers to itself,
so every turn that answered stayed in a reference cycle with its whole object graph (activities,
cards, state, the connector's answer) until the garbage collector's next pass: about 60 objects a
turn for the collector to trace, and memory that peaks with load instead of being freed at the end
of the turn. `AcyclicTurnContext` runs the same handler chain without the self-reference.

A turn may carry a `ReplyLedger` (bot/transport/channel.py sets one for every deferred turn): its
replies are then sent one at a time, each counted as soon as the connector accepted it, and a replayed
turn skips the replies its ledger says were accepted before.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ResourceResponse

# The ledger of the turn running in this task (set by bot/transport/channel.py for a deferred turn).
current_ledger: contextvars.ContextVar[ReplyLedger | None] = contextvars.ContextVar("reply_ledger", default=None)


class ReplyLedger(Protocol):
    """What a turn has sent: `skip` replies were accepted by a run before this one (a replay)."""

    skip: int
    sent: int

    def accepted(self) -> None:
        """Called after each accepted reply (`sent` already counts it): note it where a replay finds it."""
        ...


Handler = Callable[[TurnContext, Any, Callable[[], Awaitable[None]]], Awaitable[Any]]


async def _run_handlers(context: TurnContext, handlers: Sequence[Handler], arg: Any, i: int) -> None:
    """Handler `i`, whose `next` runs handler i + 1 (a partial, not a closure over itself)."""
    if i < len(handlers):
        await handlers[i](context, arg, partial(_run_handlers, context, handlers, arg, i + 1))


class AcyclicTurnContext(TurnContext):
    """TurnContext whose middleware chain (on_send_activities and the like) leaves no cycle behind."""

    async def _emit(self, plugins: Sequence[Handler], arg: Any, logic: Awaitable[Any]) -> Any:
        await _run_handlers(self, list(plugins), arg, 0)
        return await logic  # a coroutine, awaited after the handlers as botbuilder does


class GuidanceCloudAdapter(CloudAdapter):
    """CloudAdapter whose turns use AcyclicTurnContext; everything else is botbuilder's."""

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        ledger = current_ledger.get()
        if ledger is None:
            return await super().send_activities(context, activities)
        responses: list[ResourceResponse] = []
        for activity in activities:
            if ledger.sent < ledger.skip:  # the user has it already: a run before a crash sent it
                ledger.sent += 1
                responses.append(ResourceResponse())
                continue
            responses += await super().send_activities(context, [activity])
            ledger.sent += 1
            ledger.accepted()
        return responses

    def _create_turn_context(self, activity: Activity, *args: Any) -> TurnContext:
        stock = super()._create_turn_context(activity, *args)
        context = AcyclicTurnContext(self, activity)
        context.turn_state.update(stock.turn_state)
        return context
