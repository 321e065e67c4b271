"""Checklists are data HR edits: the shipped ones load, and a broken one stops start-up with a precise message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content_errors import ContentError
from dialogs.definitions import WalkthroughCatalog, load_walkthroughs


def both(sv: str, en: str | None = None) -> dict[str, str]:
    return {"sv": sv, "en": en or sv}


def mini() -> dict[str, Any]:
    """A small valid checklist: first -> (a) second -> end, or (b) end."""
    return {
        "id": "mini",
        "title": both("Mini"),
        "description": both("en liten checklista", "a small checklist"),
        "intro": both("Hej", "Hi"),
        "source": both("Ett dokument, 2020-01-01, punkt 1", "A document, 2020-01-01, item 1"),
        "start_phrases": {"sv": ["mini"], "en": ["mini en"]},
        "outcomes": [{"id": "ok", "text": both("Bra", "Good")}, {"id": "bad", "text": both("Dåligt", "Bad")}],
        "questions": [
            {
                "id": "first",
                "kind": "choice",
                "text": both("Första?", "First?"),
                "help": both("Hjälp", "Help"),
                "choices": [
                    {"id": "a", "text": both("A"), "next": "second"},
                    {"id": "b", "text": both("B"), "outcome": "bad", "next": "end"},
                ],
            },
            {"id": "second", "kind": "note", "text": both("Andra?", "Second?"), "help": both("Hjälp", "Help")},
        ],
        "result": {"title": both("Mini: {label}")},
    }


def write(content_dir: Path, data: dict[str, Any] | str, name: str = "mini.yaml") -> None:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (content_dir / "checklists" / name).write_text(text, encoding="utf-8")


def problems_of(content_dir: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_walkthroughs(content_dir)
    return [str(p) for p in caught.value.problems]


def test_shipped_checklists_load_with_swedish_and_english(catalog: WalkthroughCatalog) -> None:
    assert {w.id for w in catalog} == {"remote-work-checklist", "return-to-office"}
    for w in catalog:
        for q in w.questions:
            assert q.text.en, q.id
            assert q.help.en, q.id
            assert all(c.text.en for c in q.choices), q.id


def test_a_valid_file_loads(content_dir: Path) -> None:
    write(content_dir, mini())
    loaded = load_walkthroughs(content_dir).get("mini")
    assert loaded is not None
    assert [c.id for c in loaded.question("first").choices] == ["a", "b"]


def test_branch_to_a_missing_question_is_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][0]["choices"][0]["next"] = "secnd"
    write(content_dir, data)
    assert problems_of(content_dir) == [
        "checklists/mini.yaml: entry 'first': field 'choices[0].next': points to a question 'secnd' that does not exist"
    ]


def test_a_checklist_without_its_source_line_is_refused(content_dir: Path) -> None:
    """A walkthrough shows what it rests on (document, section, date and period); without it, start-up stops."""
    data = mini()
    del data["source"]
    write(content_dir, data)
    assert problems_of(content_dir) == ["checklists/mini.yaml: entry 'mini': field 'source': is required (line 1)"]


def test_choice_without_text_is_refused(content_dir: Path) -> None:
    data = mini()
    del data["questions"][0]["choices"][1]["text"]
    write(content_dir, data)
    assert problems_of(content_dir) == [
        "checklists/mini.yaml: entry 'first': field 'choices[1].text': is required (line 43)"
    ]


def test_missing_swedish_text_is_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][1]["text"] = {"en": "Second?"}
    write(content_dir, data)
    assert problems_of(content_dir) == ["checklists/mini.yaml: entry 'second': field 'text.sv': is required (line 52)"]


def test_duplicate_question_ids_are_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"].append({**copy.deepcopy(data["questions"][1]), "text": both("Igen?", "Again?")})
    write(content_dir, data)
    assert "checklists/mini.yaml: entry 'second': field 'questions[2].id': duplicate question id" in problems_of(
        content_dir
    )


def test_unreachable_question_is_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][1]["next"] = "end"
    data["questions"].append({"id": "orphan", "kind": "note", "text": both("Ensam"), "help": both("Hjälp")})
    write(content_dir, data)
    assert problems_of(content_dir) == [
        "checklists/mini.yaml: entry 'orphan': field 'id': no answer leads to this question"
    ]


def test_a_loop_is_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][1]["next"] = "first"
    write(content_dir, data)
    assert problems_of(content_dir) == [
        "checklists/mini.yaml: entry 'second': field 'next': answers loop back: first -> second -> first"
    ]


def test_unknown_outcome_and_placeholder_are_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][0]["choices"][1]["outcome"] = "awful"
    data["result"]["title"] = both("Mini: {namn}")
    write(content_dir, data)
    found = problems_of(content_dir)
    assert any("entry 'first': field 'choices[1].outcome': unknown outcome 'awful'" in p for p in found), found
    assert any("field 'result.title': unknown placeholder {namn}" in p for p in found), found


def test_unknown_field_and_kind_are_refused(content_dir: Path) -> None:
    data = mini()
    data["questions"][1]["kind"] = "essay"
    data["questions"][0]["hepl"] = both("typo")
    write(content_dir, data)
    found = problems_of(content_dir)
    assert any("entry 'second': field 'kind'" in p for p in found), found
    assert any("entry 'first': field 'hepl': is not a known field" in p for p in found), found


def test_unquoted_yes_in_yaml_gets_a_hint(content_dir: Path) -> None:
    data = mini()
    data["questions"][0]["choices"][0]["aliases"] = ["YES_HERE"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    write(content_dir, text.replace("YES_HERE", "yes"))  # unquoted, as HR might type it
    (problem,) = problems_of(content_dir)
    assert "entry 'first': field 'choices[0].aliases[0]'" in problem
    assert "quotes" in problem


def test_a_choice_question_needs_two_choices(content_dir: Path) -> None:
    data = mini()
    data["questions"][0]["choices"] = data["questions"][0]["choices"][:1]
    write(content_dir, data)
    assert "checklists/mini.yaml: entry 'first': field 'choices': a choice question needs at least two choices" in (
        problems_of(content_dir)
    )


def test_two_checklists_with_the_same_id_or_phrase_are_refused(content_dir: Path) -> None:
    write(content_dir, mini())
    write(content_dir, mini(), name="same-id.yaml")
    write(content_dir, {**mini(), "id": "other"}, name="same-phrase.yaml")
    found = problems_of(content_dir)
    assert any("checklists/same-id.yaml: entry 'mini': field 'id': another file" in p for p in found), found
    assert "checklists/same-phrase.yaml: entry 'other': field 'start_phrases.sv': 'mini' already starts 'mini'" in found


def test_without_a_checklists_folder_there_are_no_walkthroughs(tmp_path: Path) -> None:
    assert len(load_walkthroughs(tmp_path)) == 0
