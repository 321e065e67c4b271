"""Answer cards go out as the stock MessageFactory message would, and botbuilder's copy of them is a real copy."""

from __future__ import annotations

import copy

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Attachment, ChannelAccount, ConversationAccount, ConversationReference, Entity

from bot.conversation.cards import answer_activity
from bot.transport.activity_codec import activity_to_dict


def card() -> object:
    return answer_activity(
        "Du får arbeta hemifrån.\nKälla: Beslut om hemarbete",
        "sv",
        ["Måste jag ha VPN?"],
        answered=True,
        entry_id="hemarbete",
        question="Får jag jobba hemma?",
    )


def test_a_card_reply_is_the_message_message_factory_would_build() -> None:
    activity = card()
    attachment = activity.attachments[0]  # type: ignore[attr-defined]
    stock = MessageFactory.attachment(Attachment(content_type=attachment.content_type, content=attachment.content))
    stock.summary = activity.summary  # type: ignore[attr-defined]
    assert activity_to_dict(activity) == activity_to_dict(stock)  # type: ignore[arg-type]


def test_botbuilders_copy_can_be_addressed_without_touching_the_original() -> None:
    original = card()
    original.entities = [Entity(type="clientInfo")]  # type: ignore[attr-defined]
    before = activity_to_dict(original)  # type: ignore[arg-type]
    sent = copy.deepcopy(original)
    reference = ConversationReference(
        channel_id="msteams",
        service_url="https://smba.example.invalid/emea/",
        conversation=ConversationAccount(id="a:1"),
        user=ChannelAccount(id="29:u"),
        bot=ChannelAccount(id="28:b"),
        activity_id="m1",
    )
    TurnContext.apply_conversation_reference(sent, reference)
    sent.entities[0].type = "mention"
    sent.attachments.append(Attachment(content_type="text/plain", content="x"))
    assert activity_to_dict(original) == before  # type: ignore[arg-type]
    assert activity_to_dict(sent)["conversation"] == {"id": "a:1"}
    assert sent.attachments[0].content is original.attachments[0].content  # the card itself is shared, unchanged
