"""The return-to-office plan of 2021: before, during and after, with notes, "not relevant" and open items."""

from __future__ import annotations

from tests.dialogs.conftest import Chat, current_question


async def test_a_plan_with_notes_and_open_items(chat: Chat) -> None:
    first = await chat.say("återgång till kontoret")
    assert "tre steg (före, under, efter)" in first
    assert "planens exempel och våra tips, inga beslut" in first
    assert 'Källa: Protokoll Centrala samverkansgruppen (CESAM) 2021-06-15, bilaga 2 "Återgång till kontoret"' in first
    assert "Före – förbered och planera" in first
    await chat.say("Bygglovsenheten")
    assert "Vilka på enheten behöver vara tillbaka på kontoret först?" in chat.text()
    await chat.say("Registrator och reception")
    await chat.say("Handläggare, två dagar i veckan")
    await chat.click("Bestäm senare")  # risk groups
    await chat.say("Stanna hemma och ring chefen")
    await chat.click("Inte aktuellt")  # early and late meetings
    await chat.say("På APT och i Teams-kanalen")
    await chat.say("inte aktuellt")  # reception
    await chat.say("Varannan plats")
    await chat.say("Skyltar och handsprit")
    assert "Före – praktiska frågor" in chat.text()
    await chat.click("Vi själva")
    await chat.click("Ordnat")  # entrance
    await chat.click("Behöver ses över")  # layout
    await chat.click("Inte aktuellt")  # building
    await chat.say("klart")  # cleaning
    await chat.say("behöver ses över")  # lunch
    assert "Under – genomför" in chat.text()
    await chat.say("Vecka 36, ansvar: enhetschefen")
    await chat.click("Nej")  # no ambassador yet
    assert "Efter – lär och kommunicera" in chat.text()
    await chat.say("Stående punkt på APT")
    result = await chat.say("bestäm senare")
    assert "Plan för återgång: Bygglovsenheten" in result
    assert "Bedömning" not in result
    assert "## Öppna punkter" in result
    for item in (
        "- [ ] Riskgrupper: inte bestämt ännu",
        "- [ ] Se över kontorets utformning.",
        "- [ ] Planera luncherna så att det inte blir trängsel.",
        "- [ ] Fundera på vem på enheten som kan vara ambassadör (planen 2021 ville ha en i varje enhet).",
        "- [ ] Kommunikation med medarbetarna: inte bestämt ännu",
    ):
        assert item in result
    assert "Se över ingång" not in result  # the entrance was sorted
    for line in (
        "### Före – förbered och planera",
        "- **Först tillbaka:** Registrator och reception",
        "- **Tidiga och sena möten:** Inte aktuellt",
        "### Under – genomför",
        "- **Genomförande:** Vecka 36, ansvar: enhetschefen",
        "### Efter – lär och kommunicera",
        "- **Lärdomar:** Stående punkt på APT",
    ):
        assert line in result
    assert "Ta upp planen på APT" in result


async def test_premises_run_by_others_skip_the_building_questions(chat: Chat) -> None:
    await chat.say("återgång")
    for note in ("Kontaktcenter", *["inte aktuellt"] * 9):
        await chat.say(note)
    assert current_question(chat.last) == "premises"
    await chat.say("någon annan")
    assert current_question(chat.last) == "lunch"
    for answer in ("ordnat", "inte aktuellt", "ja", "inte aktuellt", "inte aktuellt"):
        await chat.say(answer)
    result = chat.text()
    assert "Stäm av ingång, korridorer och hissar" in result
    assert "Kontorets utformning" not in result


async def test_in_english(chat: Chat) -> None:
    first = await chat.say("return to the office")
    assert "Which unit or team is the plan for?" in first
    await chat.say("Permits")
    for _ in range(9):
        await chat.say("decide later")
    for answer in ("we are", "sorted", "sorted", "sorted", "sorted", "sorted", "not relevant", "yes", "not relevant"):
        await chat.say(answer)
    result = await chat.say("Weekly email")
    assert "Return plan: Permits" in result
    assert "## Open items" in result
    assert "- [ ] Back first: not decided yet" in result
    assert "- **Communication with staff:** Weekly email" in result
