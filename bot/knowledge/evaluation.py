"""Labelled question files and what counts as a right answer to one of their questions.

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
from collections.abc import Callable
from dataclasses import dataclass

import yaml

# Every entry of the guidance has ended by then: the date the sets are scored at, so that a score does not
# change with the calendar.
SCORING_DAY = datetime.date(2026, 12, 1)


@dataclass(frozen=True)
class Case:
    question: str
    abstain: bool
    ids: tuple[str, ...] = ()
    must: tuple[tuple[str, ...], ...] = ()

    def accepts(self, entry_id: str | None, text: Callable[[], str]) -> bool:
        """Whether answering with this entry is right; `text` builds the reply only when `must` needs it."""
        if self.abstain or entry_id is None:
            return False
        if self.ids and entry_id not in self.ids:
            return False
        if not self.must:
            return True
        reply = text()
        return all(any(re.search(alt, reply, re.IGNORECASE) for alt in group) for group in self.must)


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
