"""Issue 4: HR's weekly lägesbild and the ambassadors' reminders, with a durable outbox for delivery."""

from __future__ import annotations

from datetime import timedelta

from bot.broadcast.content import BroadcastContent, load_broadcast_content
from bot.broadcast.feature import BroadcastFeature
from bot.broadcast.roles import YamlRoleDirectory
from bot.clock import Clock
from bot.config import Settings
from bot.storage import Database
from bot.transport.channel import ChannelGateway


def build_broadcast(
    settings: Settings, db: Database, clock: Clock, gateway: ChannelGateway
) -> tuple[BroadcastFeature, YamlRoleDirectory]:
    """Validate the broadcast content (raises ContentError) and build the feature and role directory."""
    content = load_broadcast_content(settings.content_dir)
    roles = YamlRoleDirectory(content, clock=clock, team_cache=timedelta(seconds=settings.role_teams_cache_seconds))
    feature = BroadcastFeature(settings=settings, db=db, clock=clock, gateway=gateway, content=content, roles=roles)
    return feature, roles


__all__ = ["BroadcastContent", "BroadcastFeature", "YamlRoleDirectory", "build_broadcast"]
