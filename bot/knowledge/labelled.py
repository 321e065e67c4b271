"""Labelled questions (content/calibration/*.yaml): what the confidence model is fitted on and compares with.

Each file is a list of questions as people ask them, each with the entries whose answer is right (`ids`,
best first) or `abstain: true` when the guidance does not answer it. They are content like the rest:
validated at start-up, and an id that names no entry is an error.
"""

from __future__ import annotations

import pathlib
from collections.abc import Set

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content_errors import ContentProblem
from bot.content_yaml import parse_yaml, validate

CALIBRATION_DIR = "calibration"


class LabelledQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    ids: list[str] = Field(default_factory=list)
    abstain: bool = False
    must: list[list[str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_label(self) -> LabelledQuestion:
        if self.abstain == bool(self.ids):
            raise ValueError("give either ids (the entries that answer it) or abstain: true")
        return self


class LabelledFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: list[LabelledQuestion]


def labelled_files(content_dir: pathlib.Path) -> list[pathlib.Path]:
    return sorted((content_dir / CALIBRATION_DIR).glob("*.yaml"))


def load_examples(
    content_dir: pathlib.Path, entry_ids: Set[str] | None, problems: list[ContentProblem]
) -> list[tuple[str | None, str]]:
    """(entry id, question) for each labelled question, None as the id of one the guidance does not answer."""
    examples: list[tuple[str | None, str]] = []
    for path in labelled_files(content_dir):
        name = str(path)
        parsed = parse_yaml(path, name, problems)
        if parsed is None:
            continue
        if not isinstance(parsed.data, list):
            problems.append(ContentProblem(name, "", "", "must be a list of questions (- q: …)"))
            continue
        parsed = type(parsed)({"questions": parsed.data}, None)
        doc = validate(LabelledFile, parsed, name, problems)
        if doc is None:
            continue
        for number, item in enumerate(doc.questions):
            unknown = [i for i in item.ids if entry_ids is not None and i not in entry_ids]
            if unknown:
                where = f"questions[{number}]"
                problems.append(ContentProblem(name, where, "ids", f"no knowledge entry has the id {unknown[0]!r}"))
                continue
            examples.append((item.ids[0] if item.ids else None, item.q))
    return examples
