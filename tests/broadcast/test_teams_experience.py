"""Issue 17 for HR and channels, through the app's endpoint with the local Bot Connector as Teams: the
conversation's language across card submits, cards updated in place, a stale "Publicera nu", the form's
validation, and teamDeleted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.broadcast.cards import ACTION_PREVIEW, ACTION_PUBLISH, ACTION_SCHEDULE
from bot.clock import ManualClock
from bot.storage.tables import conversation_refs
from tests.broadcast.helpers import (
    AMBASSADOR_KSF,
    BOT,
    HR_ID,
    KSF_CHANNEL,
    MANAGER_ID,
    TENANT,
    Chat,
    bot_added_to_team,
    channel_data,
    installation_update,
    personal,
    text_of,
)


def card(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    return attachment["content"]


def body_text(activity: dict[str, Any]) -> str:
    return "\n".join(b.get("text", "") for b in card(activity)["body"])


async def as_hr(chat: Chat, text: str | None = None, **extra: Any) -> list[dict[str, Any]]:
    """HR in their personal chat, with the Playground's en-US locale."""
    return await chat.post(personal(chat.connector.url, HR_ID, text, locale="en-US", **extra))


async def test_hr_in_swedish_with_an_en_us_locale_gets_swedish_all_the_way(chat: Chat, clock: ManualClock) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    assert "får nu veckans lägesbild" in await chat.in_channel(KSF_CHANNEL, MANAGER_ID, "prenumerera lägesbild")
    await chat.post(installation_update(chat.connector.url, HR_ID, "add"))
    (form,) = await as_hr(chat, "skriv lägesbild")
    assert "Skriv veckans lägesbild" in body_text(form)
    # The form's submit carries no text; without its "lang" the conversation's language still holds.
    submit = {"action": ACTION_PREVIEW, "mode": "ordinarie", "week": "49", "summary": "Lugnt läge."}
    intro, preview, steps = await as_hr(chat, None, value=submit)
    assert "Förhandsgranskning" in text_of(intro)
    assert "Lägesbild vecka 49" in body_text(preview)
    assert "Publicera nu" in [a["title"] for a in card(steps)["actions"]]
    assert all(len(a["title"]) <= 30 for a in card(steps)["actions"]), "Teams cuts long button titles"

    publish = next(a for a in card(steps)["actions"] if a["data"]["action"] == ACTION_PUBLISH)
    (said,) = await as_hr(chat, None, value=publish["data"], replyToId="steps-card")
    assert "skickas nu till 1 kanal." in text_of(said)
    (update,) = chat.connector.updated
    assert update.reply_to == "steps-card"
    assert "Publicerad" in body_text(update.activity)
    assert not card(update.activity)["actions"]  # nothing left to click
    await chat.deliver(clock)
    assert "Levererad till 1 av 1" in text_of(chat.connector.activities("a:personal-00a1")[-1])

    # The same (stale) button again: explained, nothing sent a second time, the card not touched again.
    (again,) = await as_hr(chat, None, value=publish["data"], replyToId="steps-card")
    assert "redan publicerad" in text_of(again)
    await chat.deliver(clock)
    posts = [a for a in chat.connector.activities(KSF_CHANNEL) if a.get("attachments")]
    assert len(posts) == 1
    assert len(chat.connector.updated) == 1


async def test_a_click_on_a_replaced_drafts_publish_button_sends_nothing(chat: Chat, clock: ManualClock) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    await chat.in_channel(KSF_CHANNEL, MANAGER_ID, "prenumerera lägesbild")
    first = await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": "49", "summary": "Första.", "lang": "sv"})
    await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": "49", "summary": "Andra.", "lang": "sv"})
    old = next(a for a in card(first[2])["actions"] if a["data"]["action"] == ACTION_PUBLISH)
    (said,) = await as_hr(chat, None, value=old["data"])
    assert "ersatts av ett nyare" in text_of(said)
    await chat.deliver(clock)
    assert not [a for a in chat.connector.activities(KSF_CHANNEL) if a.get("attachments")]


async def test_the_form_refuses_a_bad_week_and_mode_in_its_own_language(chat: Chat) -> None:
    bad = "Smittspridningen ökar igen i reg"
    (form,) = await as_hr(
        chat, None, value={"action": ACTION_PREVIEW, "week": bad, "summary": "x", "mode": "ordinarie", "lang": "sv"}
    )
    text = body_text(form)
    assert "Veckan ska vara ett veckonummer 1–53" in text
    inputs = {b["id"]: b for b in card(form)["body"] if "id" in b}
    assert inputs["week"]["value"] == bad  # kept, to be corrected
    assert inputs["summary"]["value"] == "x"
    assert await chat.feature.lagesbild.unsent() is None  # nothing saved, nothing to publish

    for week in ("0", "54"):
        (form,) = await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": week, "summary": "x", "lang": "sv"})
        assert "1–53" in body_text(form)
    (form,) = await as_hr(
        chat, None, value={"action": ACTION_PREVIEW, "week": "48", "summary": "x", "mode": "kanske", "lang": "en"}
    )
    assert "The mode must be" in body_text(form)
    (form,) = await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": "48", "summary": " ", "lang": "en"})
    assert "needs a summary" in body_text(form)
    (form,) = await as_hr(chat, "write situation report")
    inputs = {b["id"]: b for b in card(form)["body"] if "id" in b}
    assert inputs["week"]["isRequired"] is True
    assert inputs["summary"]["isRequired"] is True
    assert card(form)["actions"][0]["data"]["lang"] == "en"


