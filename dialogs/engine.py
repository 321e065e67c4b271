"""Pure interpretation of a walkthrough: which question comes next, and what the answers add up to.

Progress is only the list of answers; the current question and the result are derived from it,
so "back" is dropping the last answer and an edited checklist is handled by replaying.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dialogs.definitions import Choice, Question, Walkthrough
from dialogs.texts import wt

NOT_RELEVANT = "not_relevant"
LATER = "later"
MAX_NOTE = 1000  # characters kept of a note; a plan needs no more


@dataclass(frozen=True)
class Answer:
    """One answer: a choice id, a note, or a mark ("not_relevant" / "later")."""

    question: str
    choice: str | None = None
    note: str | None = None
    mark: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, raw: Any) -> Answer | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
            return None
        values = {k: raw.get(k) for k in ("choice", "note", "mark")}
        if any(v is not None and not isinstance(v, str) for v in values.values()):
            return None
        return cls(question=raw["question"], **values)


def choice_of(question: Question, choice_id: str | None) -> Choice | None:
    return next((c for c in question.choices if c.id == choice_id), None)


def is_valid(w: Walkthrough, answer: Answer) -> bool:
    """Whether `answer` is a possible answer to its question as the definition stands now."""
    if not w.has_question(answer.question):
        return False
    q = w.question(answer.question)
    if q.kind != "note":
        return choice_of(q, answer.choice) is not None and answer.note is None and answer.mark is None
    if answer.choice is not None:
        return False
    if answer.mark is not None:
        return answer.note is None and (
            (answer.mark == NOT_RELEVANT and q.not_relevant) or (answer.mark == LATER and q.later)
        )
    return bool(answer.note and answer.note.strip())


def next_after(w: Walkthrough, answer: Answer) -> str | None:
    q = w.question(answer.question)
    return w.next_of(q, choice_of(q, answer.choice))


def replay(w: Walkthrough, raw_answers: list[Any]) -> tuple[list[Answer], str | None]:
    """The answers that still fit the definition, and the question to ask now (None: finished)."""
    kept: list[Answer] = []
    current: str | None = w.start
    for raw in raw_answers:
        answer = Answer.from_dict(raw)
        if current is None or answer is None or answer.question != current or not is_valid(w, answer):
            break
        kept.append(answer)
        current = next_after(w, answer)
    return kept, current


@dataclass
class AnswerLine:
    section: str
    question: str
    answer: str


@dataclass
class Result:
    """A finished walkthrough, rendered in the manager's language; all that is kept of it."""

    walkthrough_id: str
    lang: str
    title: str
    outcome: str | None = None
    summary: str | None = None
    reasons: list[str] = field(default_factory=list)
    actions_heading: str = ""
    actions: list[str] = field(default_factory=list)
    answers: list[AnswerLine] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    source: str = ""  # the walkthrough's source line; empty in results saved before it had one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        data = dict(raw)
        data["answers"] = [AnswerLine(**line) for line in data.get("answers", [])]
        return cls(**data)


def label_of(w: Walkthrough, answers: list[Answer]) -> str | None:
    """What the manager called the subject (a role, a person, a unit), if they said."""
    for answer in answers:
        if answer.question == w.label_question and answer.note:
            return answer.note
    return None


def compose_result(w: Walkthrough, answers: list[Answer], lang: str) -> Result:
    label = label_of(w, answers)
    title = w.result.title.get(lang).format(label=label) if label else w.title.get(lang)
    result = Result(
        walkthrough_id=w.id,
        lang=lang,
        title=title,
        actions_heading=(w.result.actions_heading.get(lang) if w.result.actions_heading else wt("actions", lang)),
        reminders=[r.get(lang) for r in w.result.reminders],
        source=w.source.get(lang),
    )
    ranks = {o.id: i for i, o in enumerate(w.outcomes)}
    worst: int | None = None
    for answer in answers:
        q = w.question(answer.question)
        section = w.section(q.section)
        choice = choice_of(q, answer.choice)
        if choice is not None:
            text = choice.text.get(lang)
            if choice.outcome is not None:
                worst = max(worst if worst is not None else -1, ranks[choice.outcome])
            result.reasons += [r.get(lang) for r in choice.reasons]
            result.actions += [a.get(lang) for a in choice.actions]
        elif answer.mark == NOT_RELEVANT:
            text = wt("not_relevant", lang)
        elif answer.mark == LATER:
            text = wt("later", lang)
            result.actions.append(wt("open_item_later", lang, item=q.label(lang)))
        else:
            text = answer.note or ""
        result.answers.append(AnswerLine(section.title.get(lang) if section else "", q.label(lang), text))
    if w.outcomes:
        default = ranks.get(w.result.default_outcome or "", 0)
        outcome = w.outcomes[worst if worst is not None else default]
        result.outcome = outcome.text.get(lang)
        summary = outcome.summary.get(lang) if outcome.summary else None
        result.summary = summary.format(label=label or w.title.get(lang)) if summary else None
    result.reasons = list(dict.fromkeys(result.reasons))
    result.actions = list(dict.fromkeys(result.actions))
    return result
