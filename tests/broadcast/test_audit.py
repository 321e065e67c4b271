"""Every privileged action and every refusal of one is in the audit log, and HR can read it in Teams."""

from __future__ import annotations

from bot.broadcast.audit import audit_entries
from bot.broadcast.cards import ACTION_PUBLISH
from tests.broadcast.helpers import (
    AMBASSADOR_KSF,
    AMBASSADOR_KULTUR,
    EMPLOYEE_ID,
    HR_ID,
    KSF_CHANNEL,
    Chat,
    bot_added_to_team,
)


async def refusals(chat: Chat) -> list[tuple[str | None, str, str]]:
    entries = await audit_entries(chat.services.db)
    return [(e.actor_aad, e.action, e.subject) for e in entries if e.detail.get("outcome") == "refused"]


async def test_a_refused_card_submit_is_audited(chat: Chat) -> None:
    await chat.submit(EMPLOYEE_ID, {"action": ACTION_PUBLISH, "report_id": 1})
    assert await refusals(chat) == [(EMPLOYEE_ID, "submit", ACTION_PUBLISH)]


async def test_a_refused_cross_unit_reminder_is_audited(chat: Chat) -> None:
    reply = await chat.say(AMBASSADOR_KSF, "påminnelse för kultur-fritid nu Tvätta händerna")
    assert "bara skicka påminnelser dit" in reply
    assert await refusals(chat) == [(AMBASSADOR_KSF, "reminder", "unit:kultur-fritid")]


async def test_a_refused_cancel_is_audited(chat: Chat) -> None:
    assert "#1" in await chat.say(AMBASSADOR_KSF, "påminnelse imorgon 09:00 Tvätta händerna")
    assert "inte din" in await chat.say(AMBASSADOR_KULTUR, "avbryt påminnelse 1")
    assert "får bara" in await chat.say(EMPLOYEE_ID, "avbryt påminnelse 1")
    assert await refusals(chat) == [
        (AMBASSADOR_KULTUR, "cancel", "reminder:1"),
        (EMPLOYEE_ID, "cancel", "reminder:1"),
    ]


async def test_a_refused_subscribe_is_audited(chat: Chat) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    assert "Be någon av dem" in await chat.in_channel(KSF_CHANNEL, EMPLOYEE_ID, "prenumerera lägesbild")
    assert await refusals(chat) == [(EMPLOYEE_ID, "subscribe", f"conversation:{KSF_CHANNEL}")]


async def test_a_command_refused_for_its_role_is_audited(chat: Chat) -> None:
    assert "får bara HR" in await chat.say(EMPLOYEE_ID, "publicera lägesbild")
    assert await refusals(chat) == [(EMPLOYEE_ID, "command", "lagesbild_publish")]


async def test_hr_reads_the_latest_entries_and_others_are_refused_and_audited(chat: Chat) -> None:
    await chat.say(EMPLOYEE_ID, "publicera lägesbild")  # refused: the first entry
    log = await chat.say(HR_ID, "granskningslogg")
    assert "Granskningslogg" in log
    assert EMPLOYEE_ID in log
    assert "nekad" in log
    english = await chat.say(HR_ID, "audit log")
    assert "Audit log" in english
    assert "refused" in english
    assert "får bara HR" in await chat.say(AMBASSADOR_KSF, "granskningslogg")
    assert (AMBASSADOR_KSF, "command", "audit_log") in await refusals(chat)
    actions = [(e.actor_aad, e.action) for e in await audit_entries(chat.services.db)]
    assert (HR_ID, "audit_read") in actions  # reading the log is itself in it