async def test_team_deleted_marks_every_channel_of_the_team_gone(chat: Chat) -> None:
    team = "19:team-general@thread.tacv2"
    other = "19:team-other@thread.tacv2"
    await chat.post(bot_added_to_team(chat.connector.url, team, team_id=team))
    await chat.post(bot_added_to_team(chat.connector.url, other, team_id=team))
    await chat.in_channel(team, MANAGER_ID, "prenumerera lägesbild")
    # As Teams documents teamDeleted: a conversationUpdate with eventType in channelData and no members.
    await chat.post(
        {
            "type": "conversationUpdate",
            "id": uuid.uuid4().hex,
            "channelId": "msteams",
            "serviceUrl": chat.connector.url,
            "from": {"id": "29:admin", "aadObjectId": MANAGER_ID},
            "conversation": {"id": team, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
            "recipient": BOT,
            "channelData": {**channel_data(team, team), "eventType": "teamDeleted"},
        }
    )
    async with chat.services.db.e.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    conversation_refs.c.conversation_id,
                    conversation_refs.c.state,
                    conversation_refs.c.lagesbild_subscribed,
                )
            )
        ).all()
    mine = {r.conversation_id: (r.state, r.lagesbild_subscribed) for r in rows if r.conversation_id in (team, other)}
    assert mine == {team: ("gone", False), other: ("gone", False)}


# ---- 11. schedules that tell the truth ---------------------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def test_a_daily_reminder_names_the_first_real_send_after_a_pause_and_the_author_is_told_once(
    paused_chat: Chat, clock: ManualClock
) -> None:
    chat = paused_chat
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    clock.set(utc(2027, 6, 22, 10, 0))  # Tuesday; the yearly summer pause is 24 June – 16 August
    said = await chat.say(AMBASSADOR_KSF, "påminnelse varje dag 09:00 hygien")
    assert "varje dag kl 09:00" in said
    assert "måndag, tisdag" not in said
    assert "nästa onsdag 23 juni 2027 kl 09:00" in said  # the 23rd is before the pause
    clock.set(utc(2027, 6, 23, 10, 0))  # after the last send before the pause
    listed = await chat.say(AMBASSADOR_KSF, "mina påminnelser")
    assert "nästa tisdag 17 augusti 2027 kl 09:00" in listed
    assert "Sommaruppehåll" in listed

    for day in (24, 25, 26):  # three skipped sends, one message to the author
        clock.set(utc(2027, 6, day, 7, 0))
        outcomes = [r.outcome for r in await chat.feature.scheduler.run_due(clock.now())]
        assert any(o.startswith("paused") for o in outcomes)
        await chat.deliver(clock)
    told = [text_of(a) for a in chat.connector.activities("a:personal-00c1") if "skickades inte" in text_of(a)]
    assert len(told) == 1
    assert "Sommaruppehåll" in told[0]
    assert "Nästa utskick: tisdag 17 augusti 2027 kl 09:00" in told[0]
    assert not [a for a in chat.connector.activities(KSF_CHANNEL) if "Påminnelse" in text_of(a)]


async def test_scheduling_a_lagesbild_in_a_pause_says_why_it_goes_out_later(paused_chat: Chat) -> None:
    chat = paused_chat
    chat.feature.clock.set(utc(2027, 6, 22, 10, 0))  # type: ignore[attr-defined]  # Tuesday before the pause
    steps = (await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": "26", "summary": "x", "lang": "sv"}))[2]
    assert "Sommaruppehåll" in body_text(steps)
    schedule = next(a for a in card(steps)["actions"] if a["data"]["action"] == ACTION_SCHEDULE)
    (said,) = await as_hr(chat, None, value=schedule["data"])
    assert "går ut måndag 23 augusti 2027 kl 08:00" in text_of(said)
    assert "måndag 28 juni 2027 kl 08:00 ligger i uppehållet Sommaruppehåll" in text_of(said)


async def test_a_newly_scheduled_report_replaces_the_scheduled_one_and_only_it_goes_out(
    chat: Chat, clock: ManualClock
) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    await chat.in_channel(KSF_CHANNEL, MANAGER_ID, "prenumerera lägesbild")
    for summary in ("Gamla.", "Nya."):
        steps = (
            await as_hr(chat, None, value={"action": ACTION_PREVIEW, "week": "49", "summary": summary, "lang": "sv"})
        )[2]
        schedule = next(a for a in card(steps)["actions"] if a["data"]["action"] == ACTION_SCHEDULE)
        (said,) = await as_hr(chat, None, value=schedule["data"])
        assert "Schemalägger du en ny före dess går den nya ut i stället" in text_of(said)
    clock.set(utc(2026, 11, 30, 7, 0))
    await chat.feature.scheduler.run_due(clock.now())
    await chat.deliver(clock)
    posts = [body_text(a) for a in chat.connector.activities(KSF_CHANNEL) if a.get("attachments")]
    assert len(posts) == 1
    assert "Nya." in posts[0]
