"""The pure part: where answers lead, what they add up to, and what survives an edited checklist."""

from __future__ import annotations

from dialogs.definitions import Walkthrough, WalkthroughCatalog
from dialogs.engine import LATER, NOT_RELEVANT, Answer, Result, compose_result, replay


def rw(catalog: WalkthroughCatalog) -> Walkthrough:
    w = catalog.get("remote-work-checklist")
    assert w is not None
    return w


def path(*pairs: tuple[str, str]) -> list[Answer]:
    return [Answer(q, choice=c) for q, c in pairs]


def test_the_worst_outcome_wins_and_reasons_and_actions_add_up(catalog: WalkthroughCatalog) -> None:
    answers = [
        Answer("subject", note="Handläggare"),
        *path(("tasks", "most"), ("public", "no"), ("confidential", "some"), ("tools", "no_vpn")),
        *path(("redistribute", "no")),
        Answer("presence", note="Två per dag"),
        Answer("staffing_ok", choice="yes"),
    ]
    result = compose_result(rw(catalog), answers, "sv")
    assert result.title == "Hemarbete: Handläggare"
    assert result.outcome == "Delvis lämpligt för hemarbete"
    assert result.reasons == ["Arbetsuppgifter med sekretess får inte hanteras hemifrån och stannar på arbetsplatsen."]
    assert result.actions == [
        "Lägg sekretessuppgifterna på de dagar medarbetaren är på arbetsplatsen.",
        "Beställ VPN-uppkoppling innan hemarbetet börjar.",
    ]
    assert [(line.question, line.answer) for line in result.answers][-2:] == [
        ("Bemanning på plats", "Två per dag"),
        ("Bemanningen räcker", "Ja"),
    ]


def test_no_answer_with_an_outcome_means_the_best(catalog: WalkthroughCatalog) -> None:
    answers = [Answer("subject", mark=NOT_RELEVANT), *path(("tasks", "most"), ("public", "no"))]
    result = compose_result(rw(catalog), answers, "en")
    assert result.title == "Remote work checklist"  # no label given
    assert result.outcome == "Suitable for working from home"
    assert result.reasons == []


def test_decide_later_becomes_an_open_item(catalog: WalkthroughCatalog) -> None:
    answers = [Answer("subject", note="X"), *path(("tasks", "most")), Answer("presence", mark=LATER)]
    result = compose_result(rw(catalog), answers, "sv")
    assert "Bemanning på plats: inte bestämt ännu" in result.actions


def test_replay_finds_the_current_question_and_the_end(catalog: WalkthroughCatalog) -> None:
    w = rw(catalog)
    raw = [a.to_dict() for a in [Answer("subject", note="X"), *path(("tasks", "most"))]]
    assert replay(w, raw) == ([Answer("subject", note="X"), Answer("tasks", choice="most")], "public")
    finished = [*raw[:1], Answer("tasks", choice="none").to_dict()]
    assert replay(w, finished)[1] is None  # "no" to suitable tasks ends the checklist


def test_replay_keeps_answers_up_to_what_an_edit_removed(catalog: WalkthroughCatalog) -> None:
    w = rw(catalog)
    raw = [
        Answer("subject", note="X").to_dict(),
        {"question": "tasks", "choice": "a-choice-hr-removed"},
        Answer("public", choice="no").to_dict(),
    ]
    answers, current = replay(w, raw)
    assert answers == [Answer("subject", note="X")]
    assert current == "tasks"


def test_a_result_round_trips_through_storage_form(catalog: WalkthroughCatalog) -> None:
    result = compose_result(rw(catalog), [Answer("subject", note="X"), *path(("tasks", "none"))], "sv")
    assert Result.from_dict(result.to_dict()) == result
