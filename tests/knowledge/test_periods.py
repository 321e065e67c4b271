"""A rule whose period has ended must read as history, judged against an injected date."""

from __future__ import annotations

import datetime

import pytest

from bot.knowledge import KnowledgeBase, format_period

D = datetime.date


@pytest.mark.parametrize(
    ("start", "end", "today", "lang", "expected"),
    [
        (D(2020, 3, 17), D(2020, 4, 1), D(2026, 11, 23), "sv", "Gällde 2020-03-17 till 2020-04-01."),
        (D(2020, 3, 17), D(2020, 4, 1), D(2026, 11, 23), "en", "Applied from 2020-03-17 to 2020-04-01."),
        (D(2020, 3, 17), D(2020, 4, 1), D(2020, 3, 20), "sv", "Gäller från 2020-03-17 till 2020-04-01."),
        (D(2020, 3, 17), D(2020, 4, 1), D(2020, 4, 1), "sv", "Gäller från 2020-03-17 till 2020-04-01."),
        (D(2020, 3, 17), D(2020, 4, 1), D(2020, 4, 2), "sv", "Gällde 2020-03-17 till 2020-04-01."),
        (D(2021, 9, 16), None, D(2026, 11, 23), "sv", "Från 2021-09-16; källan anger inget slutdatum."),
        (D(2021, 9, 16), None, D(2026, 11, 23), "en", "From 2021-09-16; the source gives no end date."),
        (D(2021, 9, 16), None, D(2021, 9, 1), "sv", "Gäller från 2021-09-16."),
        (D(2021, 9, 16), None, D(2021, 9, 1), "en", "Applies from 2021-09-16."),
        (None, D(2021, 8, 16), D(2021, 7, 1), "en", "Applies until 2021-08-16."),
        (None, D(2021, 8, 16), D(2021, 9, 1), "sv", "Gällde till 2021-08-16."),
        (None, None, D(2026, 11, 23), "sv", None),
    ],
)
def test_period_line(start: D | None, end: D | None, today: D, lang: str, expected: str | None) -> None:
    assert format_period(start, end, lang, today) == expected


def test_an_ended_rule_says_when_it_applied(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vem bestämde om hemarbete i mars 2020?", today=D(2026, 11, 23))
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == "hemarbete-2020-beslut"
    assert "Gällde 2020-03-17 till 2020-04-01." in answer.text
    assert "Gäller från" not in answer.text


def test_asked_now_the_rule_in_force_last_says_it_has_ended(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vem bestämmer om hemarbete?", today=D(2026, 11, 23))
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id == "distans-2021-vem-beslutar"
    assert "Gällde 2021-09-16 till 2022-09-15." in answer.text
    assert "har upphört" in answer.text
    assert "Gäller från" not in answer.text


def test_the_same_rule_read_while_it_applied_is_current(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vem bestämmer om hemarbete?", today=D(2020, 3, 25))
    assert "Gäller från 2020-03-17 till 2020-04-01." in answer.text
    assert "Gällde" not in answer.text


def test_english_answer_has_english_source_and_period_lines(kb: KnowledgeBase) -> None:
    answer = kb.answer("How long does a spokesperson have to reach the town hall?", today=D(2026, 11, 23))
    assert answer.lang == "en"
    assert "1.5 hours" in answer.text
    assert "Source: Beslut om distansarbete från 16 september 2021" in answer.text
    # KS 2020/218 is the earlier decision's number (2020-10-23), never given as the 2021 decision's own.
    assert "det tidigare beslutet 2020-10-23, dnr KS 2020/218" in answer.text
    assert "ref. KS 2020/218" not in answer.text
    assert "Applied from 2021-09-16 to 2022-09-15." in answer.text


def test_source_line_names_title_date_diarienummer_and_where_to_read(kb: KnowledgeBase) -> None:
    answer = kb.answer("Hur länge gäller beslutet om distansarbete?", today=D(2026, 11, 23))
    assert "Källa: Beslut om distansarbete från 16 september 2021" in answer.text
    assert "(hänvisar till det tidigare beslutet 2020-10-23, dnr KS 2020/218), 2021-06-15" in answer.text
    assert "2021-06-15, dnr" not in answer.text
    assert "Läs mer: information om återgången på HINT" in answer.text


def test_entries_without_a_period_have_no_period_line(kb: KnowledgeBase) -> None:
    entry = kb.get("mote-mikrofon")
    assert entry is not None
    assert entry.period_text("sv", D(2026, 11, 23)) is None
    answer = kb.answer("Ska mikrofonen vara på i Teams-möten?", today=D(2026, 11, 23))
    assert answer.entry is not None
    assert answer.entry.topic == "meetings-and-tips"
    assert "mikrofon" in answer.text
    assert "Gäll" not in answer.text
