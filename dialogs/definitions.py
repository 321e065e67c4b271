"""Walkthrough definitions: the YAML in content/checklists/, checked at start-up so HR can edit it safely."""

from __future__ import annotations

import logging
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from bot.content_errors import ContentError, ContentProblem
from bot.content_yaml import parse_yaml, validate

log = logging.getLogger(__name__)

END = "end"  # a `next` that finishes the walkthrough and shows the result
SLUG = r"^[a-z0-9][a-z0-9_-]*$"
MAX_CHOICES = 5  # Teams shows at most five or six buttons in a row; more would be cut off
PLACEHOLDERS = {"label"}  # what result texts may contain, e.g. "{label}"


class Text(BaseModel):
    """A text users read: Swedish required, English recommended (Swedish is shown when it is missing)."""

    model_config = ConfigDict(extra="forbid")
    sv: str = Field(min_length=1)
    en: str | None = None

    @field_validator("sv", "en")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value else value

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" else None) or self.sv


class Choice(BaseModel):
    """One button of a choice question, with where it leads and what it adds to the result."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    text: Text
    aliases: list[str] = []  # more words a user may type for this choice, any language
    next: str | None = None  # a question id or "end"; default: the question's `next`
    outcome: str | None = None  # an outcome id; the worst outcome of all answers wins
    reasons: list[Text] = []
    actions: list[Text] = []


class Branch(BaseModel):
    """What a yes or a no of a yes/no question leads to."""

    model_config = ConfigDict(extra="forbid")
    next: str | None = None
    outcome: str | None = None
    reasons: list[Text] = []
    actions: list[Text] = []


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    kind: Literal["choice", "yesno", "note"]
    text: Text
    help: Text
    summary: Text | None = None  # a short label for the result; default: the question text
    section: str | None = None
    choices: list[Choice] = []  # kind choice
    if_yes: Branch | None = None  # kind yesno
    if_no: Branch | None = None  # kind yesno
    not_relevant: bool = True  # kind note: offer "not relevant"
    later: bool = False  # kind note: offer "decide later", which becomes an open item
    next: str | None = None  # default: the question after this one in the file, or the end

    def label(self, lang: str) -> str:
        return (self.summary or self.text).get(lang)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    title: Text
    intro: Text | None = None  # shown above the section's first question


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    text: Text  # e.g. "Lämpligt för hemarbete"
    summary: Text | None = None  # a sentence under it; may contain {label}


class Phrases(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sv: list[str] = Field(min_length=1)
    en: list[str] = []


class ResultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text  # may contain {label}
    actions_heading: Text | None = None  # default "Åtgärder"
    reminders: list[Text] = []
    default_outcome: str | None = None  # when no answer gave an outcome; default: the first (best)


class Walkthrough(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    title: Text
    description: Text
    intro: Text
    # The document and section the walkthrough rests on, with its date and period, shown when it starts and
    # in the result ("Källa: …"), so that a manager sees what the checklist is and whether it still applies.
    source: Text
    start_phrases: Phrases
    label_question: str | None = None  # a note question whose answer names the result
    sections: list[Section] = []
    outcomes: list[Outcome] = []  # best first
    questions: list[Question] = Field(min_length=1)
    result: ResultSpec
    _by_id: dict[str, Question] = PrivateAttr(default_factory=dict)

    # ---- derived, after validation ------------------------------------------------------

    def model_post_init(self, _context: Any) -> None:
        for question in self.questions:
            if question.kind == "yesno" and not question.choices:
                question.choices = [_yesno_choice("yes", question.if_yes), _yesno_choice("no", question.if_no)]
        self._by_id = {q.id: q for q in self.questions}

    @property
    def start(self) -> str:
        return self.questions[0].id

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def next_of(self, question: Question, choice: Choice | None = None) -> str | None:
        """The next question id after answering `question` (with `choice`), or None at the end."""
        target = (choice.next if choice else None) or question.next
        if target is None:
            index = self.questions.index(question)
            target = self.questions[index + 1].id if index + 1 < len(self.questions) else END
        return None if target == END else target

    def outcome(self, outcome_id: str) -> Outcome:
        return next(o for o in self.outcomes if o.id == outcome_id)

    def section(self, section_id: str | None) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)


YES_NO_TEXT = {
    "yes": (Text(sv="Ja", en="Yes"), ["ja", "j", "yes", "y", "japp", "jo"]),
    "no": (Text(sv="Nej", en="No"), ["nej", "n", "no", "nä", "nope"]),
}


def _yesno_choice(choice_id: str, branch: Branch | None) -> Choice:
    text, aliases = YES_NO_TEXT[choice_id]
    branch = branch or Branch()
    return Choice(id=choice_id, text=text, aliases=aliases, **branch.model_dump(exclude_none=True))


@dataclass
class WalkthroughCatalog:
    """Every walkthrough by id, in file order."""

    walkthroughs: dict[str, Walkthrough] = field(default_factory=dict)

    def get(self, walkthrough_id: str) -> Walkthrough | None:
        return self.walkthroughs.get(walkthrough_id)

    def __iter__(self) -> Iterator[Walkthrough]:
        return iter(self.walkthroughs.values())

    def __len__(self) -> int:
        return len(self.walkthroughs)


def load_walkthroughs(content_dir: Path) -> WalkthroughCatalog:
    """Read content/checklists/*.yaml; raises ContentError naming every problem found."""
    folder = Path(content_dir) / "checklists"
    if not folder.is_dir():
        log.warning("no walkthroughs: folder missing", extra={"folder": str(folder)})
        return WalkthroughCatalog()
    problems: list[ContentProblem] = []
    catalog = WalkthroughCatalog()
    phrase_owner: dict[str, str] = {}
    for path in sorted(folder.glob("*.y*ml")):
        name = path.relative_to(content_dir).as_posix()
        walkthrough = _parse_file(path, name, problems)
        if walkthrough is None:
            continue
        found = check_walkthrough(walkthrough, name)
        if walkthrough.id in catalog.walkthroughs:
            found.append(ContentProblem(name, walkthrough.id, "id", "another file already uses this walkthrough id"))
        for lang, phrases in (("sv", walkthrough.start_phrases.sv), ("en", walkthrough.start_phrases.en)):
            for phrase in phrases:
                key = " ".join(phrase.lower().split())
                if phrase_owner.setdefault(key, walkthrough.id) != walkthrough.id:
                    found.append(
                        ContentProblem(
                            name,
                            walkthrough.id,
                            f"start_phrases.{lang}",
                            f"{phrase!r} already starts {phrase_owner[key]!r}",
                        )
                    )
        problems.extend(found)
        if not found:
            catalog.walkthroughs[walkthrough.id] = walkthrough
    if problems:
        raise ContentError(problems)
    log.info("walkthroughs loaded", extra={"count": len(catalog)})
    return catalog


def _parse_file(path: Path, name: str, problems: list[ContentProblem]) -> Walkthrough | None:
    parsed = parse_yaml(path, name, problems)
    if parsed is None:
        return None
    if not isinstance(parsed.data, dict):
        problems.append(ContentProblem(name, "", "", "must be a mapping with id, title, questions …"))
        return None
    return validate(Walkthrough, parsed, name, problems, entry=str(parsed.data.get("id", "")))


def check_walkthrough(w: Walkthrough, name: str) -> list[ContentProblem]:
    """The checks a schema cannot express: references, kinds, reachability, loops, placeholders."""
    problems: list[ContentProblem] = []

    def problem(entry: str, where: str, message: str) -> None:
        problems.append(ContentProblem(name, entry, where, message))

    seen: set[str] = set()
    for index, q in enumerate(w.questions):
        if q.id == END:
            problem(q.id, "id", f"{END!r} is reserved for the end of the walkthrough")
        if q.id in seen:
            problem(q.id, f"questions[{index}].id", "duplicate question id")
        seen.add(q.id)
    section_ids = [s.id for s in w.sections]
    outcome_ids = [o.id for o in w.outcomes]
    for label, ids in (("sections", section_ids), ("outcomes", outcome_ids)):
        for dup in {i for i in ids if ids.count(i) > 1}:
            problem(w.id, label, f"duplicate id {dup!r}")

    def check_target(entry: str, where: str, target: str | None) -> None:
        if target is not None and target != END and target not in seen:
            problem(entry, where, f"points to a question {target!r} that does not exist")

    def check_outcome(entry: str, where: str, outcome: str | None) -> None:
        if outcome is not None and outcome not in outcome_ids:
            problem(entry, where, f"unknown outcome {outcome!r}; known: {', '.join(outcome_ids) or 'none'}")

    for q in w.questions:
        check_target(q.id, "next", q.next)
        if q.section is not None and q.section not in section_ids:
            problem(q.id, "section", f"unknown section {q.section!r}")
        if q.kind == "choice":
            if len(q.choices) < 2:
                problem(q.id, "choices", "a choice question needs at least two choices")
            if len(q.choices) > MAX_CHOICES:
                problem(q.id, "choices", f"at most {MAX_CHOICES} choices fit as buttons in Teams")
            choice_ids = [c.id for c in q.choices]
            for dup in {c for c in choice_ids if choice_ids.count(c) > 1}:
                problem(q.id, "choices", f"duplicate choice id {dup!r}")
        elif q.kind == "note" and (q.choices or q.if_yes or q.if_no):
            problem(q.id, "choices", "a note question has no choices")
        if q.kind != "yesno" and (q.if_yes or q.if_no):
            problem(q.id, "if_yes", "only a yesno question has if_yes/if_no")
        if q.kind == "yesno" and any(c.id not in ("yes", "no") for c in q.choices):
            problem(q.id, "choices", "a yesno question takes if_yes/if_no, not choices")
        for i, c in enumerate(q.choices):
            field_name = f"if_{c.id}" if q.kind == "yesno" else f"choices[{i}]"
            check_target(q.id, f"{field_name}.next", c.next)
            check_outcome(q.id, f"{field_name}.outcome", c.outcome)
    check_outcome(w.id, "result.default_outcome", w.result.default_outcome)
    if w.label_question is not None and (w.label_question not in seen or w.question(w.label_question).kind != "note"):
        problem(w.id, "label_question", f"{w.label_question!r} is not a note question of this walkthrough")
    texts = [("result.title", w.result.title)] + [(f"outcomes.{o.id}.summary", o.summary) for o in w.outcomes]
    for where, text in texts:
        for value in (text.sv, text.en) if text else ():
            bad = _unknown_placeholders(value or "")
            if bad:
                problem(w.id, where, f"unknown placeholder {{{bad}}}; only {{label}} may be used")
    if not problems:
        problems += _check_graph(w, name)
    return problems


def _unknown_placeholders(text: str) -> str | None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError:
        return "…"  # an unpaired brace
    return next((f for f in fields if f not in PLACEHOLDERS), None)


def _check_graph(w: Walkthrough, name: str) -> list[ContentProblem]:
    """Every question reachable from the first, and no answer path that comes back to itself."""
    problems: list[ContentProblem] = []

    def targets(q: Question) -> list[str]:
        nexts = [w.next_of(q, c) for c in q.choices] if q.choices else [w.next_of(q)]
        return [t for t in dict.fromkeys(nexts) if t is not None]

    reached: set[str] = set()
    stack = [w.start]
    while stack:
        qid = stack.pop()
        if qid not in reached:
            reached.add(qid)
            stack.extend(targets(w.question(qid)))
    for q in w.questions:
        if q.id not in reached:
            problems.append(ContentProblem(name, q.id, "id", "no answer leads to this question"))

    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(qid: str, path: list[str]) -> None:
        state[qid] = 1
        for target in targets(w.question(qid)):
            if state.get(target) == 1:
                full = [*path, qid]
                loop = " -> ".join([*full[full.index(target) :], target])
                problems.append(ContentProblem(name, qid, "next", f"answers loop back: {loop}"))
            elif target not in state:
                visit(target, [*path, qid])
        state[qid] = 2

    visit(w.start, [])
    return problems
