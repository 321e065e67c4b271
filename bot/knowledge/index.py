"""The precomputed search index and its scoring.

Confidence is not "the best overlap": it is how much of the question's meaningful content the entry
explains (coverage), blended with how close the question is to one of the entry's own phrasings.
"Vad kostar det att parkera vid kommunhuset?" shares "kommunhuset" with an entry, but "kostar" and
"parkera" are unexplained, so the confidence stays low and the bot abstains.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.knowledge.analysis import QueryTerm

# How strongly an entry "knows" a term, by where the term appears.
QUESTION_STRENGTH = 1.0
ANSWER_STRENGTH = 0.8
TITLE_STRENGTH = 0.5

NEAR_FACTOR = 0.7  # a "near" synonym (hemma for distans) explains a word this much
COVERAGE_SHARE = 0.65  # the rest of the confidence comes from the closest phrasing
# A question made only of words that half the guidance uses ("jobb", "chef") is too vague to answer
# with confidence: below this much specificity (summed idf, scaled to 0..1) the confidence shrinks.
SPECIFIC_ENOUGH = 0.45
CANDIDATES = 20
POSTINGS_BUDGET = 3000  # posting entries walked per question before common terms are deferred
SHORTLIST = 300  # candidates that deferred common terms are added to


@dataclass(frozen=True)
class EntryTexts:
    """The analysed texts of one entry, as input to the index."""

    phrasings: list[list[str]]  # terms of each question (both languages) and of the keywords
    answer: list[str]
    title: list[str]


@dataclass(slots=True)
class Scored:
    index: int
    score: float
    coverage: float
    closeness: float
    relevance: float = 0.0  # the score before the vagueness discount: how close a topic it is


class SearchIndex:
    """An inverted index from terms to entries, with per-entry term strengths and phrasings."""

    def __init__(
        self,
        entries: Sequence[EntryTexts],
        near: Mapping[str, tuple[str, ...]] | None = None,
        context: Iterable[str] = (),
    ) -> None:
        self._near = dict(near or {})
        self._context = frozenset(context)
        self._size = len(entries)
        raw_phrasings: list[list[frozenset[str]]] = []
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, texts in enumerate(entries):
            strength: dict[str, float] = {}
            for term in texts.title:
                strength[term] = max(strength.get(term, 0.0), TITLE_STRENGTH)
            for term in texts.answer:
                strength[term] = max(strength.get(term, 0.0), ANSWER_STRENGTH)
            for phrasing in texts.phrasings:
                for term in phrasing:
                    strength[term] = QUESTION_STRENGTH
            raw_phrasings.append([frozenset(p) for p in texts.phrasings if p])
            for term, value in strength.items():
                postings[term].append((number, value))
        total = max(len(entries), 1)
        # Strongest first (the term in a question before the term in an answer), so that a capped walk
        # of a very long list keeps the entries where the term matters most.
        self._postings = {term: tuple(sorted(hits, key=lambda h: -h[1])) for term, hits in postings.items()}
        self._idf = {term: math.log(1.0 + total / len(hits)) for term, hits in postings.items()}
        self._unknown_idf = math.log(1.0 + total)
        # Each phrasing's summed idf, for the weighted Jaccard of _closeness, and which phrasings hold a term.
        self._phrasing_mass: list[tuple[float, ...]] = [
            tuple(sum(self._idf[t] for t in p) for p in phrasings) for phrasings in raw_phrasings
        ]
        in_phrasings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for number, phrasings in enumerate(raw_phrasings):
            for position, held in enumerate(phrasings):
                for term in held:
                    in_phrasings[term].append((number, position))
        self._in_phrasings = dict(in_phrasings)
        # What each term (with its near synonyms) means to every entry, worked out on first use: a
        # question is scored by looking these up instead of walking every candidate's phrasings.
        self._profiles: dict[str, _Profile] = {}

    def __len__(self) -> int:
        return self._size

    def search(self, query: Sequence[QueryTerm], limit: int = CANDIDATES) -> list[Scored]:
        """Entries ranked by confidence; an empty list when no word of the question is known."""
        known = _merge(query)
        unknown_weight = sum(q.weight for q in query if q.term is None)
        if not known:
            return []
        idf, unknown_idf = self._idf, self._unknown_idf
        total_weight = sum(w for w, _ in known.values()) + unknown_weight
        # Per question, once: each term's profile (itself, then its near synonyms; see _Profile) and its idf.
        terms = [
            _Term(term, weight, quality, idf.get(term, unknown_idf), self._profile(term))
            for term, (weight, quality) in known.items()
        ]
        scores: dict[int, float] = defaultdict(float)
        deferred: list[_Term] = []
        touched = 0
        # Rarest terms first. Once enough entries are candidates, a common term ("arbete" in a big
        # knowledge base) only adds to those candidates instead of walking its long posting list.
        for t in sorted(terms, key=lambda t: -t.idf):
            size = t.profile.postings_size
            if scores and touched + size > POSTINGS_BUDGET:
                deferred.append(t)
                continue
            touched += min(size, POSTINGS_BUDGET)
            self._accumulate(t, scores)
        if deferred and len(scores) > SHORTLIST:
            scores = {n: scores[n] for n in heapq.nlargest(SHORTLIST, scores, key=scores.__getitem__)}
        for t in deferred:
            boost = t.weight * t.quality * t.idf
            strengths = t.profile.strengths
            for number in scores:
                scores[number] += boost * strengths.get(number, 0.0)
        if not scores:
            return []
        unknown_mass = unknown_weight * unknown_idf
        importance = {q.term: q.importance for q in query if q.term is not None}
        # Context words ("kommunen", "HR", "facket") are explained but do not make a question specific.
        specificity = (
            sum(importance[t.term] * idf.get(t.term, 0.0) for t in terms if t.term not in self._context) / unknown_idf
        )
        vagueness = min(1.0, specificity / SPECIFIC_ENOUGH)
        query_mass = sum(t.idf for t in terms) + unknown_mass
        # Per term, the factors that coverage and closeness multiply by (same products as written out).
        explains = [(t.weight * t.quality, t.profile.strengths) for t in terms]
        matches = [(t.idf * t.quality, t.profile.hits) for t in terms]
        ranked = []
        # sorted(...)[:limit] is what heapq.nlargest promises to equal (ties in first-seen order), and
        # for a few dozen candidates the C sort is the quicker of the two.
        for number in sorted(scores, key=scores.__getitem__, reverse=True)[:limit]:
            coverage = sum(wq * strengths.get(number, 0.0) for wq, strengths in explains) / total_weight
            closeness = self._closeness(number, matches, query_mass)
            relevance = min(1.0, COVERAGE_SHARE * coverage + (1.0 - COVERAGE_SHARE) * closeness)
            ranked.append(Scored(number, relevance * vagueness, coverage, closeness, relevance))
        ranked.sort(key=lambda s: (-s.score, s.index))
        return ranked

    def _accumulate(self, t: _Term, scores: dict[int, float]) -> None:
        boost = t.weight * t.quality * t.idf
        profile = t.profile
        if not profile.capped:
            # The profile's strengths are that walk uncapped, done once: same entries, order and values.
            for number, strength in profile.strengths.items():
                scores[number] += boost * strength
            return
        for number, strength in self._best_strengths(profile.alternatives, POSTINGS_BUDGET).items():
            scores[number] += boost * strength

    def _best_strengths(self, alternatives: Sequence[tuple[str, float]], walk: int | None = None) -> dict[int, float]:
        """How strongly each entry knows the term or, less, one of its near synonyms: the best of them,
        from at most `walk` postings of each (strongest first), in the order the walk finds the entries."""
        best: dict[int, float] = {}
        for alternative, factor in alternatives:
            for number, strength in self._postings.get(alternative, ())[:walk]:
                if factor * strength > best.get(number, 0.0):
                    best[number] = factor * strength
        return best

    def _profile(self, term: str) -> _Profile:
        profile = self._profiles.get(term)
        if profile is None:
            profile = self._build_profile(term)
            if term in self._idf or term in self._near:  # the index's own vocabulary: bounded
                self._profiles[term] = profile
        return profile

    def _build_profile(self, term: str) -> _Profile:
        alternatives = ((term, 1.0), *((other, NEAR_FACTOR) for other in self._near.get(term, ())))
        # In each phrasing, the first of the alternatives that it holds: its factor and its idf.
        found: dict[tuple[int, int], tuple[float, float]] = {}
        for alternative, factor in alternatives:
            for place in self._in_phrasings.get(alternative, ()):
                if place not in found:
                    found[place] = (factor, self._idf.get(alternative, 0.0))
        hits: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
        for (number, position), (factor, alt_idf) in sorted(found.items()):
            hits[number].append((position, factor, alt_idf))
        return _Profile(
            alternatives=alternatives,
            strengths=self._best_strengths(alternatives),
            hits={number: tuple(found_in) for number, found_in in hits.items()},
            postings_size=sum(len(self._postings.get(alt, ())) for alt, _ in alternatives),
            capped=any(len(self._postings.get(alt, ())) > POSTINGS_BUDGET for alt, _ in alternatives),
        )

    def _closeness(
        self,
        number: int,
        matches: Sequence[tuple[float, dict[int, tuple[tuple[int, float, float], ...]]]],
        query_mass: float,
    ) -> float:
        """Weighted Jaccard between the question and its closest phrasing of the entry.

        `matches` holds per question term its idf times match quality and its profile's hits. A
        phrasing shares, per term, that times the factor of the first alternative it holds; the union
        is the question's mass plus what of the phrasing's mass the shared alternatives leave out."""
        sums: dict[int, list[float]] = {}
        for weight, hits in matches:
            for position, factor, alt_idf in hits.get(number, ()):
                acc = sums.get(position)
                if acc is None:
                    sums[position] = [weight * factor, alt_idf]
                else:
                    acc[0] += weight * factor
                    acc[1] += alt_idf
        best = 0.0
        masses = self._phrasing_mass[number]
        for position, (shared, overlap) in sums.items():
            union = query_mass + max(0.0, masses[position] - overlap)
            if union > 0 and shared / union > best:
                best = shared / union
        return best


@dataclass(frozen=True, slots=True)
class _Profile:
    """One term as the index sees it, the same for every question that uses it."""

    alternatives: tuple[tuple[str, float], ...]  # the term, then its near synonyms with their factor
    strengths: dict[int, float]  # entry -> how strongly it knows the term or a near synonym
    hits: dict[int, tuple[tuple[int, float, float], ...]]  # entry -> (phrasing, factor, idf) per phrasing holding it
    postings_size: int  # posting entries a full walk of the alternatives visits
    capped: bool  # some alternative's posting list is longer than a walk may go (POSTINGS_BUDGET)


@dataclass(frozen=True, slots=True)
class _Term:
    term: str
    weight: float
    quality: float
    idf: float
    profile: _Profile


def _merge(terms: Iterable[QueryTerm]) -> dict[str, tuple[float, float]]:
    """One (weight, quality) per term: a word repeated in the question counts once, at its best."""
    merged: dict[str, tuple[float, float]] = {}
    for q in terms:
        if q.term is None:
            continue
        previous = merged.get(q.term)
        if previous is None:
            merged[q.term] = (q.weight, q.quality)
        else:
            merged[q.term] = (max(previous[0], q.weight), max(previous[1], q.quality))
    return merged
