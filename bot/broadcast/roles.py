"""Roles from content/roles.yaml: HR, managers and each unit's ambassadors, by Entra object id."""

from __future__ import annotations

from bot.broadcast.content import BroadcastContent, Unit

HR = "hr"
MANAGER = "manager"
AMBASSADOR = "ambassador"


class YamlRoleDirectory:
    """A RoleDirectory (bot.conversation.roles) built from validated content; everyone not listed is an employee."""

    def __init__(self, content: BroadcastContent) -> None:
        self._roles: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}
        self._units: dict[str, set[str]] = {}
        self._all_units = content.units
        groups = ((HR, content.roles.hr), (MANAGER, content.roles.managers), (AMBASSADOR, content.roles.ambassadors))
        for role, people in groups:
            for person in people:
                self._roles.setdefault(person.id, set()).add(role)
                if person.name:
                    self._names.setdefault(person.id, person.name)
        for ambassador in content.roles.ambassadors:
            self._units.setdefault(ambassador.id, set()).update(ambassador.units)

    def roles_of(self, aad_object_id: str | None) -> set[str]:
        if not aad_object_id:
            return set()
        return set(self._roles.get(aad_object_id.lower(), ()))

    def display_name(self, aad_object_id: str | None) -> str | None:
        return self._names.get(aad_object_id.lower()) if aad_object_id else None

    def ambassador_units(self, aad_object_id: str | None) -> list[Unit]:
        """The units this person is an ambassador for, in content order."""
        if not aad_object_id:
            return []
        mine = self._units.get(aad_object_id.lower(), set())
        return [unit for unit_id, unit in self._all_units.items() if unit_id in mine]

    def hr_ids(self) -> list[str]:
        return sorted(aad for aad, roles in self._roles.items() if HR in roles)
