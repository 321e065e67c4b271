"""What a capability (walkthroughs, broadcasts, …) plugs into the bot's single routing function."""

from __future__ import annotations

from typing import Any, Protocol

from botbuilder.core import BotState, TurnContext

from bot.conversation.commands import Command


class Feature(Protocol):
    """A capability of the bot. The bot calls these hooks in a fixed, documented order."""

    def commands(self) -> list[Command]:
        """Commands this feature adds to the command table."""
        ...

    async def on_message(self, turn: TurnContext, text: str, lang: str) -> bool:
        """Called before commands and questions (e.g. an active walkthrough); True when consumed."""
        ...

    async def on_submit(self, turn: TurnContext, value: dict[str, Any], lang: str) -> bool:
        """A card submit; True when this feature recognised its `action`."""
        ...

    async def on_installed(self, turn: TurnContext) -> None:
        """The bot was added to this conversation (team, channel, group chat, personal)."""
        ...

    async def on_removed(self, turn: TurnContext) -> None:
        """The bot was removed from this conversation."""
        ...

    def message_states(self) -> list[BotState]:
        """Bot states this feature reads on every message: the bot reads them all in one round trip."""
        ...


class FeatureBase:
    """Defaults for the hooks, so a feature implements only what it needs."""

    def commands(self) -> list[Command]:
        return []

    async def on_message(self, turn: TurnContext, text: str, lang: str) -> bool:
        return False

    async def on_submit(self, turn: TurnContext, value: dict[str, Any], lang: str) -> bool:
        return False

    async def on_installed(self, turn: TurnContext) -> None:
        return None

    async def on_removed(self, turn: TurnContext) -> None:
        return None

    def message_states(self) -> list[BotState]:
        return []
