"""Who may do what: a directory of roles by Entra object id; everyone else is an employee."""

from __future__ import annotations

from typing import Protocol

from botbuilder.core import TurnContext


class RoleDirectory(Protocol):
    def roles_of(self, aad_object_id: str | None) -> set[str]:
        """Role names ("hr", "manager", "ambassador") the user has; empty for an employee."""
        ...

    async def refresh(self, turn: TurnContext) -> None:
        """Bring roles held through a Teams team up to date before a privileged use."""
        ...


class NoRoles:
    """Everyone is an employee (used when no roles file is configured)."""

    def roles_of(self, aad_object_id: str | None) -> set[str]:
        return set()

    async def refresh(self, turn: TurnContext) -> None:
        return None
