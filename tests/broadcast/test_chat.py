"""What HR, managers, ambassadors and employees see in Teams: the app over HTTP, the connector as Teams."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import create_app
from bot.broadcast.audit import audit_entries
from bot.broadcast.cards import ACTION_PREVIEW, ACTION_PUBLISH, ACTION_SCHEDULE
from bot.clock import ManualClock
from bot.storage.tables import conversation_refs
from tests.broadcast.helpers import (
    AMBASSADOR_KSF,
    AMBASSADOR_KULTUR,
    EMPLOYEE_ID,
    HR_ID,
    KSF_CHANNEL,
    KULTUR_CHANNELS,
    MANAGER_ID,
    Chat,
    bot_added_to_team,
    content_dir,
    installation_update,
    settings_for,
    text_of,
)

REPORT = """skriv lägesbild
läge: aktiverat
vecka: 48
sammanfattning: Smittspridningen ökar igen.
Fler arbetar hemifrån.
beslut: Distansarbete gäller till 31 januari.
vad händer framåt: Nytt beslut i KDLG den 14 december."""


def card(activity: dict) -> dict:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


async def subscribed_channel(chat: Chat, channel: str = KSF_CHANNEL) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, channel))
    assert "får nu veckans lägesbild" in await chat.in_channel(channel, MANAGER_ID, "prenumerera lägesbild")


async def test_hr_writes_previews_and_publishes_and_channels_get_the_same_card(chat: Chat, clock: ManualClock) -> None:
    await subscribed_channel(chat)
    await chat.post(installation_update(chat.connector.url, HR_ID, "add"))
    replies = await chat.post_text(HR_ID, REPORT)
    intro, preview, steps = replies
    assert "Förhandsgranskning" in text_of(intro)
    body = "\n".join(b.get("text", "") for b in card(preview)["body"])
    assert "Lägesbild vecka 48" in body
    assert "Aktiverat läge" in body
    assert "Smittspridningen ökar igen.\nFler arbetar hemifrån." in body
    # One language in the channel: the organisation's (DEFAULT_LANGUAGE), never "Beslut · Decisions".
    assert "\nBeslut\n" in body
    assert "\nVad händer framåt\n" in body
    assert "Decisions" not in body
    assert "From HR" not in body
    assert "Frånvaro" not in body  # an empty section is left out
    assert "måndag 30 november 2026 kl 08:00" in text_of(steps)
    assert [a["data"]["action"] for a in card(steps)["actions"]][:2] == [ACTION_PUBLISH, ACTION_SCHEDULE]

    assert "skickas nu till 1 kanal." in await chat.say(HR_ID, "publicera lägesbild")
    await chat.deliver(clock)
    _greeting, posted = chat.connector.activities(KSF_CHANNEL)
    assert card(posted) == card(preview)  # exactly what HR previewed
    proactive = [r for r in chat.connector.received if r.activity is posted]
    assert proactive[0].conversation_id == KSF_CHANNEL  # a new post in the channel, not in someone's thread
    report = chat.connector.activities("a:personal-00a1")[-1]
    assert "Levererad till 1 av 1" in text_of(report)

    # Publishing again, by command or by the preview's button, sends nothing twice.
    assert "inget utkast" in await chat.say(HR_ID, "publicera lägesbild")
    report_id = card(steps)["actions"][0]["data"]["report_id"]
    again = await chat.submit(HR_ID, {"action": ACTION_PUBLISH, "report_id": report_id})
    assert "redan publicerad" in text_of(again[0])
    latest = await chat.in_channel(KSF_CHANNEL, EMPLOYEE_ID, "senaste lägesbild")
    assert "Smittspridningen ökar igen." in latest


async def test_the_form_submit_previews_and_schedule_leaves_it_for_the_weekly_slot(
    chat: Chat, clock: ManualClock
) -> None:
    form = (await chat.post_text(HR_ID, "skriv lägesbild"))[0]
    inputs = {b["id"]: b for b in card(form)["body"] if "id" in b}
    assert inputs["mode"]["type"] == "Input.ChoiceSet"
    assert {"week", "summary", "section_beslut", "section_kontakt"} <= set(inputs)
    assert inputs["week"]["value"] == "49"  # the week of the next slot, Monday 30 November

    replies = await chat.submit(
        HR_ID,
        {"action": ACTION_PREVIEW, "mode": "ordinarie", "week": "v. 49", "summary": "Lugnt.", "section_kontakt": "HR"},
    )
    preview_body = "\n".join(b.get("text", "") for b in card(replies[1])["body"])
    assert "Lägesbild vecka 49" in preview_body
    assert "Ordinarie läge" in preview_body
    report_id = card(replies[2])["actions"][1]["data"]["report_id"]
    done = await chat.submit(HR_ID, {"action": ACTION_SCHEDULE, "report_id": report_id})
    assert "går ut måndag 30 november 2026 kl 08:00" in text_of(done[0])
    report = await chat.feature.lagesbild.get(report_id)
    assert report.state == "ready"
    assert report.for_slot == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


async def test_malformed_report_text_gets_an_example(chat: Chat) -> None:
    reply = await chat.say(HR_ID, "skriv lägesbild\nläge: kanske\nsammanfattning: x")
    assert "ordinarie" in reply
    assert "aktiverat" in reply
    assert "läge: ordinarie (eller aktiverat)" in reply
    assert "sammanfattning" in await chat.say(HR_ID, "skriv lägesbild\nvecka: 48")


async def test_only_hr_may_write_or_publish(chat: Chat) -> None:
    for aad in (EMPLOYEE_ID, MANAGER_ID, AMBASSADOR_KSF):
        assert "bara HR" in await chat.say(aad, REPORT)
        assert "bara HR" in await chat.say(aad, "publicera lägesbild")
    replies = await chat.submit(EMPLOYEE_ID, {"action": ACTION_PUBLISH, "report_id": 1})
    assert "bara HR" in text_of(replies[0])


async def test_employees_cannot_subscribe_a_channel(chat: Chat) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    assert "HR, chefer och ambassadörer" in await chat.in_channel(KSF_CHANNEL, EMPLOYEE_ID, "prenumerera lägesbild")
    assert "kanalen som ska få" in await chat.say(MANAGER_ID, "prenumerera lägesbild")  # not in a personal chat
    assert "now gets" in await chat.in_channel(KSF_CHANNEL, AMBASSADOR_KSF, "subscribe situation report")
    assert "redan" in await chat.in_channel(KSF_CHANNEL, MANAGER_ID, "prenumerera lägesbild")
    assert "inte längre" in await chat.in_channel(KSF_CHANNEL, MANAGER_ID, "avsluta lägesbild")


async def test_references_are_stored_on_install_and_marked_gone_on_removal(chat: Chat, clock: ManualClock) -> None:
    await subscribed_channel(chat)
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL, removed=True))
    async with chat.services.db.e.connect() as conn:
        row = (
            await conn.execute(select(conversation_refs).where(conversation_refs.c.conversation_id == KSF_CHANNEL))
        ).one()
    assert row.state == "gone"
    assert not row.lagesbild_subscribed
    before = len(chat.connector.activities(KSF_CHANNEL))
    await chat.say(HR_ID, REPORT)
    assert "till 0 kanaler" in await chat.say(HR_ID, "publicera lägesbild")
    await chat.deliver(clock)
    assert len(chat.connector.activities(KSF_CHANNEL)) == before  # nothing more goes there

    await chat.post(installation_update(chat.connector.url, HR_ID, "remove"))
    async with chat.services.db.e.connect() as conn:
        state = await conn.scalar(select(conversation_refs.c.state).where(conversation_refs.c.user_aad == HR_ID))
    assert state == "gone"


async def test_ambassador_sends_now_to_own_unit_only(chat: Chat, clock: ManualClock) -> None:
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    reply = await chat.say(AMBASSADOR_KSF, "påminnelse nu hygien")
    assert "skickas nu till 1 kanal i Kommunstyrelseförvaltningen, HR" in reply
    await chat.deliver(clock)
    posted = chat.connector.activities(KSF_CHANNEL)[-1]
    assert "Tvätta händerna" in posted["text"]
    assert "Wash your hands" not in posted["text"]  # one language in channels: the organisation's
    assert "Leveransrapport" in text_of(chat.connector.activities("a:personal-00c1")[-1])

    assert "bara skicka påminnelser dit" in await chat.say(AMBASSADOR_KSF, "påminnelse för kultur-fritid nu hygien")
    assert "bara ambassadörer" in await chat.say(EMPLOYEE_ID, "påminnelse nu hygien")
    assert "bara ambassadörer" in await chat.say(HR_ID, "påminnelse nu hygien")
    assert "flera enheter" in await chat.say(AMBASSADOR_KULTUR, "påminnelse nu hygien")
    actions = [e.action for e in await audit_entries(chat.services.db, "reminder:")]
    assert actions.count("send") == 1


async def test_ambassador_schedules_lists_and_cancels_and_hr_sees_all(chat: Chat) -> None:
    reply = await chat.say(AMBASSADOR_KSF, "påminnelse varje måndag 09:00 till 2026-12-31 pauser")
    assert "#1" in reply
    assert "varje måndag kl 09:00 till och med 2026-12-31" in reply
    assert "#2" in await chat.say(
        AMBASSADOR_KULTUR, "påminnelse för idrott-fritid 2026-12-01 09:00 Glöm inte julbordet!"
    )
    mine = await chat.say(AMBASSADOR_KSF, "mina påminnelser")
    assert "#1" in mine
    assert "#2" not in mine
    everyone = await chat.say(HR_ID, "mina påminnelser")
    assert "#1" in everyone
    assert "#2" in everyone
    assert "inte din" in await chat.say(AMBASSADOR_KSF, "avbryt påminnelse 2")
    assert "bara ambassadörer och HR" in await chat.say(EMPLOYEE_ID, "mina påminnelser")
    assert "borttagen" in await chat.say(HR_ID, "avbryt påminnelse 2")
    assert "is cancelled" in await chat.say(AMBASSADOR_KSF, "cancel reminder #1")
    assert "inga schemalagda" in await chat.say(HR_ID, "mina påminnelser")
    assert "ingen aktiv påminnelse #1" in await chat.say(AMBASSADOR_KSF, "avbryt påminnelse 1")


async def test_malformed_reminders_get_a_clear_example(chat: Chat) -> None:
    for text in ("påminnelse snart hygien", "påminnelse imorgon hygien", "påminnelse varje 9:00 hygien"):
        reply = await chat.say(AMBASSADOR_KSF, text)
        assert "påminnelse varje måndag 09:00 till 2026-12-31" in reply, text
    assert "har redan passerat" in await chat.say(AMBASSADOR_KSF, "påminnelse 2026-01-01 09:00 hygien")
    assert "Mallar: " in await chat.say(AMBASSADOR_KSF, "påminnelse nu mall okänd")
    assert "hygien" in await chat.say(AMBASSADOR_KSF, "påminnelsemallar")
    reply = await chat.say(AMBASSADOR_KSF, "reminder every monday 09:00 until 2026-12-31 pauser")
    assert "every Monday at 09:00 until 2026-12-31" in reply


async def test_a_once_reminder_inside_a_pause_is_refused(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, chat: Chat
) -> None:
    # The shipped schedule has no pauses; a yearly summer pause is the organisation's choice to opt in to.
    assert "uppehåll" not in await chat.say(AMBASSADOR_KSF, "påminnelse 2027-07-01 09:00 hygien")
    paused = content_dir(
        tmp_path / "paused",
        **{"schedule.yaml": 'pauses:\n  - {from: "06-24", to: "08-16", yearly: true, applies_to: [reminders]}\n'},
    )
    app = create_app(settings_for(tmp_path / "paused", database_url, content=paused), clock=clock)
    other = Chat(await aiohttp_client(app), chat.connector)
    assert "uppehåll" in await other.say(AMBASSADOR_KSF, "påminnelse 2027-07-02 09:00 hygien")


async def test_unit_channels_never_seen_are_reached_through_a_known_reference(chat: Chat, clock: ManualClock) -> None:
    """A unit's channels the bot has never seen are reached through a known channel's reference."""
    await chat.post(bot_added_to_team(chat.connector.url, KSF_CHANNEL))
    assert "2 kanaler" in await chat.say(AMBASSADOR_KULTUR, "påminnelse för kultur-fritid nu Fika kl 15!")
    await chat.deliver(clock)
    assert {cid for cid in KULTUR_CHANNELS if chat.connector.activities(cid)} == set(KULTUR_CHANNELS)
    assert all("Fika" not in text_of(a) for a in chat.connector.activities(KSF_CHANNEL))
