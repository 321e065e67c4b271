"""The broadcast parts on a database and a local connector, without the HTTP app (delivery tests, bench)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity

from bot.broadcast import BroadcastFeature, build_broadcast
from bot.broadcast.audit import Actor
from bot.broadcast.conversations import Target
from bot.broadcast.outbox import Enqueued
from bot.clock import Clock
from bot.config import Settings
from bot.storage import Database
from bot.transport.channel import ChannelGateway
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import HR_ID, bot_added_to_team, content_dir, personal

Fault = Callable[[str, int], web.Response | None]  # (conversation id, attempt number for it) -> answer
FeatureFactory = Callable[..., Awaitable[BroadcastFeature]]  # (clock, **settings) -> a feature on the test database


@dataclass
class RequestLog:
    """Every request the connector saw, accepted or not, with its arrival time."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def all_times(self) -> list[float]:
        return [t for times in self.times.values() for t in times]


def install_faults(connector: LocalConnector, fault: Fault | None, log: RequestLog, clock: Clock | None = None) -> None:
    """Answer requests through `fault`; log each request (real monotonic time, or `clock` if given)."""

    def hook(cid: str, body: dict[str, Any]) -> web.Response | None:
        times = log.times[cid]
        times.append(clock.now().timestamp() if clock else time.monotonic())
        return fault(cid, len(times)) if fault else None

    connector.fault = hook


async def make_feature(tmp_path: Path, database: Database, clock: Clock, **settings: Any) -> BroadcastFeature:
    config = Settings(data_dir=tmp_path, content_dir=content_dir(tmp_path), database_url="", **settings)
    feature, _ = build_broadcast(config, database, clock, ChannelGateway(config))
    return feature


async def add_channels(feature: BroadcastFeature, service_url: str, count: int, prefix: str = "19:ch") -> list[str]:
    ids = [f"{prefix}-{i:04d}@thread.tacv2" for i in range(count)]
    for cid in ids:
        await feature.registry.record(Activity().deserialize(bot_added_to_team(service_url, cid)))
    return ids


async def add_personal_chat(feature: BroadcastFeature, service_url: str, aad: str = HR_ID) -> str:
    return await feature.registry.record(Activity().deserialize(personal(service_url, aad, "hej")))


async def broadcast(
    feature: BroadcastFeature, conversation_ids: list[str], text: str = "Hej!", report_to: str | None = None
) -> Enqueued:
    """Enqueue one message to the given conversations, as a publish would."""
    async with feature.db.e.begin() as conn:
        targets: list[Target] = []
        for cid in conversation_ids:
            target = await feature.registry.target(conn, cid)
            assert target is not None
            targets.append(target)
        author = await feature.registry.target(conn, report_to) if report_to else None
        enqueued = await feature.outbox.enqueue(
            conn,
            kind="test",
            subject="test",
            title="test",
            actor=Actor(HR_ID, "HR"),
            targets=targets,
            activity=MessageFactory.text(text),
            lang="sv",
            report_to=author,
        )
    feature.outbox.notify()
    return enqueued
