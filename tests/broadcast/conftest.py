"""Fixtures for the broadcast tests: the whole app over HTTP on each database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.broadcast import BroadcastFeature
from bot.clock import Clock, ManualClock
from bot.storage import Database
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import Chat, content_dir, settings_for
from tests.broadcast.rig import FeatureFactory, make_feature


@pytest.fixture
async def chat(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> AsyncIterator[Chat]:
    """The app (no background workers) with the real content, replies going to the local connector."""
    app = create_app(settings_for(tmp_path, database_url), clock=clock)
    client = await aiohttp_client(app)
    return Chat(client, connector)


# The shipped schedule has no pauses (the content audit: the sources kept the lägesbild going in summer);
# an organisation that opts into a yearly summer pause writes this.
SUMMER_PAUSE = """lagesbild: {weekday: monday, time: "08:00"}
hr_reminder: {days_before: 1, time: "10:00"}
pauses:
  - {from: "06-24", to: "08-16", yearly: true, reason: Sommaruppehåll}
"""


@pytest.fixture
async def paused_chat(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> AsyncIterator[Chat]:
    """As `chat`, with a yearly summer pause (24 June – 16 August) in the schedule."""
    content = content_dir(tmp_path, **{"schedule.yaml": SUMMER_PAUSE})
    app = create_app(settings_for(tmp_path, database_url, content=content), clock=clock)
    client = await aiohttp_client(app)
    return Chat(client, connector)


@pytest.fixture
async def new_feature(tmp_path: Path, database: Database) -> AsyncIterator[FeatureFactory]:
    """Builds broadcast features (replicas) on the test database; closes their HTTP sessions afterwards."""
    made: list[BroadcastFeature] = []

    async def make(clock: Clock, **settings: Any) -> BroadcastFeature:
        feature = await make_feature(tmp_path, database, clock, **settings)
        made.append(feature)
        return feature

    yield make
    for feature in made:
        await feature.gateway.close()
