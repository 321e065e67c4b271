"""Issue 17 through botbuilder's TestAdapter: tappable related questions, one language per conversation,
answer cards that update in place, and Teams' conversation events shaped as Teams documents them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy import select

from bot.clock import ManualClock
from bot.conversation.cards import card_actions, card_text
from bot.storage.tables import feedback
from tests.harness import BOT, USER, BotHarness, bot_settings


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    h = await BotHarness.start(bot_settings(tmp_path), clock)
    try:
        yield h
    finally:
        await h.close()


def card_of(activity: Activity) -> dict[str, Any]:
    (attachment,) = activity.attachments
    return attachment.content


def related(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in card_actions(card) if a.get("data", {}).get("action") == "ask"]


def walk(elements: list[Any]) -> list[dict[str, Any]]:
    found = []
    for element in elements:
        found.append(element)
        found += walk(element.get("items", []))
    return found


# ---- 1. related questions are numbered Action.Submit buttons in ActionSets --------------------


async def test_related_questions_are_numbered_submit_buttons_not_select_actions(harness: BotHarness) -> None:
    (reply,) = await harness.send("Får jag jobba hemifrån?")
    card = card_of(reply)
    assert not any("selectAction" in e for e in walk(card["body"])), "the Playground throws on selectAction"
    sets = [e for e in card["body"] if e["type"] == "ActionSet" and related({"body": [e]})]
    assert len(sets) == 3
    titles = [s["actions"][0]["title"] for s in sets]
    assert [t.split(".")[0] for t in titles] == ["1", "2", "3"]
    for action in (s["actions"][0] for s in sets):
        assert action["type"] == "Action.Submit"
        assert len(action["title"]) <= 48  # Teams and the Playground cut longer titles
        assert "msteams" not in action["data"]  # no messageBack


async def test_a_tap_on_a_related_question_brings_its_answer(harness: BotHarness) -> None:
    (reply,) = await harness.send("Får jag jobba hemifrån?")
    tapped = related(card_of(reply))[1]
    (answer,) = await harness.send(None, value=tapped["data"])
    text = card_text(answer)
    question = tapped["data"]["question"]
    assert text == card_text((await harness.send(question))[0])
    assert card_of(answer)["body"][0]["text"] == f"› {question}"  # the tapped question is shown above its answer


async def test_unanswered_question_lists_its_close_topics_once(harness: BotHarness) -> None:
    (reply,) = await harness.send("Får jag sjuklön om jag jobbar hemma?")
    card = card_of(reply)
    texts = [e.get("text", "") for e in walk(card["body"])]
    assert not any(t in ("Relaterade frågor", "Menade du något av det här?") for t in texts)
    suggestions = [a["data"]["question"] for a in related(card)]
    assert len(suggestions) == 3
    for q in suggestions:  # each once, as a button, and not again as a text line
        assert sum(q in t for t in texts) == 0
        assert sum(a.get("data", {}).get("question") == q for a in card_actions(card)) == 1


# ---- 2. one language per conversation ------------------------------------------------------------


async def test_a_click_keeps_the_conversations_language_whatever_the_locale(harness: BotHarness) -> None:
    (reply,) = await harness.send("Får jag jobba hemifrån?", locale="en-US")
    assert "Källa" in card_text(reply)
    tapped = related(card_of(reply))[0]
    (answer,) = await harness.send(None, value={**tapped["data"]}, locale="en-US")
    assert "Källa" in card_text(answer)
    # "2" carries no language either: the conversation's language holds.
    assert "Källa" in await harness.say("2", locale="en-US")
    # A submit the bot does not know is answered in the conversation's language, not the locale's.
    assert "förstod inte" in await harness.say(None, value={"action": "nope"}, locale="en-US")


async def test_the_language_is_remembered_per_user_and_conversation(harness: BotHarness) -> None:
    await harness.say("Can I work from home?", locale="sv-SE")
    other = ConversationAccount(id="a:personal-2", conversation_type="personal")
    # The same user in another conversation, and another user in this one, start from the locale.
    assert "förstod inte" in await harness.say(None, value={"action": "nope"}, conversation=other)
    someone = ChannelAccount(id="29:user-2", name="Bo", aad_object_id="x2")
    assert "förstod inte" in await harness.say(None, value={"action": "nope"}, from_property=someone)
    assert "did not understand" in await harness.say(None, value={"action": "nope"})


async def test_svenska_and_english_set_the_language(harness: BotHarness) -> None:
    assert "English" in await harness.say("english", locale="sv-SE")
    assert "did not understand" in await harness.say(None, value={"action": "nope"}, locale="sv-SE")
    assert "svenska" in await harness.say("svenska", locale="en-US")
    assert "förstod inte" in await harness.say(None, value={"action": "nope"}, locale="en-US")


async def test_the_greeting_is_in_the_default_language_with_one_line_in_the_other(
    tmp_path: Path, clock: ManualClock
) -> None:
    for default, first, other in (("sv", "Hej!", "In English"), ("en", "Hi!", "På svenska")):
        h = await BotHarness.start(bot_settings(tmp_path / default, default_language=default), clock)
        try:
            text = await h.say(type="installationUpdate", action="add", locale="en-US")
        finally:
            await h.close()
        lines = [line for line in text.split("\n") if line.strip()]
        assert lines[0].startswith(first)
        assert len(lines) == 2
        assert other in lines[1]


def test_default_language_is_configured() -> None:
    from bot.config import ConfigError, Settings

    assert Settings.from_env({}).default_language == "sv"
    assert Settings.from_env({"DEFAULT_LANGUAGE": "en"}).default_language == "en"
    with pytest.raises(ConfigError, match="DEFAULT_LANGUAGE"):
        Settings.from_env({"DEFAULT_LANGUAGE": "fi"})


# ---- 4. feedback buttons: the card updates in place, a second click changes nothing ------------


async def test_thumbs_up_updates_the_card_and_a_second_click_changes_nothing(harness: BotHarness) -> None:
    (reply,) = await harness.send("Måste jag ha VPN hemma?")
    up = next(a for a in card_actions(card_of(reply)) if "👍" in a["title"])
    assert await harness.send(None, value=up["data"], reply_to_id="card-1") == []
    (updated,) = harness.adapter.updated_activities
    assert updated.id == "card-1"
    body = "\n".join(e.get("text", "") for e in walk(card_of(updated)["body"]))
    assert "Tack för ditt svar" in body
    assert not [a for a in card_actions(card_of(updated)) if a["data"].get("action") == "feedback"]
    again = await harness.say(None, value=up["data"], reply_to_id="card-1")
    assert "redan svarat" in again
    down = next(a for a in card_actions(card_of(reply)) if "👎" in a["title"])
    assert "redan svarat" in await harness.say(None, value=down["data"], reply_to_id="card-1")
    async with harness.services.db.e.connect() as conn:
        rows = (await conn.execute(select(feedback.c.helpful))).all()
    assert [r.helpful for r in rows] == [True]
    assert len(harness.adapter.updated_activities) == 1


async def test_a_walkthrough_answer_click_updates_its_card_and_the_old_card_changes_nothing(
    harness: BotHarness,
) -> None:
    (first,) = await harness.send("checklista hemarbete")
    note = next(a for a in card_actions(card_of(first)) if a["data"].get("op") == "note")
    (second,) = await harness.send(None, value={**note["data"], "note": "Handläggare"}, reply_to_id="q1")
    choice = next(a for a in card_actions(card_of(second)) if a["data"].get("op") == "answer")
    (third,) = await harness.send(None, value=choice["data"], reply_to_id="q2")
    (updated,) = harness.adapter.updated_activities
    assert updated.id == "q2"
    assert f"✓ {choice['title']}" in card_text(updated)
    assert not card_actions(card_of(updated))
    # The old card's button again: explained, and the walkthrough stays where it is.
    (again,) = await harness.send(None, value=choice["data"], reply_to_id="q2")
    assert "tidigare fråga" in card_text(again)
    assert "Fråga 3" in card_text(again)
    assert card_text(again).split("\n")[-3:] == card_text(third).split("\n")[-3:]
    assert len(harness.adapter.updated_activities) == 1


# ---- 10. Teams' conversation events ----------------------------------------------------------------


async def test_a_meeting_members_added_without_conversation_type_greets_nobody(harness: BotHarness) -> None:
    # As Teams documents a participant joining a meeting chat: no conversationType, a meeting in channelData.
    meeting = ConversationAccount(id="19:meeting_abc@thread.v2", is_group=True)
    joined = ChannelAccount(id="29:someone", aad_object_id="00000000-0000-0000-0000-0000000000ff")
    text = await harness.say(
        type="conversationUpdate",
        conversation=meeting,
        members_added=[joined],
        channel_data={"tenant": {"id": "t1"}, "meeting": {"id": "MCMy"}},
    )
    assert text == ""
    # A personal chat without a type is still greeted.
    personal = ConversationAccount(id="a:1xyz")
    assert "hjälp" in await harness.say(type="conversationUpdate", conversation=personal, members_added=[USER])
    assert BOT.id  # the bot's own account is the recipient in both


# ---- 6. help by role ---------------------------------------------------------------------------


async def test_an_employees_help_lists_only_what_they_may_use(harness: BotHarness) -> None:
    employee = await harness.say("hjälp")
    for privileged in ("prenumerera lägesbild", "mina påminnelser", "avbryt påminnelse", "påminnelsemallar"):
        assert privileged not in employee
    assert "skriv lägesbild" not in employee
    assert "Chefer, HR och ambassadörer har fler kommandon" in employee
    assert "ämnen" in employee

    hr = ChannelAccount(id="29:hr", name="Hanna", aad_object_id="00000000-0000-0000-0000-0000000000a1")
    hr_help = await harness.say("hjälp", from_property=hr)
    for command in ("skriv lägesbild", "prenumerera lägesbild", "mina påminnelser", "avbryt påminnelse"):
        assert command in hr_help
    assert "fler kommandon" not in hr_help
    manager = ChannelAccount(id="29:mgr", name="Mats", aad_object_id="00000000-0000-0000-0000-0000000000b1")
    manager_help = await harness.say("hjälp", from_property=manager)
    assert "prenumerera lägesbild" in manager_help
    assert "mina påminnelser" not in manager_help


# ---- 9. trying it without Teams ---------------------------------------------------------------------


async def test_a_number_picks_only_from_the_same_conversation(harness: BotHarness) -> None:
    await harness.say("Får jag jobba hemifrån?")
    other = ConversationAccount(id="a:terminal-session-2", conversation_type="personal")
    # The same user in a new conversation (a new terminal session): "1" is not a suggestion there.
    assert "Källa" not in await harness.say("1", conversation=other)
    assert "Källa" in await harness.say("1")


def test_the_terminal_renders_bold_and_italic() -> None:
    from bot.terminal_chat import render

    assert render("skriv **hjälp** nu", ansi=True) == "skriv \033[1mhjälp\033[0m nu"
    assert render("skriv **hjälp** nu", ansi=False) == "skriv hjälp nu"
    assert render("_In English: type **english**._", ansi=False) == "In English: type english."
    assert render("ksf_hr och a_b", ansi=False) == "ksf_hr och a_b"


async def test_the_terminal_chat_starts_a_new_conversation_each_session(tmp_path: Path) -> None:
    from bot.terminal_chat import TerminalClient
    from bot.transport.local_connector import LocalConnector

    first, second = TerminalClient("http://x", LocalConnector()), TerminalClient("http://x", LocalConnector())
    assert first.conversation_id != second.conversation_id
