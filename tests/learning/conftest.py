"""Fixtures for the learning loop: the whole app over HTTP, as many instances as a test wants, one database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import PROJECT_ROOT
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import Chat, settings_for

ChatFactory = Callable[[], Awaitable[Chat]]


@pytest.fixture
def new_chat(
    database_url: str, aiohttp_client, tmp_path: Path, clock: ManualClock, connector: LocalConnector
) -> ChatFactory:
    """Starts another bot instance (a replica: its own app and knowledge base) on the same database."""

    async def make() -> Chat:
        app = create_app(settings_for(tmp_path, database_url), clock=clock)
        return Chat(await aiohttp_client(app), connector)

    return make


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(PROJECT_ROOT / "content")
