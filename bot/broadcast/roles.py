"""Roles from content/roles.yaml: HR, managers and each unit's ambassadors, by Entra object id, and
HR and managers also as the members of a Teams team (read through the Bot Connector's roster API)."""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from botbuilder.core import BotAdapter, TurnContext

from bot.broadcast.content import BroadcastContent, Unit
from bot.clock import Clock, SystemClock

log = logging.getLogger(__name__)

HR = "hr"
MANAGER = "manager"
AMBASSADOR = "ambassador"
CONTENT_OWNER = "content_owner"


@dataclass(frozen=True)
class OwnerScope:
    """Which knowledge entries someone may teach: all (HR, an unlimited owner), or some files and topics."""

    files: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    everything: bool = False

    def covers(self, entry_file: str, entry_topic: str) -> bool:
        if self.everything:
            return True
        return entry_topic in self.topics or pathlib.PurePath(entry_file).name in self.files


class YamlRoleDirectory:
    """A RoleDirectory (bot.conversation.roles) built from validated content; everyone not listed is an employee.

    A team's members are cached for `team_cache` and read again on the first privileged use after
    that (`refresh`, called by the bot before a privileged command, help or card submit); a failed
    read keeps the members read before, so a Bot Connector hiccup does not take HR's rights away."""

    def __init__(
        self, content: BroadcastContent, *, clock: Clock | None = None, team_cache: timedelta = timedelta(minutes=10)
    ) -> None:
        self._roles: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}
        self._units: dict[str, set[str]] = {}
        self._all_units = content.units
        groups = (
            (HR, content.roles.hr),
            (MANAGER, content.roles.managers),
            (AMBASSADOR, content.roles.ambassadors),
            (CONTENT_OWNER, content.roles.content_owners),
        )
        for role, people in groups:
            for person in people:
                self._roles.setdefault(person.id, set()).add(role)
                if person.name:
                    self._names.setdefault(person.id, person.name)
        for ambassador in content.roles.ambassadors:
            self._units.setdefault(ambassador.id, set()).update(ambassador.units)
        self._owner_scopes: dict[str, OwnerScope] = {}
        for owner in content.roles.content_owners:
            unlimited = not owner.files and not owner.topics
            known = self._owner_scopes.get(owner.id, OwnerScope())
            self._owner_scopes[owner.id] = OwnerScope(
                known.files | set(owner.files), known.topics | set(owner.topics), known.everything or unlimited
            )
        self._team_roles = {HR: list(content.roles.teams.hr), MANAGER: list(content.roles.teams.managers)}
        self._clock = clock or SystemClock()
        self._team_cache = team_cache
        self._members: dict[str, tuple[datetime, frozenset[str]]] = {}  # team id -> (read at, aad ids)

    @property
    def teams(self) -> list[str]:
        return sorted({team for teams in self._team_roles.values() for team in teams})

    def roles_of(self, aad_object_id: str | None) -> set[str]:
        if not aad_object_id:
            return set()
        aad = aad_object_id.lower()
        found = set(self._roles.get(aad, ()))
        for role, teams in self._team_roles.items():
            if any(aad in self._members.get(team, (None, frozenset()))[1] for team in teams):
                found.add(role)
        return found

    def stale_teams(self) -> list[str]:
        now = self._clock.now()
        return [t for t in self.teams if t not in self._members or now - self._members[t][0] >= self._team_cache]

    async def refresh(self, turn: TurnContext) -> None:
        """Read the rosters of the role teams whose cached members are too old, through this turn's
        Bot Connector client (GET /v3/conversations/{team id}/members)."""
        stale = self.stale_teams()
        if not stale:
            return
        client = turn.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if client is None:
            return
        for team in stale:
            try:
                members = await client.conversations.get_conversation_members(team)
            except Exception as error:  # noqa: BLE001 - 403 (bot not in the team), network: keep what we had
                log.warning("team roster not read", extra={"team": team, "error": type(error).__name__})
                continue
            ids = frozenset(str(m.aad_object_id).lower() for m in members or [] if getattr(m, "aad_object_id", None))
            self._members[team] = (self._clock.now(), ids)
            log.info("team roster read", extra={"team": team, "members": len(ids)})

    def display_name(self, aad_object_id: str | None) -> str | None:
        return self._names.get(aad_object_id.lower()) if aad_object_id else None

    def ambassador_units(self, aad_object_id: str | None) -> list[Unit]:
        """The units this person is an ambassador for, in content order."""
        if not aad_object_id:
            return []
        mine = self._units.get(aad_object_id.lower(), set())
        return [unit for unit_id, unit in self._all_units.items() if unit_id in mine]

    def owner_scope(self, aad_object_id: str | None) -> OwnerScope | None:
        """The entries this person may teach the bot: HR all of them, a content owner theirs, others none."""
        roles = self.roles_of(aad_object_id)
        if HR in roles:
            return OwnerScope(everything=True)
        if CONTENT_OWNER in roles and aad_object_id:
            return self._owner_scopes.get(aad_object_id.lower())
        return None

    def owner_ids(self) -> list[str]:
        """Content owners by object id (for the weekly digest)."""
        return sorted(self._owner_scopes)

    def hr_ids(self) -> list[str]:
        """HR by object id: the ones named, and the members of HR teams as last read."""
        ids = {aad for aad, roles in self._roles.items() if HR in roles}
        for team in self._team_roles[HR]:
            ids |= self._members.get(team, (None, frozenset()))[1]
        return sorted(ids)
