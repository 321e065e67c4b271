"""Scoring the question answering on labelled question files, in process.

Two kinds of file share one format (a YAML list):
- question sets (`tests/knowledge/qa-*.yaml`, `../shared/eval/qa-dev.yaml`): `q`, and `must` (groups of regular
  expressions that the answer text must match) or `abstain: true`;
- labelled files for calibration (`content/calibration/*.yaml`): `q`, and `ids` (the entries whose answer is a
  right answer, best first) or `abstain: true`.
A case may carry both `must` and `ids`; then both must hold.
"""

from __future__ import annotations

import datetime
import pathlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from bot.knowledge.base import KnowledgeBase
    from bot.knowledge.models import Answer

# Every entry of the guidance has ended by then: the date the sets are scored at, so that a score does not
# change with the calendar.
SCORING_DAY = datetime.date(2026, 12, 1)


@dataclass(frozen=True)
class Case:
    question: str
    abstain: bool
    ids: tuple[str, ...] = ()
    must: tuple[tuple[str, ...], ...] = ()

    def is_right(self, answer: Answer) -> bool:
        if self.abstain:
            return not answer.answered
        if not answer.answered or answer.entry is None:
            return False
        if self.ids and answer.entry.id not in self.ids:
            return False
        return all(any(re.search(alt, answer.text, re.IGNORECASE) for alt in group) for group in self.must)


def load_cases(path: pathlib.Path) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Case(
            question=str(item["q"]),
            abstain=bool(item.get("abstain")),
            ids=tuple(item.get("ids") or ()),
            must=tuple(tuple(group) for group in item.get("must") or ()),
        )
        for item in raw
    ]


@dataclass(frozen=True)
class SetScore:
    name: str
    in_scope: int
    in_scope_right: int
    outside: int
    outside_right: int
    misses: tuple[str, ...]

    @property
    def answered_share(self) -> float:
        return self.in_scope_right / self.in_scope if self.in_scope else 1.0

    @property
    def abstained_share(self) -> float:
        return self.outside_right / self.outside if self.outside else 1.0

    @property
    def mean(self) -> float:
        return (self.answered_share + self.abstained_share) / 2


def score_cases(kb: KnowledgeBase, name: str, cases: Sequence[Case], today: datetime.date = SCORING_DAY) -> SetScore:
    in_scope = in_right = outside = out_right = 0
    misses: list[str] = []
    for case in cases:
        right = case.is_right(kb.answer(case.question, today=today))
        if case.abstain:
            outside += 1
            out_right += right
        else:
            in_scope += 1
            in_right += right
        if not right:
            misses.append(case.question)
    return SetScore(name, in_scope, in_right, outside, out_right, tuple(misses))


def score_files(kb: KnowledgeBase, paths: Iterable[pathlib.Path]) -> list[SetScore]:
    return [score_cases(kb, path.stem, load_cases(path)) for path in paths]


def format_scores(scores: Sequence[SetScore]) -> str:
    lines = [f"{'set':<28} {'in scope':>10} {'answered':>9} {'outside':>8} {'declined':>9}"]
    for s in scores:
        lines.append(f"{s.name:<28} {s.in_scope:>10} {s.answered_share:>9.2f} {s.outside:>8} {s.abstained_share:>9.2f}")
    return "\n".join(lines)
