"""A conversation in the terminal that goes through the real HTTP endpoint and adapter.

The bot runs in-process on a free local port; a LocalConnector receives its replies, exactly
as the Bot Connector would in Teams, and they are printed here.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.conversation.cards import card_text
from bot.logs import configure_logging
from bot.transport.local_connector import LocalConnector

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])_(\S(?:.*?\S)?)_(?![\w*])")


def render(text: str, ansi: bool) -> str:
    """Teams' markdown for a terminal: **bold** as bold and _italic_ as italic (ANSI), or plain."""
    bold, italic, reset = ("\033[1m", "\033[3m", "\033[0m") if ansi else ("", "", "")
    text = _BOLD.sub(lambda m: f"{bold}{m.group(1)}{reset}", text)
    return _ITALIC.sub(lambda m: f"{italic}{m.group(1)}{reset}", text)


class TerminalClient:
    """Posts Teams-like activities to the bot and returns what the connector received."""

    def __init__(self, bot_url: str, connector: LocalConnector, locale: str = "sv-SE") -> None:
        self.bot_url = bot_url
        self.connector = connector
        self.locale = locale
        self.conversation_id = f"terminal-{uuid.uuid4().hex[:8]}"
        self.user = {"id": "terminal-user", "name": "Du", "aadObjectId": "terminal-user"}
        self.bot = {"id": "guidance-bot", "name": "Distansstöd"}

    def _activity(self, **fields: Any) -> dict[str, Any]:
        return {
            "id": uuid.uuid4().hex,
            "channelId": "terminal",
            "serviceUrl": self.connector.url,
            "conversation": {"id": self.conversation_id, "conversationType": "personal"},
            "from": self.user,
            "recipient": self.bot,
            "locale": self.locale,
            **fields,
        }

    async def send(self, session: aiohttp.ClientSession, activity: dict[str, Any]) -> list[str]:
        before = len(self.connector.received)
        async with session.post(f"{self.bot_url}/api/messages", json=activity) as response:
            if response.status >= 400:
                return [f"[HTTP {response.status}] {await response.text()}"]
        from botbuilder.schema import Activity

        new = self.connector.received[before:]
        return [card_text(Activity().deserialize(r.activity)) for r in new]

    async def start(self, session: aiohttp.ClientSession) -> list[str]:
        return await self.send(
            session,
            self._activity(type="conversationUpdate", membersAdded=[self.user, self.bot]),
        )

    async def say(self, session: aiohttp.ClientSession, text: str) -> list[str]:
        return await self.send(session, self._activity(type="message", text=text))


async def run_chat(settings: Settings) -> int:
    configure_logging("WARNING")
    connector = LocalConnector()
    await connector.start()
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = TerminalClient(f"http://127.0.0.1:{port}", connector)
    ansi = sys.stdout.isatty()
    print("Skriv en fråga (Ctrl-D för att avsluta). / Ask a question (Ctrl-D to quit).\n")
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as session:
            for reply in await client.start(session):
                print(f"bot> {render(reply, ansi)}\n")
            while True:
                print("du> ", end="", flush=True)
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                for reply in await client.say(session, line.strip()):
                    print(f"bot> {render(reply, ansi)}\n")
    finally:
        await runner.cleanup()
        await connector.stop()
    return 0
