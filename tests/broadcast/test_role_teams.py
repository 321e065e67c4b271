"""Issue 17, point 8: HR and managers as the members of a Teams team, read through the roster API of the
local Bot Connector, cached for ROLE_TEAMS_CACHE_SECONDS and checked again on a privileged use after that."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.app import create_app
from bot.clock import ManualClock
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import Chat, content_dir, settings_for

HR_TEAM = "19:hr-teamet@thread.tacv2"
NEW_HR = "00000000-0000-0000-0000-0000000000d7"  # named nowhere in roles.yaml


def roles_with_team() -> str:
    return f"""
hr:
  - id: 00000000-0000-0000-0000-0000000000a1
teams:
  hr: ["{HR_TEAM}"]
"""


async def test_a_member_of_the_hr_team_is_hr_until_removed_and_the_cache_runs_out(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> None:
    content = content_dir(tmp_path, **{"roles.yaml": roles_with_team()})
    app = create_app(settings_for(tmp_path, database_url, content=content, role_teams_cache_seconds=600), clock=clock)
    chat = Chat(await aiohttp_client(app), connector)
    connector.rosters[HR_TEAM] = [
        {"id": "29:d7", "name": "Nya HR", "aadObjectId": NEW_HR.upper()},  # Teams' casing may differ
        {"id": "29:x", "name": "Någon"},
    ]
    form = await chat.say(NEW_HR, "skriv lägesbild")
    assert "Skriv veckans lägesbild" in form
    assert connector.roster_reads == 1
    assert "skriv lägesbild" in await chat.say(NEW_HR, "hjälp")

    connector.rosters[HR_TEAM] = []  # removed from the team
    clock.advance(timedelta(seconds=599))
    assert "Skriv veckans lägesbild" in await chat.say(NEW_HR, "skriv lägesbild")  # still cached
    assert connector.roster_reads == 1
    clock.advance(timedelta(seconds=2))
    assert "bara HR" in await chat.say(NEW_HR, "skriv lägesbild")  # read again: no longer HR
    assert connector.roster_reads == 2
    # Questions do not read rosters.
    await chat.say(NEW_HR, "Får jag jobba hemifrån?")
    assert connector.roster_reads == 2


async def test_a_roster_that_cannot_be_read_gives_no_team_role(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> None:
    content = content_dir(tmp_path, **{"roles.yaml": roles_with_team()})
    app = create_app(settings_for(tmp_path, database_url, content=content), clock=clock)
    chat = Chat(await aiohttp_client(app), connector)
    # The bot is not in the team: 403 from the roster API.
    assert "bara HR" in await chat.say(NEW_HR, "skriv lägesbild")
    assert "Skriv veckans lägesbild" in await chat.say("00000000-0000-0000-0000-0000000000a1", "skriv lägesbild")


def test_a_team_id_that_is_not_one_is_refused_by_the_content_check(tmp_path: Path) -> None:
    import pytest

    from bot.broadcast.content import load_broadcast_content
    from bot.content_errors import ContentError

    content = content_dir(tmp_path, **{"roles.yaml": "teams:\n  hr: [hr-teamet]\n"})
    with pytest.raises(ContentError, match="teams"):
        load_broadcast_content(content)
