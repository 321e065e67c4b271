"""A manager's chat with the walkthrough feature over botbuilder's TestAdapter and our SQL storage.

The chat routes each turn the way GuidanceBot documents it (a card submit to on_submit, text to
on_message, then the feature's commands, then a question for the guidance). The guidance itself
is the injected `answer_question` seam: here it records the question and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.clock import ManualClock
from bot.config import PROJECT_ROOT
from bot.conversation.cards import card_text
from bot.conversation.commands import CommandTable
from bot.conversation.language import language_for
from bot.storage import Database
from bot.storage.kv_store import SqlStorage
from dialogs import ResultStore, WalkthroughFeature, load_walkthroughs
from dialogs.definitions import WalkthroughCatalog

BOT = ChannelAccount(id="28:guidance-bot", name="Distansstöd")
MANAGER = ChannelAccount(id="29:manager-1", name="Chef", aad_object_id="00000000-0000-0000-0000-0000000000c1")
GUIDANCE_PREFIX = "Svar från vägledningen:"


@pytest.fixture(scope="session")
def catalog() -> WalkthroughCatalog:
    return load_walkthroughs(PROJECT_ROOT / "content")


@dataclass
class Chat:
    """One manager in a personal chat with a freshly built bot over the given database."""

    database_url: str
    clock: ManualClock
    catalog: WalkthroughCatalog
    user: ChannelAccount = field(default_factory=lambda: MANAGER)
    asked: list[str] = field(default_factory=list)
    db: Database | None = None
    feature: WalkthroughFeature | None = None
    adapter: TestAdapter | None = None
    last: list[Activity] = field(default_factory=list)

    async def open(self) -> Chat:
        self.db = Database(self.database_url)
        await self.db.open()
        self.feature = WalkthroughFeature(
            catalog=self.catalog,
            storage=SqlStorage(self.db, self.clock),
            results=ResultStore(self.db, self.clock),
            clock=self.clock,
            answer_question=self._guidance,
        )
        self._commands = CommandTable(self.feature.commands())
        template = Activity(
            channel_id="msteams",
            service_url="https://smba.example.invalid/emea/",
            from_property=self.user,
            recipient=BOT,
            conversation=ConversationAccount(id="a:personal-manager", conversation_type="personal"),
            locale="sv-SE",
        )
        self.adapter = TestAdapter(self._route, template)
        return self

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()

    async def restart(self) -> None:
        """The service restarts: a new engine, storage, feature and adapter on the same database."""
        await self.close()
        await self.open()

    async def _guidance(self, turn: TurnContext, question: str, lang: str | None) -> None:
        self.asked.append(question)
        await turn.send_activity(f"{GUIDANCE_PREFIX} {question}")

    async def _route(self, turn: TurnContext) -> None:
        assert self.feature is not None
        text = (turn.activity.text or "").strip()
        value = turn.activity.value if isinstance(turn.activity.value, dict) else None
        lang = language_for(text, turn.activity.locale)
        if value is not None and not text:
            if await self.feature.on_submit(turn, value, lang):
                return
        elif await self.feature.on_message(turn, text, lang):
            return
        call = self._commands.match(text)
        if call is not None:
            await call.command.handler(turn, call)
            return
        await self._guidance(turn, text, lang)

    async def send(self, text: str | None = None, value: dict[str, Any] | None = None) -> list[Activity]:
        assert self.adapter is not None
        before = len(self.adapter.activity_buffer)
        await self.adapter.receive_activity(Activity(type="message", text=text, value=value))
        replies = self.adapter.activity_buffer[before:]
        del self.adapter.activity_buffer[before:]
        self.last = replies
        return replies

    async def say(self, text: str) -> str:
        return "\n".join(card_text(a) for a in await self.send(text))

    async def click(self, title: str, **inputs: Any) -> str:
        """Press the button titled `title` (case-insensitive prefix) on the latest cards."""
        action = find_action(self.last, title)
        replies = await self.send(value={**action["data"], **inputs})
        return "\n".join(card_text(a) for a in replies)

    def text(self) -> str:
        return "\n".join(card_text(a) for a in self.last)


def card_actions(activities: list[Activity]) -> list[dict[str, Any]]:
    """Every Action.Submit on the cards, in the ActionSets of the body and in the card's actions."""
    found: list[dict[str, Any]] = []
    for activity in activities:
        for attachment in activity.attachments or []:
            content = attachment.content if isinstance(attachment.content, dict) else {}
            for block in content.get("body", []):
                if block.get("type") == "ActionSet":
                    found.extend(block["actions"])
            found.extend(content.get("actions", []))
    return found


def find_action(activities: list[Activity], title: str) -> dict[str, Any]:
    actions = card_actions(activities)
    for action in actions:
        if action["title"].lower().lstrip("⬅▶↺⬇🗑 ").startswith(title.lower()):
            return action
    raise AssertionError(f"no button {title!r} among {[a['title'] for a in actions]}")


def current_question(activities: list[Activity]) -> str | None:
    """The id of the question the latest card asks, if any."""
    for action in reversed(card_actions(activities)):
        question = action.get("data", {}).get("question")
        if question:
            return str(question)
    return None


@pytest.fixture
async def chat(database_url: str, clock: ManualClock, catalog: WalkthroughCatalog) -> AsyncIterator[Chat]:
    c = await Chat(database_url, clock, catalog).open()
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
def later() -> timedelta:
    """Longer than a walkthrough waits before it lets go of free text."""
    return timedelta(hours=13)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    (tmp_path / "checklists").mkdir()
    return tmp_path
