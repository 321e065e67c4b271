"""Start-up validation: an editor's mistake stops the start with a message naming file, entry and field."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest

from bot.content_errors import ContentError, ContentProblem
from bot.knowledge import KnowledgeBase, load_knowledge

Edit = Callable[[str, str, str], None]
REMOTE = "knowledge/remote-work-2020.yaml"
DISTANCE = "knowledge/distance-work-2021.yaml"


def problems_of(content: pathlib.Path) -> list[ContentProblem]:
    with pytest.raises(ContentError) as caught:
        load_knowledge(content)
    return caught.value.problems


def only(problems: list[ContentProblem]) -> ContentProblem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_real_content_is_valid_and_complete(kb: KnowledgeBase) -> None:
    assert len(kb.entries) >= 50
    assert {t.id for t in kb.topics()} == {
        "remote-work-2020",
        "distance-work-2021",
        "return-to-office",
        "summer-2021",
        "meetings-and-tips",
        "equipment",
    }
    for entry in kb.entries:
        assert entry.answer["sv"].strip(), entry.id
        assert entry.answer.get("en", "").strip(), entry.id
        assert entry.questions["sv"], entry.id
        assert entry.questions["en"], entry.id
        assert entry.source.where, entry.id


def test_get_and_topics_give_the_entries_and_titles(kb: KnowledgeBase) -> None:
    entry = kb.get("distans-2021-talesperson")
    assert entry is not None
    assert entry.source.diarienummer is None  # KS 2020/218 belongs to the earlier decision of 2020-10-23
    assert "2020-10-23, dnr KS 2020/218" in entry.source.title
    assert entry.question("en").startswith("How fast")
    assert kb.get("no-such-entry") is None
    topic = next(t for t in kb.topics() if t.id == "summer-2021")
    assert topic.title == {"sv": "Inriktning under sommaren 2021", "en": "Summer 2021 arrangements"}
    assert [e.topic for e in topic.entries] == ["summer-2021"] * len(topic.entries)


def test_knowledge_base_cannot_be_changed_after_build(kb: KnowledgeBase) -> None:
    with pytest.raises(AttributeError):
        kb._entries = ()  # type: ignore[misc]
    kb.entries.clear()
    assert kb.entries


def test_duplicate_id_names_both_files(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, "- id: distans-2021-facket", "- id: hemarbete-2020-beslut")
    problem = only(problems_of(content_copy))
    named = {pathlib.Path(problem.file).name, pathlib.Path(problem.message.split(" in ")[-1]).name}
    assert named == {"distance-work-2021.yaml", "remote-work-2020.yaml"}
    assert (problem.entry, problem.field) == ("hemarbete-2020-beslut", "id")


def test_empty_answer_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "      sv: >-\n        Ja. Förvaltningscheferna fick möjlighet",
        '      sv: ""\n      old: >-\n        Ja. Förvaltningscheferna fick möjlighet',
    )
    problems = problems_of(content_copy)
    fields = {(p.entry, p.field) for p in problems}
    assert ("hemarbete-2020-delegera", "answer.sv") in fields
    empty = next(p for p in problems if p.field == "answer.sv")
    assert "must not be empty" in empty.message
    assert "line" in empty.message
    assert ("hemarbete-2020-delegera", "answer.old") in fields  # the unknown field is reported too


def test_missing_swedish_text_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(REMOTE, "      sv: >-\n        För att minska risken", "      en_old: >-\n        För att minska risken")
    problems = problems_of(content_copy)
    missing = next(p for p in problems if p.field == "answer.sv")
    assert missing.entry == "hemarbete-2020-varfor"
    assert missing.file.endswith("remote-work-2020.yaml")
    assert "required" in missing.message


def test_unknown_source_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, "    source: cesam-2021-06-15", "    source: cesam-2021-06-16")
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("distans-2021-facket", "source")
    assert "cesam-2021-06-16" in problem.message


def test_related_id_that_does_not_exist_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, "related: [distans-2021-uppfoljning]", "related: [distans-2021-uppfoljningen]")
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("distans-2021-nytt-kommunhus", "related.0")


def test_misspelt_field_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, '    owner: "Kommunikationsavdelningen', '    ownr: "Kommunikationsavdelningen')
    problems = {(p.entry, p.field): p.message for p in problems_of(content_copy)}
    assert problems[("distans-2021-talesperson", "ownr")].startswith("is not a known field (misspelt?)")
    assert problems[("distans-2021-talesperson", "owner")].startswith("is required")
    assert len(problems) == 2


def test_a_date_must_be_a_date(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        DISTANCE,
        '    period_to: 2022-09-15\n    review_date: 2027-06-30\n    owner: "Kommunikations',
        '    period_to: 2022-09-15\n    review_date: 2027\n    owner: "Kommunikations',
    )
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("distans-2021-talesperson", "review_date")
    assert "YYYY-MM-DD" in problem.message


def test_period_that_ends_before_it_starts_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "    period_from: 2020-03-17\n    period_to: 2020-04-01\n    review_date: 2027-06-30\n"
        '    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n    related: [hemarbete-2020-beslut]',
        "    period_from: 2020-04-17\n    period_to: 2020-04-01\n    review_date: 2027-06-30\n"
        '    owner: "HR-avdelningen, kommunstyrelseförvaltningen"\n    related: [hemarbete-2020-beslut]',
    )
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("hemarbete-2020-delegera", "period_to")


def test_yaml_syntax_error_names_file_and_line(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        DISTANCE,
        "    source: distansbeslut-2021\n",
        "    source: [distansbeslut-2021\n",
    )
    problem = only(problems_of(content_copy))
    assert problem.file.endswith("distance-work-2021.yaml")
    assert "YAML syntax error" in problem.message
    assert "line " in problem.message


def test_every_problem_is_reported_at_once(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, "    source: cesam-2021-06-15", "    source: nowhere")
    edit(REMOTE, "related: [hemarbete-2020-samhallsviktig]", "related: [gone]")
    edit("sources.yaml", '    where: "HINT och haninge.se"\n', '    where: ""\n')
    files = {pathlib.Path(p.file).name for p in problems_of(content_copy)}
    assert files == {"distance-work-2021.yaml", "remote-work-2020.yaml", "sources.yaml"}


def test_the_same_question_under_two_entries_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(DISTANCE, '        - "Vad tycker facket om distansarbete?"', '        - "Kan beslut om hemarbete delegeras?"')
    problem = only(problems_of(content_copy))
    both = {"distans-2021-facket", "hemarbete-2020-delegera"}
    assert problem.entry in both
    assert problem.field == "questions.sv.0"
    assert (both - {problem.entry}).pop() in problem.message


def test_a_word_in_two_synonym_groups_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit("synonyms.yaml", "sv: [lunch, lunchen, luncha,", "sv: [lunch, lunchen, luncha, fika,")
    problem = only(problems_of(content_copy))
    assert problem.file.endswith("synonyms.yaml")
    assert (problem.entry, problem.field) == ("lunch", "sv")
    assert "'fika'" in problem.message


def test_a_near_group_must_exist(content_copy: pathlib.Path, edit: Edit) -> None:
    edit("synonyms.yaml", "near: [home]", "near: [hemma]")
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("remote", "near.0")


def test_yaml_booleans_get_a_hint(content_copy: pathlib.Path, edit: Edit) -> None:
    edit("synonyms.yaml", "en: [exit, exits]", "en: [exit, exits, no]")
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("exit", "en[2]")
    assert "quotes" in problem.message


def test_duplicate_yaml_key_is_an_error(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "    walkthrough: remote-work-checklist\n\n  - id: hemarbete-2020-checklista",
        "    walkthrough: remote-work-checklist\n    owner: someone\n\n  - id: hemarbete-2020-checklista",
    )
    problem = only(problems_of(content_copy))
    assert (problem.entry, problem.field) == ("hemarbete-2020-beslut", "owner")
    assert "twice" in problem.message


def test_missing_sources_file_is_an_error(content_copy: pathlib.Path) -> None:
    (content_copy / "sources.yaml").unlink()
    problem = only(problems_of(content_copy))
    assert problem.file.endswith("sources.yaml")
    assert "missing" in problem.message


def test_missing_english_answer_falls_back_to_swedish(content_copy: pathlib.Path, edit: Edit) -> None:
    edit(
        REMOTE,
        "      en: >-\n        Yes. The heads of administration were given the power to decide on working from home "
        "and could\n        delegate that task further.\n",
        "",
    )
    kb = load_knowledge(content_copy)
    entry = kb.get("hemarbete-2020-delegera")
    assert entry is not None
    assert "only available in Swedish" in entry.answer_text("en")
    assert entry.answer_text("en").startswith("Ja. Förvaltningscheferna")
