"""Issue 17, point 12: a channel linked to a unit by a command typed in the channel (with an @mention),
stored, audited, listed and undoable; units.yaml keeps the units and may still pin channels."""

from __future__ import annotations

from pathlib import Path

from bot.app import create_app
from bot.broadcast.audit import audit_entries
from bot.clock import ManualClock
from bot.transport.local_connector import LocalConnector
from tests.broadcast.helpers import (
    AMBASSADOR_KSF,
    AMBASSADOR_KULTUR,
    EMPLOYEE_ID,
    HR_ID,
    KSF_CHANNEL,
    Chat,
    bot_added_to_team,
    content_dir,
    settings_for,
    text_of,
)

UNITS = """
units:
  - id: ksf-hr
    name: Kommunstyrelseförvaltningen, HR
    channels: ["19:exempel-ksf-hr-allmant@thread.tacv2"]
  - id: kultur-fritid
    name: Kultur- och fritidsförvaltningen
  - id: idrott-fritid
    name: Idrott och fritid
"""
NEW_CHANNEL = "19:idrott-allmant@thread.tacv2"


async def test_an_ambassador_links_a_channel_its_reminders_arrive_and_the_link_is_undone(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> None:
    content = content_dir(tmp_path, **{"units.yaml": UNITS})
    chat = Chat(
        await aiohttp_client(create_app(settings_for(tmp_path, database_url, content=content), clock=clock)), connector
    )
    await chat.post(bot_added_to_team(connector.url, NEW_CHANNEL))
    assert "inga kanaler" in await chat.say(AMBASSADOR_KULTUR, "påminnelse för idrott-fritid nu hygien")

    assert "Bara HR, chefer och enhetens ambassadörer" in await chat.in_channel(
        NEW_CHANNEL, EMPLOYEE_ID, "koppla kanalen till enhet idrott-fritid"
    )
    assert "Bara HR" in await chat.in_channel(NEW_CHANNEL, AMBASSADOR_KSF, "koppla kanalen till enhet idrott-fritid")
    assert "i kanalen" in await chat.say(AMBASSADOR_KULTUR, "koppla kanalen till enhet idrott-fritid")
    assert "units.yaml" in await chat.in_channel(KSF_CHANNEL, HR_ID, "koppla kanalen till enhet idrott-fritid")
    said = await chat.in_channel(NEW_CHANNEL, AMBASSADOR_KULTUR, "koppla kanalen till enhet idrott-fritid")
    assert "kopplad till Idrott och fritid" in said
    assert "koppla loss kanalen" in said

    listed = await chat.in_channel(NEW_CHANNEL, HR_ID, "kopplade kanaler")
    assert f"**Idrott och fritid** (idrott-fritid): {NEW_CHANNEL} – kopplad av" in listed
    assert "19:exempel-ksf-hr-allmant@thread.tacv2 – i units.yaml" in listed

    assert "1 kanal" in await chat.say(AMBASSADOR_KULTUR, "påminnelse för idrott-fritid nu hygien")
    await chat.deliver(clock)
    assert any("Tvätta händerna" in text_of(a) for a in connector.activities(NEW_CHANNEL))

    assert "inte längre kopplad till Idrott och fritid" in await chat.in_channel(
        NEW_CHANNEL, AMBASSADOR_KULTUR, "koppla loss kanalen"
    )
    assert "inte kopplad" in await chat.in_channel(NEW_CHANNEL, AMBASSADOR_KULTUR, "koppla loss kanalen")
    assert "inga kanaler" in await chat.say(AMBASSADOR_KULTUR, "påminnelse för idrott-fritid nu hygien")
    actions = [(e.action, e.subject, e.detail.get("unit")) for e in await audit_entries(chat.services.db, "channel:")]
    assert actions == [
        ("link", f"channel:{NEW_CHANNEL}", "idrott-fritid"),
        ("unlink", f"channel:{NEW_CHANNEL}", "idrott-fritid"),
    ]
