"""Fixtures for the broadcast tests: the whole app over HTTP on each database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import create_app
from bot.clock import ManualClock
from bot.local_connector import LocalConnector
from tests.broadcast.helpers import Chat, settings_for


@pytest.fixture
async def chat(aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector) -> AsyncIterator[Chat]:
    """The app (no background workers) with the real content, replies going to the local connector."""
    app = create_app(settings_for(tmp_path, database_url), clock=clock)
    client = await aiohttp_client(app)
    return Chat(client, connector)
