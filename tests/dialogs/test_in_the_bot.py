"""The walkthroughs inside the bot as production wires it (build_services, GuidanceBot, the real guidance)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_services
from bot.clock import ManualClock
from bot.config import PROJECT_ROOT
from bot.content_errors import ContentError
from bot.conversation.cards import card_text
from tests.dialogs.conftest import current_question, find_action
from tests.harness import BotHarness, bot_settings


@pytest.fixture
async def harness(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[BotHarness]:
    h = await BotHarness.start(bot_settings(tmp_path, database_url), clock)
    try:
        yield h
    finally:
        await h.close()


async def test_started_by_command_with_a_question_answered_on_the_way(harness: BotHarness) -> None:
    replies = await harness.send("Checklista hemarbete")
    assert current_question(replies) == "subject"
    assert current_question(await harness.send("Handläggare")) == "tasks"
    help_text = await harness.say("hjälp")  # the walkthrough's help, not the bot's command list
    assert "hanterar allmänna handlingar" in help_text
    replies = await harness.send("Vad gäller för VPN när jag arbetar hemifrån?")
    assert len(replies) == 2  # the guidance's answer card, then the question again
    assert "Tillbaka till frågan:" in card_text(replies[1])
    assert current_question(replies) == "tasks"
    result = await harness.say("nej")
    assert "Bedömning: Inte lämpligt för hemarbete" in result


async def test_an_answer_of_the_guidance_offers_the_walkthrough(harness: BotHarness) -> None:
    replies = await harness.send("Vad innehåller planen för återgång till kontoret?")
    offer = find_action(replies, "Gå igenom")
    assert offer["data"] == {"action": "walkthrough", "op": "start", "lang": "sv", "walkthrough": "return-to-office"}
    started = await harness.send(value=offer["data"])
    assert current_question(started) == "unit"


async def test_help_lists_the_walkthrough_commands(harness: BotHarness) -> None:
    text = await harness.say("kommandon")
    assert "**checklista hemarbete**" in text
    assert "**återgång**" in text
    assert "**mina checklistor**" in text


def test_a_broken_checklist_stops_the_service_from_starting(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    path = content / "checklists" / "remote-work-checklist.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("next: end", "next: slutet", 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build_services(replace(bot_settings(tmp_path), content_dir=content))
    assert str(caught.value) == (
        "checklists/remote-work-checklist.yaml: entry 'tasks': field 'choices[2].next': "
        "points to a question 'slutet' that does not exist"
    )


async def test_a_suggested_question_button_is_a_question_even_on_a_note_question(harness: BotHarness) -> None:
    await harness.send("återgång")
    await harness.send("Enhet A")
    replies = await harness.send(value={"action": "ask", "question": "Distansavtal"})
    assert len(replies) == 2  # answered by the guidance, not saved as the note
    assert current_question(replies) == "first_back"
    assert "Fråga 2" in card_text(replies[1])
