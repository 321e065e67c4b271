"""The shape of the content files, as pydantic models; the loader turns their errors into ContentProblems.

Unknown fields are errors, so that a misspelt field name ("anwser") is caught instead of silently ignored.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _as_date(value: Any) -> datetime.date:
    # YAML reads 2021-09-16 as a date already; accept a quoted ISO date too, but not numbers,
    # which pydantic would otherwise take as seconds since 1970.
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("must be a date written as YYYY-MM-DD")


Date = Annotated[datetime.date, BeforeValidator(_as_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Model):
    """A text in Swedish (required) and English (optional: the Swedish text is shown with a note)."""

    sv: Text
    en: Text | None = None


class Phrasings(_Model):
    sv: list[Text] = Field(min_length=1)
    en: list[Text] = Field(default_factory=list)


class Keywords(_Model):
    sv: list[Text] = Field(default_factory=list)
    en: list[Text] = Field(default_factory=list)


# What an entry is: a rule someone decided (with its period), a step or question of the return plan, advice
# (tips, lessons learned), or what one unit or organisation did (an example, naming whose).
Kind = Literal["decision", "plan", "advice", "example"]


class EntryDoc(_Model):
    id: Id
    kind: Kind
    example_of: Texts | None = None  # whose example, for kind: example ({sv: Kultur- och fritidsförvaltningen, en: …})
    questions: Phrasings
    keywords: Keywords = Field(default_factory=Keywords)
    answer: Texts
    source: Id
    locator: Text  # the section of the source it rests on: "punkt 6", "bilaga 2, bild 'Ambassadörer'"
    period_from: Date | None = None
    period_to: Date | None = None
    review_date: Date
    owner: Text
    related: list[Id] = Field(default_factory=list)
    walkthrough: Id | None = None
    # A later entry that took this rule's place (the decision of 2021 after that of 2020): a question that
    # names no date is answered with the rule in force last, not with this one.
    superseded_by: Id | None = None


class TopicDoc(_Model):
    id: Id
    title: Texts


class KnowledgeFileDoc(_Model):
    topic: TopicDoc
    entries: list[EntryDoc] = Field(min_length=1)


class SourceDoc(_Model):
    id: Id
    title: Text
    date: Date
    where: Text
    where_en: Text | None = None
    diarienummer: Text | None = None
    url: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$")] | None = None


class SourcesFileDoc(_Model):
    sources: list[SourceDoc] = Field(min_length=1)


class SynonymGroupDoc(_Model):
    id: Id
    sv: list[Text] = Field(default_factory=list)
    en: list[Text] = Field(default_factory=list)
    near: list[Id] = Field(default_factory=list)
    # A topic the guidance does not cover (pay, leave): a question that names it is about it, and weighs it double.
    outside: bool = False


class LightWordsDoc(_Model):
    sv: list[Text] = Field(default_factory=list)
    en: list[Text] = Field(default_factory=list)


class SynonymsFileDoc(_Model):
    groups: list[SynonymGroupDoc] = Field(default_factory=list)
    light: LightWordsDoc = Field(default_factory=LightWordsDoc)
    context: LightWordsDoc = Field(default_factory=LightWordsDoc)
