"""Teams-shaped activities and a chat driver for the broadcast tests (the app over HTTP, replies at the connector)."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import SERVICES, Services
from bot.broadcast.feature import BroadcastFeature
from bot.clock import ManualClock
from bot.config import PROJECT_ROOT, Settings
from bot.conversation.cards import card_text
from bot.transport.local_connector import LocalConnector

BOT = {"id": "28:guidance-bot", "name": "Distansstöd"}
TENANT = "t1"

# The fake object ids of content/roles.yaml.
HR_ID = "00000000-0000-0000-0000-0000000000a1"
MANAGER_ID = "00000000-0000-0000-0000-0000000000b1"
AMBASSADOR_KSF = "00000000-0000-0000-0000-0000000000c1"
AMBASSADOR_KULTUR = "00000000-0000-0000-0000-0000000000c2"
EMPLOYEE_ID = "00000000-0000-0000-0000-00000000e001"

KSF_CHANNEL = "19:exempel-ksf-hr-allmant@thread.tacv2"
KULTUR_CHANNELS = ("19:exempel-kultur-fritid-allmant@thread.tacv2", "19:exempel-kultur-fritid-bibliotek@thread.tacv2")


def content_dir(tmp_path: Path, **overrides: str) -> Path:
    """A copy of the real content/ with some files replaced (file name -> YAML text)."""
    target = tmp_path / "content"
    if not target.exists():
        shutil.copytree(PROJECT_ROOT / "content", target)
    for name, text in overrides.items():
        (target / name).write_text(text, encoding="utf-8")
    return target


def settings_for(tmp_path: Path, database_url: str, **kwargs: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        content_dir=kwargs.pop("content", None) or content_dir(tmp_path),
        database_url=database_url,
        **kwargs,
    )


def user(aad: str, name: str = "Anna") -> dict[str, Any]:
    return {"id": f"29:{aad[-4:]}", "name": name, "aadObjectId": aad}


def personal(service_url: str, aad: str, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A message in the user's personal chat with the bot."""
    activity: dict[str, Any] = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user(aad),
        "conversation": {"id": f"a:personal-{aad[-4:]}", "conversationType": "personal", "tenantId": TENANT},
        "recipient": BOT,
        "text": text,
        "locale": "sv-SE",
        "channelData": {"tenant": {"id": TENANT}},
    }
    activity.update(extra)
    return activity


def channel_data(channel_id: str, team_id: str | None = None) -> dict[str, Any]:
    team = team_id or f"team-of-{channel_id}"
    return {
        "tenant": {"id": TENANT},
        "team": {"id": team, "name": "Team"},
        "channel": {"id": channel_id, "name": "Allmänt"},
    }


def in_channel(service_url: str, channel_id: str, aad: str, text: str, team_id: str | None = None) -> dict[str, Any]:
    """An @mention of the bot in a channel post."""
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user(aad),
        "conversation": {
            "id": f"{channel_id};messageid=1{uuid.uuid4().int % 10**12}",
            "conversationType": "channel",
            "tenantId": TENANT,
            "isGroup": True,
        },
        "recipient": BOT,
        "text": f"<at>{BOT['name']}</at> {text}",
        "entities": [{"type": "mention", "mentioned": BOT, "text": f"<at>{BOT['name']}</at>"}],
        "locale": "sv-SE",
        "channelData": channel_data(channel_id, team_id),
    }


def bot_added_to_team(
    service_url: str, channel_id: str, team_id: str | None = None, removed: bool = False
) -> dict[str, Any]:
    """Teams' conversationUpdate when the bot is added to (or removed from) a team."""
    key = "membersRemoved" if removed else "membersAdded"
    return {
        "type": "conversationUpdate",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user(MANAGER_ID),
        "conversation": {"id": channel_id, "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
        "recipient": BOT,
        key: [BOT],
        "channelData": {
            **channel_data(channel_id, team_id),
            "eventType": "teamMemberRemoved" if removed else "teamMemberAdded",
        },
    }


def installation_update(service_url: str, aad: str, action: str) -> dict[str, Any]:
    """A user installs (add) or uninstalls (remove) the bot in personal scope."""
    return {
        "type": "installationUpdate",
        "action": action,
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user(aad),
        "conversation": {"id": f"a:personal-{aad[-4:]}", "conversationType": "personal", "tenantId": TENANT},
        "recipient": BOT,
        "channelData": {"tenant": {"id": TENANT}},
    }


def text_of(activity: dict[str, Any]) -> str:
    from botbuilder.schema import Activity

    return card_text(Activity().deserialize(activity))


class FakeTime:
    """An injected sleep that moves the manual clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(timedelta(seconds=max(seconds, 0.001)))
        await asyncio.sleep(0)


@dataclass
class Chat:
    """Posts activities to the app's /api/messages and reads what the bot sent to the connector."""

    client: TestClient
    connector: LocalConnector

    @property
    def services(self) -> Services:
        return self.client.app[SERVICES]

    @property
    def feature(self) -> BroadcastFeature:
        return self.services.extras["broadcast"]

    async def post(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        ids = {activity["conversation"]["id"], activity["conversation"]["id"].split(";")[0]}
        before = len(self.connector.received)
        response = await self.client.post("/api/messages", json=activity)
        assert response.status < 300, await response.text()
        return [r.activity for r in self.connector.received[before:] if r.conversation_id in ids]

    async def post_text(self, aad: str, text: str) -> list[dict[str, Any]]:
        return await self.post(personal(self.connector.url, aad, text))

    async def say(self, aad: str, text: str) -> str:
        return "\n".join(text_of(r) for r in await self.post_text(aad, text))

    async def submit(self, aad: str, value: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.post(personal(self.connector.url, aad, None, value=value))

    async def in_channel(self, channel_id: str, aad: str, text: str) -> str:
        replies = await self.post(in_channel(self.connector.url, channel_id, aad, text))
        return "\n".join(text_of(r) for r in replies)

    async def deliver(self, clock: ManualClock) -> None:
        """Drain the outbox with the real gateway to the connector, time moving only on the manual clock."""
        fake = FakeTime(clock)
        await self.feature.new_worker(clock=clock, sleep=fake.sleep).drain()
