"""The remote-work checklist of 2020-03-17 as a manager walks it, with buttons and with typing."""

from __future__ import annotations

from tests.dialogs.conftest import Chat, current_question


async def test_suitable_role_with_buttons(chat: Chat) -> None:
    first = await chat.say("checklista hemarbete")
    assert "en fråga i taget" in first
    assert "gällde 17 mars – 1 april 2020" in first  # a checklist of an ended decision, said so
    assert "Källa: HR-direktörens checklista (fyra punkter) till beslutet om hemarbete" in first
    assert "Vilken roll eller medarbetare gäller bedömningen?" in first
    assert "Passar medarbetarens arbetsuppgifter att göra hemifrån?" in await chat.say("Handläggare bygglov")
    assert "allmänna handlingar eller tar emot besök" in await chat.click("Ja, de flesta")
    await chat.click("Nej")  # no public documents or visitors
    await chat.click("Nej")  # no confidentiality
    await chat.click("Ja, dator och VPN finns")
    await chat.click("Nej")  # no redistribution
    assert "Hur många och vilka behöver vara på plats" in chat.text()
    await chat.say("En per dag i receptionen")
    result = await chat.click("Ja")
    assert "Hemarbete: Handläggare bygglov" in result
    assert "Bedömning: Lämpligt för hemarbete" in result
    assert "Skäl" not in result
    assert "Bemanning på plats:** En per dag i receptionen" in result
    assert "viktigaste uppgift var den samhällsviktiga verksamheten" in result
    assert "inte detsamma som ett avtal om distansarbete" in result
    assert "Källa: HR-direktörens checklista" in result  # the result names its source too
    assert "Resultatet är sparat" in result
    assert len(chat.last) == 1  # the result card says it was saved: no "Klart!" message after it


async def test_confidential_tasks_stay_at_the_workplace(chat: Chat) -> None:
    await chat.say("checklista hemarbete")
    for answer in ("Socialsekreterare", "1", "1", "ja en del", "1", "1", "Två per dag", "ja"):
        await chat.say(answer)
    result = chat.text()
    assert "Bedömning: Delvis lämpligt för hemarbete" in result
    assert "sekretess får inte hanteras hemifrån och stannar på arbetsplatsen" in result
    assert "- [ ] Lägg sekretessuppgifterna på de dagar medarbetaren är på arbetsplatsen." in result


async def test_mostly_confidential_is_not_suitable_and_ends_there(chat: Chat) -> None:
    await chat.say("checklista hemarbete")
    for answer in ("Registrator", "ja", "nej"):
        await chat.say(answer)
    result = await chat.say("ja det mesta")
    assert "Bedömning: Inte lämpligt för hemarbete" in result
    assert "De flesta arbetsuppgifterna innehåller sekretess" in result
    assert "Tekniska hjälpmedel" not in result  # no further questions were asked


async def test_tasks_not_suitable_gives_the_result_at_once(chat: Chat) -> None:
    await chat.say("checklista hemarbete")
    await chat.say("inte aktuellt")
    result = await chat.say("nej")
    assert "Bedömning: Inte lämpligt för hemarbete" in result
    assert "Arbetsuppgifterna kan inte utföras hemifrån." in result
    assert "# Checklista hemarbete" in result  # no name given: the checklist's title


async def test_missing_vpn_becomes_an_action_item(chat: Chat) -> None:
    await chat.say("checklista hemarbete")
    for answer in ("Controller", "ja", "nej", "nej"):
        await chat.say(answer)
    assert current_question(chat.last) == "tools"
    await chat.say("dator finns men inte vpn")
    for answer in ("nej", "bestäm senare", "nej"):
        await chat.say(answer)
    result = chat.text()
    assert "- [ ] Beställ VPN-uppkoppling innan hemarbetet börjar." in result
    assert "- [ ] Bemanning på plats: inte bestämt ännu" in result
    assert "- [ ] Justera schemat så att tillräckligt många är på plats varje dag." in result
    assert "Bedömning: Delvis lämpligt för hemarbete" in result  # too few on site


async def test_in_english(chat: Chat) -> None:
    first = await chat.say("remote work checklist")
    assert "Which role or employee is this assessment for?" in first
    await chat.say("Case officer")
    for answer in ("yes most of them", "no", "no", "computer but no vpn", "not sure yet", "two a day", "yes"):
        await chat.say(answer)
    result = chat.text()
    assert "Working from home: Case officer" in result
    assert "Assessment: Suitable for working from home" in result
    assert "Order a VPN connection before home working starts." in result
    assert "is not the same as an agreement on remote work" in result
