"""A bot wired exactly as in production, driven through botbuilder's TestAdapter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Mention

from bot.app import Services, build_services
from bot.clock import Clock
from bot.config import PROJECT_ROOT, Settings
from bot.conversation.cards import card_text

BOT = ChannelAccount(id="28:guidance-bot", name="Distansstöd")
USER = ChannelAccount(id="29:user-1", name="Anna", aad_object_id="00000000-0000-0000-0000-00000000e001")


def bot_settings(tmp_path: Path, database_url: str | None = None, **kwargs: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        content_dir=PROJECT_ROOT / "content",
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        **kwargs,
    )


@dataclass
class BotHarness:
    services: Services
    adapter: TestAdapter

    @classmethod
    async def start(cls, settings: Settings, clock: Clock) -> BotHarness:
        services = build_services(settings, clock=clock)
        await services.db.open()
        template = Activity(
            channel_id="msteams",
            service_url="https://smba.example.invalid/emea/",
            from_property=USER,
            recipient=BOT,
            conversation=ConversationAccount(id="a:personal-1", conversation_type="personal"),
            locale="sv-SE",
        )
        return cls(services, TestAdapter(services.bot.on_turn, template))

    async def close(self) -> None:
        await self.services.db.close()

    async def send(self, text: str | None = None, **fields: Any) -> list[Activity]:
        """Send one activity and return the bot's replies to it."""
        before = len(self.adapter.activity_buffer)
        await self.adapter.receive_activity(Activity(type=fields.pop("type", "message"), text=text, **fields))
        replies = self.adapter.activity_buffer[before:]
        del self.adapter.activity_buffer[before:]
        return replies

    async def say(self, text: str | None = None, **fields: Any) -> str:
        """Send and return the replies' readable text (card fallback included)."""
        return "\n".join(card_text(a) for a in await self.send(text, **fields))

    @staticmethod
    def mention_entity() -> dict[str, Any]:
        mention = Mention(mentioned=BOT, text=f"<at>{BOT.name}</at>", type="mention")
        return mention.serialize()
