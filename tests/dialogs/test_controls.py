"""Cancel, back, help, wrong answers, questions on the way, pausing, and coming back later."""

from __future__ import annotations

from datetime import timedelta

from dialogs.definitions import WalkthroughCatalog
from tests.dialogs.conftest import GUIDANCE_PREFIX, Chat, current_question


async def start_remote_work(chat: Chat, *answers: str) -> None:
    await chat.say("checklista hemarbete")
    for answer in answers:
        await chat.say(answer)


async def test_cancel_ends_at_any_step_and_keeps_nothing(chat: Chat) -> None:
    await start_remote_work(chat, "Anna Andersson", "ja")
    reply = await chat.say("Avbryt!")
    assert "avbröt **Checklista hemarbete**" in reply
    assert "Inget av svaren sparades" in reply
    assert "inga sparade checklistor" in await chat.say("mina checklistor")
    assert (await chat.say("nej")).startswith(GUIDANCE_PREFIX)  # no longer inside the walkthrough
    again = await chat.say("checklista hemarbete")
    assert "Fråga 1" in again
    assert "Fortsätt" not in again


async def test_cancel_button(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    assert "Inget av svaren sparades" in await chat.click("Avbryt")


async def test_back_goes_one_question_back_and_a_new_answer_changes_the_way(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja", "nej")
    assert current_question(chat.last) == "confidential"
    back = await chat.say("tillbaka")
    assert "Fråga 3" in back
    assert "allmänna handlingar eller tar emot besök" in back
    await chat.click("Tillbaka")
    assert current_question(chat.last) == "tasks"
    result = await chat.say("nej")  # now not suitable: straight to the result
    assert "Bedömning: Inte lämpligt för hemarbete" in result
    assert "Allmänna handlingar och besök" not in result


async def test_back_on_the_first_question(chat: Chat) -> None:
    await start_remote_work(chat)
    reply = await chat.say("back")
    assert "Det här är första frågan." in reply
    assert current_question(chat.last) == "subject"


async def test_help_explains_the_current_question(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja", "nej")
    reply = await chat.say("hjälp")
    assert "fick uppgifter med sekretess inte tas hem" in reply  # the help text of the confidentiality question
    assert current_question(chat.last) == "confidential"
    assert "fick uppgifter med sekretess inte tas hem" in await chat.click("Hjälp")
    assert current_question(chat.last) == "confidential"


async def test_an_answer_that_fits_no_choice_asks_again_with_a_hint(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    reply = await chat.say("kanske")
    assert "Jag kunde inte koppla ”kanske” till något av svaren" in reply
    assert "1. Ja, de flesta" in reply
    assert current_question(chat.last) == "tasks"
    assert chat.asked == []
    await chat.say("99")
    assert current_question(chat.last) == "tasks"


async def test_a_question_on_the_way_is_answered_and_the_place_kept(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja")
    reply = await chat.say("Vad räknas som allmänna handlingar?")
    assert chat.asked == ["Vad räknas som allmänna handlingar?"]
    assert reply.startswith(GUIDANCE_PREFIX)
    assert "Tillbaka till frågan:" in reply
    assert current_question(chat.last) == "public"
    await chat.say("nej")
    assert current_question(chat.last) == "confidential"


async def test_on_a_note_question_a_question_is_asked_and_a_prefixed_note_is_kept(chat: Chat) -> None:
    await chat.say("återgång")
    await chat.say("Enhet A")
    await chat.say("Vilka räknas till riskgrupperna")
    assert chat.asked == ["Vilka räknas till riskgrupperna"]
    assert current_question(chat.last) == "first_back"
    await chat.say("anteckning: Vem tar posten? Registratorn.")
    assert current_question(chat.last) == "keep_home"
    assert chat.asked == ["Vilka räknas till riskgrupperna"]


async def test_an_empty_note_is_refused(chat: Chat) -> None:
    await chat.say("återgång")
    reply = await chat.click("Spara", note="   ")
    assert "Anteckningen var tom" in reply
    assert current_question(chat.last) == "unit"


async def test_a_button_from_an_earlier_question_changes_nothing(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    old_card = chat.last
    await chat.click("Ja, de flesta")
    assert current_question(chat.last) == "public"
    chat.last = old_card
    reply = await chat.click("Nej")
    assert "hör till en tidigare fråga" in reply
    assert current_question(chat.last) == "public"


async def test_pause_lets_the_bot_answer_and_starting_again_offers_to_continue(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja")
    assert "Skriv **checklista hemarbete** när du vill fortsätta" in await chat.say("paus")
    assert (await chat.say("nej")).startswith(GUIDANCE_PREFIX)  # not taken as an answer
    offer = await chat.say("checklista hemarbete")
    assert "Du har redan påbörjat **Checklista hemarbete** (2 svar)" in offer
    resumed = await chat.click("Fortsätt")
    assert "Fråga 3" in resumed
    assert current_question(chat.last) == "public"
    await chat.say("nej")
    assert current_question(chat.last) == "confidential"


async def test_start_over(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja")
    await chat.say("checklista hemarbete")
    restarted = await chat.click("Börja om")
    assert "Fråga 1" in restarted
    assert current_question(chat.last) == "subject"


async def test_left_alone_the_walkthrough_lets_go_of_free_text(chat: Chat, later: timedelta) -> None:
    await start_remote_work(chat, "X", "ja")
    card = chat.last
    chat.clock.advance(later)
    assert (await chat.say("Får jag jobba hemifrån?")).startswith(GUIDANCE_PREFIX)
    assert "Tillbaka till frågan" not in chat.text()
    chat.last = card
    await chat.click("Nej")  # the question card's buttons still work
    assert current_question(chat.last) == "confidential"
    assert (await chat.say("nej")).startswith("Checklista hemarbete")  # and it owns the chat again


async def test_starting_the_other_walkthrough_asks_first(chat: Chat) -> None:
    await start_remote_work(chat, "X", "ja")
    offer = await chat.say("återgång")
    assert "Du är mitt i **Checklista hemarbete** (2 svar)" in offer
    await chat.click("Börja Återgång till kontoret")
    assert current_question(chat.last) == "unit"
    await chat.say("paus")
    fresh = await chat.say("checklista hemarbete")  # the remote-work answers were discarded
    assert "Fortsätt" not in fresh
    assert "Fråga 1" in fresh
    assert current_question(chat.last) == "subject"


async def test_resume_after_a_restart_of_the_service(chat: Chat) -> None:
    await start_remote_work(chat, "Handläggare", "ja", "nej")
    await chat.restart()
    reply = await chat.say("nej")  # typed straight on after the restart
    assert current_question(chat.last) == "tools", reply
    chat.clock.advance(timedelta(days=3))
    await chat.restart()
    offer = await chat.say("checklista hemarbete")
    assert "(4 svar)" in offer
    await chat.click("Fortsätt")
    assert current_question(chat.last) == "tools"
    for answer in ("1", "1", "En per dag", "ja"):
        await chat.say(answer)
    result = chat.text()
    assert "Hemarbete: Handläggare" in result
    assert "- **Sekretess:** Nej" in result


async def test_a_knowledge_base_answer_offers_the_walkthrough(chat: Chat) -> None:
    assert chat.feature is not None
    assert chat.feature.offer_action("no-such-walkthrough", "sv") is None
    action = chat.feature.offer_action("return-to-office", "en")
    assert action is not None
    assert action["type"] == "Action.Submit"
    assert action["title"] == "▶ Walk through: Return to the office"
    await chat.send(value=action["data"])
    assert "Which unit or team is the plan for?" in chat.text()


async def test_a_question_button_with_no_walkthrough_running(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    card = chat.last
    await chat.say("avbryt")
    chat.last = card
    assert "inte igång längre" in await chat.click("Ja, de flesta")


async def test_cancel_on_an_earlier_card_still_cancels(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    old_card = chat.last
    await chat.say("ja")
    chat.last = old_card
    assert "Inget av svaren sparades" in await chat.click("Avbryt")


async def test_a_checklist_removed_from_content_ends_with_a_message(chat: Chat) -> None:
    await start_remote_work(chat, "X")
    chat.catalog = WalkthroughCatalog({"return-to-office": chat.catalog.walkthroughs["return-to-office"]})
    await chat.restart()
    assert "Den checklistan finns inte längre" in await chat.say("ja")
    assert (await chat.say("ja")).startswith(GUIDANCE_PREFIX)
