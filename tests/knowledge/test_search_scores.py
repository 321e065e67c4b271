"""The index's scores are what its definitions say, however the index computes them.

SearchIndex precomputes per-term profiles to score fast. Here every returned candidate's coverage and
closeness are worked out again, slowly, straight from the entries' texts, for random small knowledge
bases and questions: which answer a user gets hangs on these two numbers.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.analysis import QueryTerm
from bot.knowledge.index import (
    ANSWER_STRENGTH,
    NEAR_FACTOR,
    QUESTION_STRENGTH,
    TITLE_STRENGTH,
    EntryTexts,
    SearchIndex,
)

WORDS = [f"w{i}" for i in range(12)]
words = st.lists(st.sampled_from(WORDS), max_size=5)
entries = st.lists(
    st.builds(EntryTexts, phrasings=st.lists(words, min_size=1, max_size=4), answer=words, title=words),
    min_size=1,
    max_size=8,
)
near = st.dictionaries(st.sampled_from(WORDS), st.lists(st.sampled_from(WORDS), max_size=2).map(tuple), max_size=4)
query = st.lists(
    st.builds(
        QueryTerm,
        term=st.one_of(st.none(), st.sampled_from([*WORDS, "unknown"])),
        weight=st.sampled_from([1.0, 0.5, 0.3]),
        quality=st.sampled_from([1.0, 0.95, 0.7]),
        token=st.just("t"),
    ),
    min_size=1,
    max_size=5,
)


def strength(entry: EntryTexts, term: str) -> float:
    if any(term in phrasing for phrasing in entry.phrasings):
        return QUESTION_STRENGTH
    return max(ANSWER_STRENGTH if term in entry.answer else 0.0, TITLE_STRENGTH if term in entry.title else 0.0)


@settings(max_examples=300, deadline=None)
@given(entries=entries, near=near, question=query)
def test_each_candidates_coverage_and_closeness_follow_their_definitions(
    entries: list[EntryTexts], near: dict[str, tuple[str, ...]], question: list[QueryTerm]
) -> None:
    index = SearchIndex(entries, near=near)
    total = len(entries)
    df = {w: sum(1 for e in entries if strength(e, w) > 0) for w in WORDS}
    unknown_idf = math.log(1.0 + total)

    def idf(term: str) -> float:
        return math.log(1.0 + total / df[term]) if df.get(term) else unknown_idf

    merged: dict[str, tuple[float, float]] = {}
    for q in question:
        if q.term is not None:
            w, k = merged.get(q.term, (0.0, 0.0))
            merged[q.term] = (max(w, q.weight), max(k, q.quality))
    unknown_weight = sum(q.weight for q in question if q.term is None)
    total_weight = sum(w for w, _ in merged.values()) + unknown_weight
    query_mass = sum(idf(t) for t in merged) + unknown_weight * unknown_idf

    def alternatives(term: str) -> list[tuple[str, float]]:
        return [(term, 1.0), *((other, NEAR_FACTOR) for other in near.get(term, ()))]

    for scored in index.search(question):
        entry = entries[scored.index]
        explained = sum(
            w * k * max(f * strength(entry, alt) for alt, f in alternatives(t)) for t, (w, k) in merged.items()
        )
        assert scored.coverage == _close(explained / total_weight)
        best = 0.0
        for phrasing in {frozenset(p) for p in entry.phrasings if p}:
            shared = overlap = 0.0
            for t, (_, k) in merged.items():
                found = next(((alt, f) for alt, f in alternatives(t) if alt in phrasing), None)
                if found is not None:
                    shared += idf(t) * k * found[1]
                    overlap += idf(found[0]) if df.get(found[0]) else 0.0
            union = query_mass + max(0.0, sum(idf(u) for u in phrasing) - overlap)
            best = max(best, shared / union if union > 0 else 0.0)
        assert scored.closeness == _close(best)


def _close(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-12)
