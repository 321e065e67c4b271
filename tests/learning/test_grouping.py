"""Wordings of one question are one group; different questions stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.knowledge import KnowledgeBase
from bot.learning.grouping import group_questions
from bot.learning.store import AskedQuestion


def asked(*texts: str) -> list[AskedQuestion]:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return [AskedQuestion(t, "sv", start - timedelta(hours=n), n == 0) for n, t in enumerate(texts)]


def test_the_issues_example_is_one_line_and_other_questions_stay_apart(kb: KnowledgeBase) -> None:
    groups = group_questions(
        asked(
            "far jag jobba hemma",
            "får jag jobba hemifrån??",
            "Får jag jobba hemma?",
            "kan jag få ersättning för el hemma",
            "vem betalar mitt bredband hemma",
            "hur bokar jag ett mötesrum",
        ),
        kb.concepts,
    )
    first = groups[0]
    assert (first.count, first.label, first.thumbs_down) == (3, "far jag jobba hemma", 1)
    assert sorted(first.wordings) == ["far jag jobba hemifran", "far jag jobba hemma"]
    assert first.last == datetime(2026, 12, 1, tzinfo=UTC)
    assert len(groups) == 4


def test_without_the_matcher_folded_words_and_ngrams_still_group() -> None:
    groups = group_questions(
        asked("Hur bokar jag mötesrummet?", "hur bokar jag ett mötesrum", "hur BOKAR jag ett mötesrum!!")
    )
    assert [g.count for g in groups] == [3]
