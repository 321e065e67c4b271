"""What the rest of the bot sees of the knowledge base: sources, entries, topics and answers.

These are plain frozen dataclasses built once from the validated YAML; nothing here reads files or the clock.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """A document the guidance is written from, and where an employee can read it."""

    id: str
    title: str
    date: datetime.date
    where: str
    diarienummer: str | None = None
    url: str | None = None
    where_en: str | None = None

    def where_text(self, lang: str) -> str:
        return self.where_en if lang == "en" and self.where_en else self.where


KINDS = ("decision", "plan", "advice", "example")
_KIND_LABELS = {
    "decision": {"sv": "Beslut", "en": "Decision"},
    "plan": {"sv": "Plan", "en": "Plan"},
    "advice": {"sv": "Tips", "en": "Advice"},
}
_EXAMPLE_FROM = {"sv": "Exempel från ", "en": "Example from "}


def kind_label(kind: str, lang: str, example_of: dict[str, str] | None = None) -> str:
    """The kind in a word, as the answer card shows it: "Beslut", "Plan", "Tips", "Exempel från …"."""
    lang = "en" if lang == "en" else "sv"
    if kind == "example":
        whose = (example_of or {}).get(lang) or (example_of or {}).get("sv", "")
        return _EXAMPLE_FROM[lang] + whose
    return _KIND_LABELS[kind][lang]


def is_kind_label(text: str) -> bool:
    """Whether a line of an answer is its kind label (the card shows it as a caption)."""
    text = text.strip()
    return any(text in labels.values() for labels in _KIND_LABELS.values()) or text.startswith(
        tuple(_EXAMPLE_FROM.values())
    )


@dataclass(frozen=True, eq=False)
class Entry:
    """One question-and-answer of the guidance. Treat its lists and dicts as read-only."""

    id: str
    topic: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    source: Source
    review_date: datetime.date
    owner: str
    period_from: datetime.date | None = None
    period_to: datetime.date | None = None
    related: list[str] = field(default_factory=list)
    walkthrough: str | None = None
    keywords: dict[str, list[str]] = field(default_factory=dict)
    file: str = ""
    kind: str = "advice"  # decision | plan | advice | example
    example_of: dict[str, str] | None = None  # for an example: whose, {"sv": …, "en": …}
    locator: str = ""  # the section of the source the entry rests on ("punkt 6")
    superseded_by: str | None = None  # the entry that took this rule's place

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def question(self, lang: str) -> str:
        """The canonical phrasing, shown as a suggestion: the first question in that language, else Swedish."""
        phrasings = self.questions.get(lang) or self.questions["sv"]
        return phrasings[0]

    def answer_text(self, lang: str) -> str:
        """The answer in that language; Swedish with a note when the entry has no English text."""
        if lang == "en" and not self.answer.get("en"):
            return f"{self.answer['sv']}\n(This answer is only available in Swedish.)"
        return self.answer.get(lang) or self.answer["sv"]

    def kind_text(self, lang: str) -> str:
        """The kind in a word: Beslut, Plan, Tips or Exempel från … (Decision, Plan, Advice, Example from …)."""
        return kind_label(self.kind, lang, self.example_of)

    def period_text(self, lang: str, today: datetime.date) -> str | None:
        """The line that tells whether the rule still applies, or None when the source gives no period."""
        return format_period(self.period_from, self.period_to, lang, today)


def format_period(
    start: datetime.date | None, end: datetime.date | None, lang: str, today: datetime.date
) -> str | None:
    """A rule whose period has ended is described in the past tense, so that nobody takes it as current."""
    if start is None and end is None:
        return None
    en = lang == "en"
    if end is not None and end < today:
        if start is None:
            return f"Applied until {end}." if en else f"Gällde till {end}."
        return f"Applied from {start} to {end}." if en else f"Gällde {start} till {end}."
    if start is None:
        return f"Applies until {end}." if en else f"Gäller till {end}."
    if end is None:
        if start <= today:  # begun, and the source names no end: do not claim that it still applies
            return (
                f"From {start}; the source gives no end date." if en else f"Från {start}; källan anger inget slutdatum."
            )
        return f"Applies from {start}." if en else f"Gäller från {start}."
    return f"Applies from {start} to {end}." if en else f"Gäller från {start} till {end}."


@dataclass(frozen=True, eq=False)
class Topic:
    """A group of entries for the "ämnen"/"topics" command; one topic per knowledge file."""

    id: str
    title: dict[str, str]
    entries: list[Entry]


@dataclass(frozen=True)
class Answer:
    """The reply to one question, ready to show, plus what the bot needs for logging and suggestions."""

    question: str
    lang: str
    answered: bool
    entry: Entry | None
    score: float
    text: str
    suggestions: list[Entry]
