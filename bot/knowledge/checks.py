"""Content rules that need more than the schema: what an entry's kind demands, and the tense of ended rules.

A decision must say when it applied; an example must say whose it is. An answer about a period that has ended
must read as history: a sentence with "gäller", "ska" or "får" (English: "applies", "must") and no past-tense
or today marker ("gällde", "skulle", "fick", "var", …, "i dag") is flagged. The tense check is a heuristic
and depends on the date, so `check-content` runs it (and refuses), not the service's start-up.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from bot.content_errors import ContentProblem
from bot.knowledge.models import Entry

PRESENT = {
    "sv": re.compile(r"\b(gäller|ska|får)\b", re.IGNORECASE),
    "en": re.compile(r"\b(applies|must)\b", re.IGNORECASE),
}
# A sentence with one of these is read as past (or as explicitly about today), not as an ended rule in force.
MARKERS = {
    "sv": re.compile(
        r"\b(gällde|skulle|fick|fått|var|varit|hade|kunde|beslutade|beslöts|infördes|pausades|angavs|"
        r"i dag|idag|numera|längre)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(r"\b(applied|had|could|was|were|did|would|today|now|no longer)\b", re.IGNORECASE),
}
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")


def kind_problems(item: Any, path: str) -> list[ContentProblem]:
    """A decision without a period, an example without whose it is (or a name on what is not an example)."""
    problems: list[ContentProblem] = []
    if item.kind == "decision" and item.period_from is None and item.period_to is None:
        problems.append(
            ContentProblem(path, item.id, "period_from", "a decision needs its period: period_from and/or period_to")
        )
    if item.kind == "example" and not item.example_of:
        problems.append(ContentProblem(path, item.id, "example_of", "an example must name whose example it is"))
    if item.kind != "example" and item.example_of:
        problems.append(ContentProblem(path, item.id, "example_of", "only an entry of kind example names whose it is"))
    return problems


def present_tense_sentences(text: str, lang: str) -> list[str]:
    """The sentences of `text` that state a rule in the present tense with nothing to place them in the past."""
    present, markers = PRESENT.get(lang), MARKERS.get(lang)
    if present is None or markers is None:
        return []
    return [s.strip() for s in _SENTENCE.split(text) if present.search(s) and not markers.search(s)]


def tense_problems(entries: Iterable[Entry], today: datetime.date) -> list[ContentProblem]:
    """Answers to periods that ended before `today` but still read as if the rule applied."""
    problems: list[ContentProblem] = []
    for entry in entries:
        if entry.period_to is None or entry.period_to >= today:
            continue
        for lang, text in entry.answer.items():
            for sentence in present_tense_sentences(text, lang):
                problems.append(
                    ContentProblem(
                        entry.file,
                        entry.id,
                        f"answer.{lang}",
                        f"the period ended {entry.period_to}, but this reads as if it still applied: {sentence!r}; "
                        "write ended rules in the past tense (gällde, skulle, fick) or say it is about today",
                    )
                )
    return problems
