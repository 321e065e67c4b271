"""Precision on questions made of words the guidance knows but that ask about something else, and the
close topics offered instead; plus colloquial phrasings of covered topics that must still be answered."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge
from tests.knowledge.conftest import LATER

SYNONYMS = "synonyms.yaml"


@pytest.mark.parametrize(
    "question",
    [
        "Hur många anställda har kommunen?",
        "Vilken är kommunens vision?",  # Vision is also a union's name in the guidance
        "Vad gör facket för mig?",
        "Who is the municipal director?",
        "Vem är chef för HR?",
        "What does HR do?",
    ],
)
def test_a_question_only_about_who_or_where_is_not_answered(kb: KnowledgeBase, question: str) -> None:
    """Context words (the municipality, its director, HR, the unions, staff) name no topic of their own."""
    assert not kb.answer(question, today=LATER).answered


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Vad tyckte Vision om distansarbetet?", "distans-2021-facket"),
        ("Vad beslutade kommundirektören om hemarbete?", "hemarbete-2020-beslut"),
        ("Hur snabbt ska kommunens talesperson vara i kommunhuset?", "distans-2021-talesperson"),
    ],
)
def test_context_words_with_a_topic_are_still_answered(kb: KnowledgeBase, question: str, entry_id: str) -> None:
    answer = kb.answer(question, today=LATER)
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == entry_id


def test_a_too_vague_question_still_offers_the_close_topic(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vad gör facket för mig?", today=LATER)
    assert not answer.answered
    assert "distans-2021-facket" in {e.id for e in answer.suggestions}
    assert "1. " in answer.text


def test_the_context_list_is_what_keeps_such_questions_out(
    edit: Callable[[str, str, str], None], content_copy: pathlib.Path
) -> None:
    edit(SYNONYMS, "hr, fack, vision,", "hr, vision,")
    edit(SYNONYMS, "hr, union, vision,", "hr, vision,")
    assert load_knowledge(content_copy).answer("Vad gör facket för mig?", today=LATER).answered


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("får vi jobba hemma vissa dagar", "hemarbete-2020-fordela"),
        ("can we work from home part of the week", "hemarbete-2020-fordela"),
        ("what if a family member gets sick", "ater-sjukdom"),
        ("orkar inte sitta hemma hela tiden, hur håller man motivationen uppe", "motivation-2020"),
    ],
)
def test_colloquial_phrasings_are_answered(kb: KnowledgeBase, question: str, entry_id: str) -> None:
    answer = kb.answer(question, today=LATER)
    assert answer.answered, answer.score
    assert answer.entry is not None
    assert answer.entry.id == entry_id
