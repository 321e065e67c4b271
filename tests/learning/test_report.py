"""The content report and the weekly digest, through the real endpoint and the local Bot Connector."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from bot.app import DIGEST_JOB, create_app
from bot.broadcast.audit import audit_entries
from bot.clock import ManualClock
from bot.conversation.feedback import LOG_DELAY, FeedbackRepository
from bot.storage import Database
from bot.storage.tables import question_log
from bot.transport.local_connector import LocalConnector
from tests.broadcast.conftest import SUMMER_PAUSE
from tests.broadcast.helpers import EMPLOYEE_ID, Chat, content_dir, settings_for, text_of
from tests.learning.conftest import ChatFactory
from tests.learning.test_learning_loop import EQUIPMENT_OWNER, OWNER, cards

MONITOR = "Kan jag låna hem en bildskärm?"


def chart_of(card: dict[str, Any]) -> Image.Image:
    [image] = [b for b in card["body"] if b.get("type") == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(image["url"][len(prefix) :])))


async def test_the_report_counts_the_owners_entries_and_shows_the_weekly_chart(
    new_chat: ChatFactory, clock: ManualClock
) -> None:
    chat = await new_chat()
    clock.advance(timedelta(days=-8))
    await chat.post_text(EMPLOYEE_ID, MONITOR)
    clock.advance(timedelta(days=8))
    await chat.post_text(EMPLOYEE_ID, MONITOR)
    thumbs_up = {"action": "feedback", "helpful": True, "entry_id": "utrustning-hem", "question": MONITOR, "lang": "sv"}
    await chat.submit(EMPLOYEE_ID, thumbs_up)
    await chat.post_text(
        EMPLOYEE_ID, "vem betalar mitt bredband hemma"
    )  # declined; closest entry hemarbete-2020-teknik

    [card] = cards(await chat.post_text(OWNER, "innehållsrapport"))
    text = card["fallbackText"]
    assert "- utrustning-hem: 2 frågor, 100 % besvarade, 👍 1 👎 0" in text
    assert "- hemarbete-2020-teknik: 1 frågor, 0 % besvarade" in text
    assert "Aldrig frågade (" in text
    assert "Granskningsdatum passerat (0): inga" in text
    # The chart's figures in words: 8 days ago (a Sunday, ISO week 46) all answered, this week one of two.
    assert "v46 100 %, v47 –, v48 50 %" in text, text.split("\n")[1]
    image = chart_of(card)
    assert image.format == "PNG"
    assert image.size == (372, 132)
    assert EMPLOYEE_ID not in str(card)

    # An owner limited to equipment.yaml sees only those entries.
    limited = cards(await chat.post_text(EQUIPMENT_OWNER, "innehållsrapport"))[0]["fallbackText"]
    assert "utrustning-hem" in limited
    assert "hemarbete-2020-teknik" not in limited
    # Employees are refused.
    assert "innehållsägare" in await chat.say(EMPLOYEE_ID, "innehållsrapport")


async def test_the_digest_goes_to_each_owner_on_monday_and_can_be_turned_off(
    new_chat: ChatFactory, clock: ManualClock, connector: LocalConnector
) -> None:
    chat = await new_chat()
    await chat.say(OWNER, "hej")  # the owner's personal chat is known
    scheduler = chat.services.extras["broadcast"].scheduler
    clock.set(datetime(2026, 11, 30, 7, 5, tzinfo=UTC))  # Monday 08:05 in Stockholm
    runs = {r.job_id: r.outcome for r in await scheduler.run_due(clock.now())}
    assert runs[DIGEST_JOB] == "sent:1"  # the limited owner has no personal chat with the bot yet
    before = len(connector.received)
    await chat.deliver(clock)
    [digest] = [r.activity for r in connector.received[before:] if r.conversation_id.endswith("00d1")]
    assert "Veckans sammanfattning" in text_of(digest)
    assert chart_of(digest["attachments"][0]["content"]).format == "PNG"

    assert "avstängt" in await chat.say(OWNER, "innehållsrapport av")
    clock.set(datetime(2026, 12, 7, 7, 5, tzinfo=UTC))
    runs = {r.job_id: r.outcome for r in await scheduler.run_due(clock.now())}
    assert runs[DIGEST_JOB] == "sent:0"
    assert "every Monday" in await chat.say(OWNER, "content report on")
    assert ("digest_off", OWNER) in [(e.action, e.actor_aad) for e in await audit_entries(chat.services.db)]


async def test_the_digest_is_skipped_in_a_pause(
    aiohttp_client, tmp_path: Path, database_url: str, clock: ManualClock, connector: LocalConnector
) -> None:
    content = content_dir(tmp_path, **{"schedule.yaml": SUMMER_PAUSE})
    app = create_app(settings_for(tmp_path, database_url, content=content), clock=clock)
    chat = Chat(await aiohttp_client(app), connector)
    await chat.say(OWNER, "hej")
    clock.set(datetime(2027, 7, 5, 6, 5, tzinfo=UTC))  # a Monday in the summer pause, 08:05 in Stockholm
    runs = {r.job_id: r.outcome for r in await chat.services.extras["broadcast"].scheduler.run_due(clock.now())}
    assert runs[DIGEST_JOB].startswith("paused:")


async def test_answered_questions_are_counted_in_batches(database: Database, clock: ManualClock) -> None:
    async def rows() -> int:
        async with database.e.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(question_log)))

    repo = FeedbackRepository(database, clock)
    await repo.record_answered("utrustning-hem")
    assert await rows() == 0  # waiting in memory: a write per answer would cost a fifth of a turn
    clock.advance(LOG_DELAY)
    await repo.record_answered("utrustning-hem")
    assert await rows() == 2
    await repo.record_answered("utrustning-stol")
    await repo.record_unanswered("vem betalar mitt bredband hemma", None, 0.1, "sv")  # writes what waits with it
    assert await rows() == 4
