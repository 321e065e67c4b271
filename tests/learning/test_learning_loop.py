"""The loop of issue 18 through the bot's real endpoint: employees' questions are declined, an owner sees them
grouped and teaches the bot, and another instance over the same database answers them at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.broadcast.audit import audit_entries
from bot.cli import check_content
from bot.clock import ManualClock
from bot.conversation.cards import card_actions
from bot.learning.export import export_learned
from bot.learning.store import LearningStore
from tests.broadcast.helpers import AMBASSADOR_KSF, EMPLOYEE_ID, HR_ID, text_of
from tests.learning.conftest import ChatFactory

OWNER = "00000000-0000-0000-0000-0000000000d1"
EQUIPMENT_OWNER = "00000000-0000-0000-0000-0000000000d2"

BROADBAND = ["vem betalar mitt bredband hemma", "vem betalar bredbandet hemma?", "Vem betalar för mitt bredband hemma"]
LUNCH = ["vad kostar lunchen i matsalen", "vad kostar lunch i matsalen?", "Vad kostar luncherna i matsalen"]
ROOMS = ["hur bokar jag ett mötesrum", "hur bokar man mötesrum?", "Hur bokar jag mötesrummet"]
POWER = ["kan jag få ersättning för el hemma", "får jag ersättning för elen när jag jobbar hemma"]
COFFEE = ["får jag ta med kaffemaskinen hem", "får jag låna kaffemaskinen hem?"]
DOZEN = BROADBAND + LUNCH + ROOMS + POWER + COFFEE


def cards(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a["content"] for r in replies for a in r.get("attachments") or [] if isinstance(a.get("content"), dict)]


def group_actions(card: dict[str, Any], wording: str) -> list[dict[str, Any]]:
    """The actions of the group whose wordings include `wording` (a ShowCard's through its submit)."""
    found = []
    for action in card_actions(card):
        data = action["card"]["actions"][0]["data"] if action["type"] == "Action.ShowCard" else action["data"]
        if ["sv", wording] in data.get("wordings", []):
            found.append(action)
    return found


async def test_owners_teach_the_bot_and_another_instance_answers(new_chat: ChatFactory, clock: ManualClock) -> None:
    first, second = await new_chat(), await new_chat()  # two instances (replicas) on one database
    # 1. Employees ask a dozen wordings the knowledge base does not answer, on both instances; they are declined.
    for number, question in enumerate(DOZEN):
        replies = await (first, second)[number % 2].post_text(EMPLOYEE_ID, question)
        assert not any(a["data"].get("action") == "feedback" for c in cards(replies) for a in card_actions(c)), question

    # 2. The owner's "obesvarade frågor" shows them grouped: one line per question, with its count.
    replies = await first.post_text(OWNER, "obesvarade frågor")
    [card] = cards(replies)
    fallback = card["fallbackText"]
    assert "5 grupper" in fallback, fallback
    assert "3 gånger" in fallback
    assert EMPLOYEE_ID not in str(card)
    assert "Anna" not in str(card)
    broadband = group_actions(card, BROADBAND[1])
    assert {tuple(w) for w in broadband[0]["data"]["wordings"]} == {("sv", w) for w in BROADBAND}

    # 3. The owner links two groups to entries (a closest one, and one found by "Koppla till annan …") and
    # marks one as outside the guidance.
    link = next(a for a in broadband if a.get("data", {}).get("entry_id") == "hemarbete-2020-teknik")
    assert "Kopplat till" in text_of((await first.submit(OWNER, link["data"]))[0])
    other = next(a for a in group_actions(card, LUNCH[0]) if a["type"] == "Action.ShowCard")
    data = {**other["card"]["actions"][0]["data"], "entry_query": "ater-lunch"}
    assert "ater-lunch" in text_of((await first.submit(OWNER, data))[0])
    outside = next(a for a in group_actions(card, ROOMS[0]) if a.get("data", {}).get("action") == "owner_outside")
    assert "utanför" in text_of((await first.submit(OWNER, outside["data"]))[0])

    # 4. The same wordings, and new wordings of the same questions, are now answered on the other instance,
    # which has been running all along: it checks the phrasings' version at most once a second.
    clock.advance(timedelta(seconds=1))
    for question, entry in [
        *((q, "hemarbete-2020-teknik") for q in BROADBAND),
        *((q, "ater-lunch") for q in LUNCH),
        ("vem betalar bredband hemma då", "hemarbete-2020-teknik"),
        ("vad kostar en lunch i matsalen nu", "ater-lunch"),
    ]:
        replies = await second.post_text(EMPLOYEE_ID, question)
        feedback = [a["data"] for c in cards(replies) for a in card_actions(c) if a["data"].get("action") == "feedback"]
        assert feedback, (question, text_of(replies[0]))
        assert feedback[0]["entry_id"] == entry, question

    # The card no longer shows what was dealt with.
    fallback = text_of((await second.post_text(OWNER, "obesvarade frågor"))[0])
    assert "2 grupper" in fallback
    assert "bredband" not in fallback

    # 5. export-learned writes them to YAML with who added them and when, clears them, and check-content passes.
    settings = first.services.settings
    done = await export_learned(LearningStore(first.services.db), settings.content_dir, settings.timezone)
    assert (done.phrasings, done.outside) == (6, 3)
    equipment = (settings.content_dir / "knowledge" / "remote-work-2020.yaml").read_text(encoding="utf-8")
    assert f'- "{BROADBAND[0]}"  # inlärd: Exempel innehållsägare, 2026-11-23' in equipment
    labelled = (settings.content_dir / "calibration" / "labelled-learned.yaml").read_text(encoding="utf-8")
    assert f'- q: "{ROOMS[0]}"  # inlärd: Exempel innehållsägare, 2026-11-23\n  abstain: true' in labelled
    assert check_content(settings) == 0
    assert await LearningStore(first.services.db).phrasings() == []
    assert await LearningStore(first.services.db).phrasings(outside=True) == []
    third = await new_chat()  # a new instance reads them from the content now
    reply = await third.post_text(EMPLOYEE_ID, BROADBAND[2])
    assert [
        a["data"]["entry_id"] for c in cards(reply) for a in card_actions(c) if a["data"].get("action") == "feedback"
    ]

    # Every action is audited: who, what, which entry.
    actions = [(e.action, e.subject, e.actor_aad) for e in await audit_entries(first.services.db)]
    assert ("link", "entry:hemarbete-2020-teknik", OWNER) in actions
    assert ("link", "entry:ater-lunch", OWNER) in actions
    assert ("outside", "unanswered", OWNER) in actions


async def test_employees_and_ambassadors_are_refused_and_the_refusals_audited(new_chat: ChatFactory) -> None:
    chat = await new_chat()
    for who in (EMPLOYEE_ID, AMBASSADOR_KSF):
        for command in ("obesvarade frågor", "inlärda fraser utrustning-stol"):
            assert "innehållsägare" in await chat.say(who, command)
        replies = await chat.submit(who, {"action": "owner_ignore", "wordings": [["sv", "x"]], "lang": "sv"})
        assert "innehållsägare" in text_of(replies[0])
    refused = [(e.actor_aad, e.subject) for e in await audit_entries(chat.services.db) if e.action == "refused"]
    assert len(refused) == 6
    assert (AMBASSADOR_KSF, "owner:unanswered") in refused
    assert (EMPLOYEE_ID, "owner:owner_ignore") in refused
    # HR may do all an owner does.
    assert "Inga obesvarade frågor" in await chat.say(HR_ID, "obesvarade frågor")


async def test_an_owner_limited_to_a_file_links_only_its_entries(new_chat: ChatFactory) -> None:
    chat = await new_chat()
    data = {"action": "owner_link", "entry_id": "ater-lunch", "wordings": [["sv", "vad kostar lunchen"]], "lang": "sv"}
    assert "hör inte till" in text_of((await chat.submit(EQUIPMENT_OWNER, data))[0])
    data["entry_id"] = "utrustning-stol"
    assert "Kopplat till" in text_of((await chat.submit(EQUIPMENT_OWNER, data))[0])


async def test_an_owner_lists_and_removes_learned_phrasings(new_chat: ChatFactory) -> None:
    chat = await new_chat()
    question = "vem betalar mitt bredband hemma"
    data = {"action": "owner_link", "entry_id": "hemarbete-2020-teknik", "wordings": [["sv", question]], "lang": "sv"}
    await chat.submit(OWNER, data)
    replies = await chat.post_text(OWNER, "inlärda fraser hemarbete-2020-teknik")
    [card] = cards(replies)
    assert question in card["fallbackText"]
    assert "Exempel innehållsägare" in card["fallbackText"]
    [remove] = card_actions(card)
    assert "Borttagen" in text_of((await chat.submit(OWNER, remove["data"]))[0])
    assert "inga inlärda fraser" in await chat.say(OWNER, "inlärda fraser hemarbete-2020-teknik")
    assert "inte längre" in text_of((await chat.submit(OWNER, remove["data"]))[0])
    answer = await chat.post_text(EMPLOYEE_ID, question)
    assert not [a for c in cards(answer) for a in card_actions(c) if a["data"].get("action") == "feedback"]
    assert ("unlearn", "entry:hemarbete-2020-teknik") in [
        (e.action, e.subject) for e in await audit_entries(chat.services.db)
    ]
