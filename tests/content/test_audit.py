"""The content audit (issue 15) holds: kinds and periods are enforced, answers carry their kind and source section,
ended rules read as history, and the questions the audit named are answered with the right attribution."""

from __future__ import annotations

import datetime
import pathlib
import re
from collections.abc import Callable

import pytest
import yaml

from bot.cli import main
from bot.content_errors import ContentError
from bot.conversation.cards import answer_activity
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.base import STOCKHOLM
from bot.knowledge.checks import present_tense_sentences, tense_problems
from tests.knowledge.conftest import LATER, ROOT

Edit = Callable[[str, str, str], None]
AUDIT = pathlib.Path(__file__).with_name("audit.md")
REMOTE = "knowledge/remote-work-2020.yaml"
EQUIPMENT = "knowledge/equipment.yaml"


def problems_of(content_dir: pathlib.Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_knowledge(content_dir)
    return [str(p) for p in caught.value.problems]


# ---- what check-content refuses ---------------------------------------------------------------------------


def test_a_decision_without_a_period_is_refused(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "    period_from: 2020-03-17\n    period_to: 2020-04-01\n    review_date: 2027-06-30\n"
        '    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n    related: [hemarbete-2020-beslut]\n',
        '    review_date: 2027-06-30\n    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n'
        "    related: [hemarbete-2020-beslut]\n",
    )
    (problem,) = problems_of(content_copy)
    assert "entry 'hemarbete-2020-delegera': field 'period_from'" in problem
    assert "a decision needs its period" in problem


def test_the_same_entry_as_advice_needs_no_period(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "  - id: hemarbete-2020-delegera\n    kind: decision\n",
        "  - id: hemarbete-2020-delegera\n    kind: advice\n",
    )
    edit(
        REMOTE,
        "    period_from: 2020-03-17\n    period_to: 2020-04-01\n    review_date: 2027-06-30\n"
        '    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n    related: [hemarbete-2020-beslut]\n',
        '    review_date: 2027-06-30\n    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n'
        "    related: [hemarbete-2020-beslut]\n",
    )
    assert load_knowledge(content_copy).get("hemarbete-2020-delegera") is not None


def test_an_unknown_kind_or_a_missing_locator_is_refused(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "  - id: hemarbete-2020-delegera\n    kind: decision\n",
        "  - id: hemarbete-2020-delegera\n    kind: rule\n",
    )
    edit(REMOTE, '    locator: "kommundirektörens beslut (förvaltningscheferna kan delegera)"\n', "")
    problems = problems_of(content_copy)
    assert any("'hemarbete-2020-delegera': field 'kind'" in p for p in problems), problems
    assert any("'hemarbete-2020-delegera': field 'locator': is required" in p for p in problems), problems


def test_an_example_must_say_whose_it_is(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        EQUIPMENT,
        "  - id: stadning-2020\n    kind: example\n    example_of:\n"
        '      sv: "en förvaltning under Servicenämnden i Stockholms stad"\n'
        '      en: "an administration under the Servicenämnd in the City of Stockholm"\n',
        "  - id: stadning-2020\n    kind: example\n",
    )
    (problem,) = problems_of(content_copy)
    assert "entry 'stadning-2020': field 'example_of'" in problem


def test_an_ended_rule_in_the_present_tense_is_flagged() -> None:
    assert present_tense_sentences("Beslutet gäller i ett år. Det gällde från 16 september.", "sv") == [
        "Beslutet gäller i ett år."
    ]
    assert present_tense_sentences("Förvaltningarna ska följa frågan.", "sv") == ["Förvaltningarna ska följa frågan."]
    assert present_tense_sentences("Varje enhet skulle ha ambassadörer. Fråga vad som gäller i dag.", "sv") == []
    assert present_tense_sentences("The decision applies for one year.", "en") == ["The decision applies for one year."]


def test_check_content_refuses_an_ended_rule_written_in_the_present_tense(
    content_copy: pathlib.Path, edit: Edit, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, capsys
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["check-content"]) == 0
    edit(
        REMOTE,
        "Ja. Förvaltningscheferna fick möjlighet att besluta om hemarbete och kunde delegera den uppgiften vidare.",
        "Ja. Förvaltningscheferna får besluta om hemarbete och kan delegera den uppgiften vidare.",
    )
    assert main(["check-content"]) == 1
    err = capsys.readouterr().err
    assert "entry 'hemarbete-2020-delegera': field 'answer.sv': the period ended 2020-04-01" in err
    assert "Förvaltningscheferna får besluta" in err


def test_the_shipped_answers_to_ended_periods_read_as_history(kb: KnowledgeBase) -> None:
    assert tense_problems(kb.entries, LATER) == []
    assert tense_problems(kb.entries, datetime.datetime.now(STOCKHOLM).date()) == []


# ---- what every entry carries -------------------------------------------------------------------------------


def test_every_entry_has_a_kind_and_the_section_it_rests_on(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        assert entry.kind in {"decision", "plan", "advice", "example"}, entry.id
        assert entry.locator.strip(), entry.id
        if entry.kind == "decision":
            assert entry.period_from or entry.period_to, entry.id
        if entry.kind == "example":
            assert entry.example_of, entry.id
            assert entry.example_of.get("sv"), entry.id
            assert entry.example_of.get("en"), entry.id
    kinds = {e.kind for e in kb.entries}
    assert kinds == {"decision", "plan", "advice", "example"}


def test_the_return_plan_is_a_plan_and_the_stockholm_minutes_are_examples(kb: KnowledgeBase) -> None:
    assert {e.kind for e in kb.entries if e.topic == "return-to-office"} == {"plan"}
    for entry in kb.entries:
        if entry.source.id == "forvaltningsgrupp-2020-04-14":
            assert entry.kind == "example", entry.id
            assert "Stockholms stad" in (entry.example_of or {}).get("sv", ""), entry.id
            assert "annan organisation" in entry.answer["sv"] or "Stockholms stad" in entry.answer["sv"], entry.id


def test_the_answer_names_its_kind_and_the_source_section(kb: KnowledgeBase) -> None:
    answer = kb.answer("Hur snabbt måste en talesperson vara på plats i kommunhuset?", today=LATER)
    assert answer.entry is not None
    assert answer.entry.id == "distans-2021-talesperson"
    lines = answer.text.split("\n")
    source = next(i for i, line in enumerate(lines) if line.startswith("Källa: "))
    assert lines[source - 1] == "Beslut"
    assert ", punkt 6, förslag till beslut, undantaget för press- och mediefrågor. Läs mer:" in lines[source]
    english = kb.answer("How fast must a spokesperson reach the town hall?", today=LATER)
    assert "\nDecision\nSource: " in english.text
    assert "(punkt 6, förslag till beslut, undantaget för press- och mediefrågor). Read more:" in english.text


@pytest.mark.parametrize(
    ("question", "entry_id", "label"),
    [
        ("Vilka steg hade öppningsarbetet?", "ater-tre-steg", "Plan"),
        ("Hur ska jag bete mig i ett digitalt möte?", "mote-etikett", "Tips"),
        (
            "Hur kan vi hålla workshoppar på distans?",
            "exempel-workshop-miro",
            "Exempel från Kultur- och fritidsförvaltningen",
        ),
    ],
)
def test_the_answer_card_shows_the_kind_in_a_word(kb: KnowledgeBase, question: str, entry_id: str, label: str) -> None:
    answer = kb.answer(question, today=LATER)
    assert answer.entry is not None
    assert answer.entry.id == entry_id
    card = (
        answer_activity(answer.text, answer.lang, [], answered=True, entry_id=entry_id, question=question)
        .attachments[0]
        .content
    )
    blocks = [b for b in card["body"] if b.get("type") == "TextBlock"]
    (kind,) = [b for b in blocks if b["text"] == label]
    assert kind.get("weight") == "Bolder"
    source = next(b for b in blocks if b["text"].startswith("Källa: "))
    assert source.get("isSubtle") is True
    assert answer.entry.locator in source["text"]


# ---- the three questions of the issue --------------------------------------------------------------------------


def test_the_2021_decisions_diarienummer_is_attributed_to_the_decision_of_2020_10_23(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vilket diarienummer har beslutet om distansarbete 2021?", today=LATER)
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == "distans-2021-diarienummer"
    assert "KS 2020/218 är diarienumret för ett tidigare beslut om distansarbete, från 2020-10-23" in answer.text
    assert "inget eget diarienummer" in answer.text
    # Nowhere is the number given as the 2021 decision's own.
    for entry in kb.entries:
        assert entry.source.diarienummer != "KS 2020/218", entry.id
        for text in entry.answer.values():
            for match in re.finditer(r"KS 2020/218", text):
                assert "2020-10-23" in text[max(0, match.start() - 200) : match.end() + 120], entry.id


def test_taking_a_screen_home_is_told_as_another_organisations_example(kb: KnowledgeBase) -> None:
    answer = kb.answer("Fick jag ta hem en skärm?", today=LATER)
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == "utrustning-hem"
    assert "Vägledningen har inget beslut om utrustning hemma för dig" in answer.text
    assert "en annan organisation" in answer.text
    assert "Servicenämnden i Stockholms stad skrev i april 2020" in answer.text
    assert "\nExempel från en förvaltning under Servicenämnden i Stockholms stad\n" in answer.text
    assert "Medarbetare med särskilda behov fick" not in answer.text


def test_the_meeting_rules_are_the_chefsforums_advice(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vad säger mötesreglerna?", today=LATER)
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == "mote-etikett"
    assert "Vägledningen har inga allmänna mötesregler" in answer.text
    assert "råden till dem som deltog på distans i chefsforum 2 juni 2020" in answer.text
    assert (
        "\nTips\nKälla: Chefsforum – lärdomar från distansarbete, 2020-06-02, bild 'Viktigt att tänka på'."
        in answer.text
    )
    meetings = kb.get("hemarbete-2020-moten")
    assert meetings is not None
    assert "mötesreglerna" not in meetings.answer["sv"]


# ---- the audit file is kept with the content ---------------------------------------------------------------------


def test_the_audit_file_covers_every_entry_and_walkthrough(kb: KnowledgeBase) -> None:
    audit = AUDIT.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", audit, flags=re.MULTILINE))
    assert {e.id for e in kb.entries} <= rows, sorted({e.id for e in kb.entries} - rows)
    sources = {e.source.id for e in kb.entries}
    assert not rows - {e.id for e in kb.entries} - sources - {"remote-work-checklist", "return-to-office"}, "stale rows"
    for walkthrough in ("remote-work-checklist", "return-to-office"):
        assert f"`{walkthrough}`" in audit
    for name in ("sources.yaml", "schedule.yaml", "lagesbild.yaml", "reminders.yaml"):
        assert f"`{name}`" in audit


def test_no_content_text_copies_a_source_sentence() -> None:
    """Facts carry over, the wording is ours: no run of nine words in a row is taken from a source document."""
    sources = ROOT.parent / "shared" / "sources"
    if not sources.exists():
        pytest.skip("the source documents are not beside the repository")
    size = 9

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    runs: set[tuple[str, ...]] = set()
    for path in sources.glob("*.txt"):
        w = words(path.read_text(encoding="utf-8"))
        runs |= {tuple(w[i : i + size]) for i in range(len(w) - size + 1)}

    def texts(node: object) -> list[str]:
        if isinstance(node, dict):
            return [t for value in node.values() for t in texts(value)]
        if isinstance(node, list):
            return [t for value in node for t in texts(value)]
        return [node] if isinstance(node, str) else []

    copied = []
    for path in sorted((ROOT / "content").rglob("*.yaml")):
        for text in texts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            w = words(text)
            if any(tuple(w[i : i + size]) in runs for i in range(len(w) - size + 1)):
                copied.append((path.name, text[:80]))
    assert not copied, copied


def test_check_content_warns_about_entries_past_review_and_strict_refuses_them(
    content_copy: pathlib.Path, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, capsys
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = content_copy / "knowledge" / "equipment.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("review_date: 2027-06-30", "review_date: 2020-01-01", 1), encoding="utf-8")
    assert main(["check-content"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err
    assert "review date 2020-01-01 has passed (owner: " in err
    assert main(["check-content", "--strict"]) == 1
    assert "review date 2020-01-01 has passed" in capsys.readouterr().err
