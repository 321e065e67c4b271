"""botbuilder's state scopes, with a cheaper way to tell whether a turn changed its state.

botbuilder keeps a hash of each state it loads and compares it when the turn saves, so that an
unchanged state is not written. That hash is `str(jsonpickle.Pickler().flatten(state))`, and
jsonpickle walks the whole tree in Python, twice a turn per scope. For plain JSON, which most
state is, that string is `str(state)`; objects (a walkthrough's DialogState) still go through
jsonpickle, so a change to them is seen exactly as before.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import ConversationState, PrivateConversationState, TurnContext, UserState
from botbuilder.core.bot_state import BotState, CachedBotState

from bot.plain_json import JSONPICKLE_MARKERS, is_plain_json


class PlainAwareCachedState(CachedBotState):
    """A loaded state and its hash, which is str() for plain JSON and jsonpickle's otherwise."""

    def compute_hash(self, obj: object) -> str:
        if is_plain_json(obj, reserved=JSONPICKLE_MARKERS):
            return str(obj)
        return super().compute_hash(obj)


class _PlainAwareLoad(BotState):
    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        """BotState.load, caching the state as a PlainAwareCachedState."""
        cached = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            items: dict[str, Any] = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = PlainAwareCachedState(items.get(key))


class GuidanceUserState(_PlainAwareLoad, UserState):
    """UserState (scope: the user in this channel)."""


class GuidanceConversationState(_PlainAwareLoad, ConversationState):
    """ConversationState (scope: the conversation)."""


class GuidancePrivateConversationState(_PlainAwareLoad, PrivateConversationState):
    """PrivateConversationState (scope: the user in this conversation): walkthrough progress."""
