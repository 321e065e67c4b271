"""Finished checklists are kept per manager, shown again, exported as Markdown and deleted."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from botbuilder.schema import ChannelAccount
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.storage.tables import kv_store, walkthrough_results
from dialogs.definitions import WalkthroughCatalog
from tests.dialogs.conftest import Chat, card_actions

OTHER = ChannelAccount(id="29:manager-2", name="Annan chef", aad_object_id="00000000-0000-0000-0000-0000000000c2")


async def finish_remote_work(chat: Chat, subject: str) -> str:
    await chat.say("checklista hemarbete")
    await chat.say(subject)
    return await chat.say("nej")  # tasks not suitable: the result at once


async def finish_return_plan(chat: Chat, unit: str) -> str:
    await chat.say("återgång")
    await chat.say(unit)
    for _ in range(9):
        await chat.say("inte aktuellt")
    await chat.say("vi själva")
    for _ in range(5):
        await chat.say("ordnat")
    for answer in ("inte aktuellt", "ja", "inte aktuellt"):
        await chat.say(answer)
    return await chat.say("inte aktuellt")


@pytest.fixture
async def other(chat: Chat, clock: ManualClock, catalog: WalkthroughCatalog) -> AsyncIterator[Chat]:
    c = await Chat(chat.database_url, clock, catalog, user=OTHER).open()
    try:
        yield c
    finally:
        await c.close()


async def test_list_show_export_and_delete(chat: Chat) -> None:
    assert "Skriv **checklista hemarbete** / **återgång**" in await chat.say("mina checklistor")
    await finish_remote_work(chat, "Handläggare bygglov")
    await finish_return_plan(chat, "Bygglovsenheten")
    listing = await chat.say("mina checklistor")
    assert "1. Hemarbete: Handläggare bygglov (2026-11-23)" in listing
    assert "2. Plan för återgång: Bygglovsenheten (2026-11-23)" in listing

    shown = await chat.say("visa checklista 2")
    assert "# Plan för återgång: Bygglovsenheten" in shown

    (exported,) = await chat.send("exportera checklista 1")
    (attachment,) = exported.attachments
    assert attachment.content_type == "text/markdown"
    assert attachment.name == "remote-work-checklist-2026-11-23.md"
    header, data = attachment.content_url.split(",", 1)
    assert header == "data:text/markdown;charset=utf-8;base64"
    markdown = base64.b64decode(data).decode("utf-8")
    assert markdown.startswith("# Hemarbete: Handläggare bygglov\n")
    assert "**Bedömning: Inte lämpligt för hemarbete**" in markdown
    assert "```markdown\n" + markdown in exported.text  # the same text to copy

    assert "Raderat: **Hemarbete: Handläggare bygglov**" in await chat.say("radera checklista 1")
    listing = await chat.say("mina checklistor")
    assert "1. Plan för återgång: Bygglovsenheten" in listing
    assert "Handläggare" not in listing
    assert "hittar ingen checklista" in await chat.say("visa checklista 7")


async def test_buttons_on_the_result_and_the_list(chat: Chat) -> None:
    await finish_remote_work(chat, "Controller")
    exported = await chat.click("Exportera")
    assert "```markdown\n# Hemarbete: Controller" in exported
    await chat.say("mina checklistor")
    assert [a["title"] for a in card_actions(chat.last)] == ["Visa", "⬇ Exportera (Markdown)", "🗑 Radera"]
    assert "# Hemarbete: Controller" in await chat.click("Visa")
    assert "Raderat" in await chat.click("Radera")
    assert "You have no saved checklists" in await chat.say("my checklists")


async def test_results_are_kept_after_a_restart(chat: Chat) -> None:
    await finish_remote_work(chat, "Controller")
    await chat.restart()
    assert "1. Hemarbete: Controller" in await chat.say("mina checklistor")


async def test_another_manager_neither_sees_nor_deletes_my_results(chat: Chat, other: Chat) -> None:
    await finish_remote_work(chat, "Controller")
    assert "inga sparade checklistor" in await other.say("mina checklistor")
    await chat.say("mina checklistor")
    my_delete = next(a for a in card_actions(chat.last) if a["data"]["op"] == "delete")
    await other.send(value=my_delete["data"])  # a forged click with my result's id
    assert "hittar ingen checklista" in other.text()
    assert "1. Hemarbete: Controller" in await chat.say("mina checklistor")


async def progress_rows(chat: Chat) -> int:
    assert chat.db is not None
    async with chat.db.e.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).where(kv_store.c.key.like("msteams/conversations/%/users/%")))
        )


async def test_progress_is_dropped_when_a_walkthrough_ends(chat: Chat) -> None:
    await chat.say("checklista hemarbete")
    await chat.say("Controller")
    assert await progress_rows(chat) == 1
    await chat.say("avbryt")
    assert await progress_rows(chat) == 0
    await finish_remote_work(chat, "Controller")
    assert await progress_rows(chat) == 0


async def test_only_what_the_result_needs_is_stored(chat: Chat) -> None:
    await finish_remote_work(chat, "Controller")
    assert chat.db is not None
    async with chat.db.e.connect() as conn:
        owner, data = (await conn.execute(select(walkthrough_results.c.owner, walkthrough_results.c.data))).one()
        count = await conn.scalar(select(func.count()).select_from(walkthrough_results))
    assert count == 1
    assert "29:manager-1" not in owner
    assert "Chef" not in data
    assert "Controller" in data
