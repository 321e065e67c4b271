"""Similar wordings of one question grouped into one line: "far jag jobba hemma" and "får jag jobba hemma??".

Two questions are one when their folded, lower-cased, punctuation-free words are the same, when their
character n-grams (bot.knowledge.ngrams.pieces) are close by cosine similarity, or when the matcher reads the
same concepts in both (at least two: "hemma" and "hemifrån" are both `home`), which n-grams of different word
forms miss.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.knowledge.ngrams import pieces, text_key
from bot.learning.store import AskedQuestion

SIMILAR = 0.6  # cosine of the n-gram counts at and above which two wordings are one question


@dataclass
class QuestionGroup:
    key: str  # the folded words of the first (newest) wording
    wordings: dict[str, tuple[str, str]] = field(default_factory=dict)  # text_key -> (lang, wording as typed)
    count: int = 0
    last: datetime | None = None
    thumbs_down: int = 0
    _grams: Counter[str] = field(default_factory=Counter, repr=False)
    _concepts: frozenset[str] = field(default_factory=frozenset, repr=False)

    @property
    def label(self) -> str:
        """The wording shown: the one asked last."""
        return next(iter(self.wordings.values()))[1]


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(g, 0) for g, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def group_questions(
    questions: list[AskedQuestion], concepts: Callable[[str, str], frozenset[str]] | None = None
) -> list[QuestionGroup]:
    """Groups, most asked first (then latest); questions are expected newest first. `concepts` reads what a
    wording is about (KnowledgeBase.concepts)."""
    groups: list[QuestionGroup] = []
    by_key: dict[str, QuestionGroup] = {}
    for question in questions:
        key = text_key(question.text)
        if not key:
            continue
        group = by_key.get(key)
        if group is None:
            grams = pieces(question.text)
            about = concepts(question.text, question.lang) if concepts else frozenset()
            group = max(groups, key=lambda g: _cosine(grams, g._grams), default=None)
            if group is None or _cosine(grams, group._grams) < SIMILAR:
                group = next((g for g in groups if len(about) >= 2 and g._concepts == about), None)
            if group is None:
                group = QuestionGroup(key=key, _grams=grams, _concepts=about)
                groups.append(group)
            by_key[key] = group
        group.wordings.setdefault(key, (question.lang, question.text.strip()))
        group.count += 1
        group.thumbs_down += question.thumbs_down
        if group.last is None or question.at > group.last:
            group.last = question.at
    groups.sort(key=lambda g: (-g.count, -(g.last.timestamp() if g.last else 0.0)))
    return groups
