"""Proactive sends post a new message in the conversation, never a reply into an old thread."""

from __future__ import annotations

from botbuilder.core import MessageFactory
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bot.config import Settings
from bot.transport.channel import ChannelGateway
from bot.transport.local_connector import LocalConnector


async def test_proactive_post_starts_a_new_thread(connector: LocalConnector) -> None:
    gateway = ChannelGateway(Settings())
    reference = ConversationReference(
        activity_id="1690000000000",  # the "prenumerera lägesbild" message the reference came from
        bot=ChannelAccount(id="28:guidance-bot", name="Distansstöd"),
        channel_id="msteams",
        conversation=ConversationAccount(id="19:general@thread.tacv2", conversation_type="channel"),
        service_url=connector.url,
    )
    try:
        activity_id = await gateway.send_proactive(reference, MessageFactory.text("Veckans lägesbild"))
    finally:
        await gateway.close()
    (received,) = connector.received
    assert received.conversation_id == "19:general@thread.tacv2"
    assert received.reply_to is None
    assert received.activity["text"] == "Veckans lägesbild"
    assert received.activity["from"]["id"] == "28:guidance-bot"
    assert activity_id


def test_delivery_errors_read_retry_after_as_seconds_or_an_http_date() -> None:
    """The outbox's parser ignored HTTP dates; there is one parser now (http_sender.parse_retry_after)."""
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime
    from types import SimpleNamespace

    from bot.transport.channel import DeliveryError

    def throttled(value: str) -> Exception:
        error = Exception("throttled")
        error.response = SimpleNamespace(status_code=429, headers={"Retry-After": value})  # type: ignore[attr-defined]
        return error

    assert DeliveryError.from_exception(throttled("12")).retry_after == 12.0
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    waited = DeliveryError.from_exception(throttled(when)).retry_after
    assert waited is not None
    assert 30 < waited <= 40
    assert DeliveryError.from_exception(throttled("soon")).retry_after is None
