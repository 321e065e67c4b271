"""What an employee sees when talking to the bot in Teams, through botbuilder's TestAdapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, Entity
from sqlalchemy import select

from bot.clock import ManualClock
from bot.conversation.cards import card_actions
from bot.storage.tables import feedback, unanswered
from tests.harness import BOT, USER, BotHarness, bot_settings


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    h = await BotHarness.start(bot_settings(tmp_path), clock)
    try:
        yield h
    finally:
        await h.close()


def adaptive_card(activity) -> dict:
    (attachment,) = activity.attachments
    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    return attachment.content


async def test_greets_once_when_installed(harness: BotHarness) -> None:
    first = await harness.say(type="conversationUpdate", members_added=[BOT, USER])
    assert "hjälp" in first.lower()
    again = await harness.say(type="conversationUpdate", members_added=[BOT])
    assert again == ""


async def test_question_gets_sourced_answer_card(harness: BotHarness) -> None:
    (reply,) = await harness.send("får jag jobba hemifrån")
    card = adaptive_card(reply)
    text = "\n".join(b.get("text", "") for b in card["body"])
    assert "Källa" in text
    titles = [a["title"] for a in card_actions(card)]
    assert any("👍" in t for t in titles)
    assert any("👎" in t for t in titles)
    assert card["fallbackText"]


async def test_english_question_gets_english_answer(harness: BotHarness) -> None:
    text = await harness.say("Can I work from home?")
    assert "Source" in text
    assert "Källa" not in text


async def test_out_of_scope_question_is_not_guessed(harness: BotHarness) -> None:
    text = await harness.say("Hur lagar man köttbullar?")
    assert "HR" in text
    async with harness.services.db.e.connect() as conn:
        rows = (await conn.execute(select(unanswered.c.question))).all()
    assert [r.question for r in rows] == ["Hur lagar man köttbullar?"]


async def test_help_lists_commands_in_the_users_language(harness: BotHarness) -> None:
    sv = await harness.say("hjälp")
    assert "ämnen" in sv
    en = await harness.say("help")
    assert "topics" in en


async def test_topics_lists_topics(harness: BotHarness) -> None:
    text = await harness.say("ämnen")
    assert text.count("\n- ") >= 3


async def test_channel_message_without_mention_is_ignored(harness: BotHarness) -> None:
    channel = ConversationAccount(id="19:abc@thread.tacv2", conversation_type="channel")
    assert await harness.send("får jag jobba hemifrån", conversation=channel) == []


async def test_channel_mention_is_stripped_and_answered(harness: BotHarness) -> None:
    channel = ConversationAccount(id="19:abc@thread.tacv2", conversation_type="channel")
    mention = Entity().deserialize(BotHarness.mention_entity())
    text = await harness.say(f"<at>{BOT.name}</at> hjälp", conversation=channel, entities=[mention])
    assert "ämnen" in text


async def test_attachment_without_text_gets_friendly_reply(harness: BotHarness) -> None:
    text = await harness.say(None, attachments=[{"contentType": "image/png", "contentUrl": "https://x/y.png"}])
    assert "text" in text.lower()


async def test_thumbs_down_is_stored_with_entry_and_question(harness: BotHarness) -> None:
    (reply,) = await harness.send("Måste jag ha VPN hemma?")
    card = adaptive_card(reply)
    down = next(a for a in card_actions(card) if "👎" in a["title"])
    thanks = await harness.say(None, value=down["data"])
    assert "Tack" in thanks
    async with harness.services.db.e.connect() as conn:
        row = (await conn.execute(select(feedback))).one()
    assert row.helpful is False
    assert row.entry_id == down["data"]["entry_id"]
    assert row.question == "Måste jag ha VPN hemma?"


async def test_feedback_with_unknown_entry_is_kept_without_entry(harness: BotHarness) -> None:
    text = await harness.say(None, value={"action": "feedback", "helpful": True, "entry_id": "nope", "question": "x"})
    assert "Tack" in text


async def test_unknown_card_submit_gets_clear_answer(harness: BotHarness) -> None:
    text = await harness.say(None, value={"action": "self-destruct"})
    assert "förstod inte" in text


async def test_number_picks_a_suggested_question(harness: BotHarness) -> None:
    (reply,) = await harness.send("Vad är stegen när vi öppnar kontoret igen?")
    card = adaptive_card(reply)
    suggested = [a["data"]["question"] for a in card_actions(card) if a["data"].get("action") == "ask"]
    assert suggested, "an answer offers related questions"
    picked = await harness.say("1")
    direct = await harness.say(suggested[0])
    assert picked == direct


async def test_suggestion_button_asks_that_question(harness: BotHarness) -> None:
    (reply,) = await harness.send("Vad gör ambassadörerna?")
    action = next(a for a in card_actions(adaptive_card(reply)) if a["data"].get("action") == "ask")
    via_button = await harness.say(None, value=action["data"])
    assert via_button == await harness.say(action["data"]["question"])


async def test_ended_rule_is_presented_as_ended(harness: BotHarness) -> None:
    text = await harness.say("Hur länge gällde beslutet om hemarbete från mars 2020?")
    assert "Gällde" in text or "gällde" in text


async def test_state_survives_a_new_bot_instance(tmp_path: Path, clock: ManualClock) -> None:
    settings = bot_settings(tmp_path)
    first = await BotHarness.start(settings, clock)
    await first.say(type="conversationUpdate", members_added=[BOT, USER])
    await first.close()
    second = await BotHarness.start(settings, clock)
    try:
        assert await second.say(type="conversationUpdate", members_added=[BOT]) == ""
    finally:
        await second.close()


async def test_user_without_role_is_refused_role_command(harness: BotHarness) -> None:
    from bot.conversation.commands import Command

    async def never(turn, call) -> None:
        raise AssertionError("a refused command must not run")

    harness.services.bot.commands.add(
        Command(key="x-test", phrases={"sv": ("hemligt kommando",)}, description={"sv": "x"}, handler=never, role="hr")
    )
    text = await harness.say("hemligt kommando")
    assert "HR" in text
    assert "behörighet" in text


async def test_members_from_other_conversations_do_not_leak_state(harness: BotHarness) -> None:
    await harness.say("Vad är stegen när vi öppnar kontoret igen?")
    other = ChannelAccount(id="29:user-2", name="Bo", aad_object_id="x2")
    # Another user typing "1" has no suggestions of their own: it is treated as a question.
    text = await harness.say("1", from_property=other)
    assert "HR" in text


async def test_hello_and_thanks_get_a_human_reply(harness: BotHarness) -> None:
    assert "hjälp" in (await harness.say("Hej!")).lower()
    assert "help" in (await harness.say("hello")).lower()
    assert "Varsågod" in await harness.say("tack!")
    # A greeting followed by a question is still a question.
    assert "Källa" in await harness.say("hej, måste jag ha vpn hemma?")


def test_entry_offering_a_missing_walkthrough_refuses_to_start(tmp_path: Path) -> None:
    import shutil

    from bot.app import build_services
    from bot.config import PROJECT_ROOT
    from bot.content_errors import ContentError

    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    path = next(p for p in (content / "knowledge").glob("*.yaml") if "walkthrough:" in p.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("walkthrough: remote-work-checklist", "walkthrough: no-such-walk", 1).replace(
            "walkthrough: return-to-office", "walkthrough: no-such-walk", 1
        ),
        encoding="utf-8",
    )
    settings = bot_settings(tmp_path)
    settings = type(settings)(**{**settings.__dict__, "content_dir": content})
    with pytest.raises(ContentError, match="no-such-walk"):
        build_services(settings)


async def test_install_events_together_greet_once(harness: BotHarness) -> None:
    """Teams (and the Playground) send conversationUpdate and installationUpdate for one install."""
    first = await harness.say(type="conversationUpdate", members_added=[USER, BOT])
    second = await harness.say(type="installationUpdate", action="add", locale="en-US")
    assert (first + second).count("hjälp") + (first + second).count("help") == 1


@pytest.mark.parametrize("text", ["²", "٣", "1²", "⁴2"])
async def test_digits_that_are_not_numbers_get_an_answer(harness: BotHarness, text: str) -> None:
    """'²'.isdigit() is true, but int('²') raises: such text is a question like any other (found by the fuzzer)."""
    from bot.conversation.texts import t

    reply = await harness.say(text)
    assert reply
    assert t("error", "sv") not in reply
    assert t("error", "en") not in reply
