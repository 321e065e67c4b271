"""Mentions and card clicks in channels, with activities shaped as Microsoft's Teams documentation shows them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity

from bot.clock import ManualClock
from bot.conversation.mentions import is_mentioned, strip_mentions
from tests.harness import BOT, BotHarness, bot_settings

CHANNEL = ConversationAccount(id="19:abc@thread.tacv2;messageid=1", conversation_type="channel")


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    h = await BotHarness.start(bot_settings(tmp_path), clock)
    try:
        yield h
    finally:
        await h.close()


def mention(text: str, mentioned: Any = None) -> Entity:
    mentioned = {"id": BOT.id, "name": BOT.name} if mentioned is None else mentioned
    return Entity().deserialize({"type": "mention", "text": text, "mentioned": mentioned})


def activity(text: str, *entities: Entity) -> Activity:
    return Activity(type="message", text=text, recipient=BOT, entities=list(entities))


@pytest.mark.parametrize(
    ("text", "entity_text"),
    [
        (f"<at>{BOT.name}</at> hjälp", f"<at>@{BOT.name}</at>"),  # the documented mismatch
        (f"<at>@{BOT.name}</at> hjälp", f"<at>{BOT.name}</at>"),
        (f"<at>{BOT.name}</at> hjälp", f"<at>{BOT.name}</at>"),
        ("<at>DISTANSSTÖD</at>  hjälp", ""),  # no entity text: the mentioned name
        ("<at>Ett annat namn</at> hjälp", "<at>Bot</at>"),  # nothing matches: by position
    ],
)
def test_the_bots_mention_is_stripped_by_its_id_whatever_the_text_form(text: str, entity_text: str) -> None:
    assert strip_mentions(activity(text, mention(entity_text))) == "hjälp"


def test_other_peoples_mentions_stay() -> None:
    anna = mention("<at>Anna</at>", {"id": "29:anna", "name": "Anna"})
    found = activity(f"<at>{BOT.name}</at> fråga <at>Anna</at>", mention(f"<at>{BOT.name}</at>"), anna)
    assert strip_mentions(found) == "fråga <at>Anna</at>"
    assert is_mentioned(found)
    assert not is_mentioned(activity("<at>Anna</at> hej", anna))


async def test_a_documented_channel_mention_is_answered_without_the_markup(harness: BotHarness) -> None:
    text = await harness.say(
        f"<at>{BOT.name}</at> hjälp", conversation=CHANNEL, entities=[mention(f"<at>@{BOT.name}</at>")]
    )
    assert "prenumerera" in text.lower() or "kommandon" in text.lower()


async def test_a_card_submit_in_a_channel_is_handled_without_a_mention(harness: BotHarness) -> None:
    replies = await harness.send(
        conversation=CHANNEL,
        value={"action": "feedback", "helpful": True, "entry_id": None, "question": "x", "lang": "sv"},
    )
    assert replies
    assert "Tack" in (replies[0].text or "")


async def test_a_reply_to_the_bots_own_post_in_a_channel_is_handled_without_a_mention(harness: BotHarness) -> None:
    (_answer,) = await harness.send(
        f"<at>{BOT.name}</at> Måste jag ha VPN?", conversation=CHANNEL, entities=[mention(f"<at>{BOT.name}</at>")]
    )
    posted = str(harness.adapter._next_id)  # the id the (test) connector gave that answer
    # An imBack from that card: the button's text, in the thread of the bot's post, with no mention.
    replies = await harness.send("hjälp", conversation=CHANNEL, reply_to_id=posted)
    assert replies
    # The same text replying to someone else's post is not for the bot.
    assert await harness.send("hjälp", conversation=CHANNEL, reply_to_id="someone-elses-post") == []


async def test_a_user_named_like_the_bot_is_not_the_bot(harness: BotHarness) -> None:
    impostor = mention(f"<at>{BOT.name}</at>", {"id": "29:someone", "name": BOT.name})
    assert await harness.send(f"<at>{BOT.name}</at> hjälp", conversation=CHANNEL, entities=[impostor]) == []


def test_entities_of_the_wrong_shape_are_skipped() -> None:
    odd: list[Any] = [None, 5, "x", {"type": "mention", "mentioned": ""}, {"type": 3}, mention("<at>", [BOT.id])]
    found = Activity(type="message", text="<at>x</at> hej", recipient=BOT, entities=odd)
    assert not is_mentioned(found)
    assert strip_mentions(found) == "<at>x</at> hej"
    assert not is_mentioned(Activity(type="message", text="hej", recipient=ChannelAccount(id=None), entities=odd))
