"""botbuilder's CloudAdapter, with turn contexts that refcounting alone can free.

TurnContext._emit (run for every send, update and delete) builds a closure that refers to itself,
so every turn that answered stayed in a reference cycle with its whole object graph (activities,
cards, state, the connector's answer) until the garbage collector's next pass: about 60 objects a
turn for the collector to trace, and memory that peaks with load instead of being freed at the end
of the turn. `AcyclicTurnContext` runs the same handler chain without the self-reference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

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

    def _create_turn_context(self, activity: Activity, *args: Any) -> TurnContext:
        stock = super()._create_turn_context(activity, *args)
        context = AcyclicTurnContext(self, activity)
        context.turn_state.update(stock.turn_state)
        return context
