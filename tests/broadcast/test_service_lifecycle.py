"""The broadcast background (scheduler and delivery worker) lives and dies with the app, and loses nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import inspect

from bot.app import SERVICES, create_app
from bot.broadcast import BroadcastFeature
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import settings_for
from tests.broadcast.rig import add_channels, broadcast


async def start(tmp_path: Path, database_url: str, background: bool) -> tuple[TestClient, BroadcastFeature]:
    # 20 requests a second: slow enough to close the service in the middle of a delivery.
    settings = settings_for(tmp_path, database_url, broadcast_background=background, teams_limits_overall="20/1")
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client, client.app[SERVICES].extras["broadcast"]


async def test_a_delivery_interrupted_by_closing_the_service_resumes_in_a_new_instance(
    tmp_path: Path, database_url: str, connector: LocalConnector
) -> None:
    client, feature = await start(tmp_path, database_url, background=True)
    channels = await add_channels(feature, connector.url, 40)
    await broadcast(feature, channels)  # the running worker is woken, no drain call
    await connector.wait_for_count(8, within=20)
    await client.close()  # a graceful stop: sends in flight finish, the other leases are given back
    first_instance = len(connector.received)
    assert first_instance < len(channels)

    client, feature = await start(tmp_path, database_url, background=False)
    try:
        await feature.new_worker().drain()
    finally:
        await client.close()
    assert Counter(r.conversation_id for r in connector.received) == Counter(dict.fromkeys(channels, 1))


async def test_the_scheduler_runs_with_the_service_and_keeps_nothing_in_the_database(
    tmp_path: Path, database_url: str
) -> None:
    client, feature = await start(tmp_path, database_url, background=True)
    try:
        assert feature.scheduler.aps is not None
        assert feature.scheduler.aps.running
        assert feature.scheduler.aps.get_job("bc:lagesbild") is not None

        def tables(sync_conn) -> list[str]:  # type: ignore[no-untyped-def]
            return inspect(sync_conn).get_table_names()

        async with feature.db.e.connect() as conn:
            assert "apscheduler_jobs" not in await conn.run_sync(tables)  # the job store is this replica's, in memory
    finally:
        await client.close()
    assert feature.scheduler.aps is None
