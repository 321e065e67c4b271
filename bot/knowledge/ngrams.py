"""A second similarity that needs no vocabulary: character n-grams with tf-idf weights.

The lexical matcher knows words through stems, synonyms and compound parts that someone listed. This one
knows none of that: it compares the 3- to 5-letter pieces of each word (within word boundaries, spelling
folded), so "hemmajobb", "jobba hemma" and "hemarbete" share pieces, and so do "sekretessärenden" and
"sekretessarenden" or an inflection nobody listed. The two signals are combined by the confidence model.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from bot.knowledge.normalize import STOPWORDS, fold, tokenize

MIN_N, MAX_N = 3, 5
# A piece shared by more phrasings than this is added only to the phrasings that other pieces found
# (like the lexical index's common terms), so that a large knowledge base stays fast.
COMMON_PIECE = 400
SHORTLIST = 400
_STOP = frozenset(fold(w) for lang_words in STOPWORDS.values() for w in lang_words)


def pieces(text: str) -> Counter[str]:
    """The n-grams of the text's meaningful words, each word padded with spaces (" hem", "hem ")."""
    grams: Counter[str] = Counter()
    for token in tokenize(text):
        word = fold(token)
        if word in _STOP or len(word) < 2:
            continue
        padded = f" {word} "
        for n in range(MIN_N, MAX_N + 1):
            for start in range(len(padded) - n + 1):
                grams[padded[start : start + n]] += 1
    return grams


class NgramIndex:
    """Cosine similarity between a question and each entry's closest phrasing, over tf-idf n-grams."""

    __slots__ = ("_entry_of", "_idf", "_keys", "_max_idf", "_phrasings_of", "_postings", "_vectors")

    def __init__(self, phrasings: Iterable[tuple[int, str]]) -> None:
        """`phrasings` are (entry number, text) pairs: each question and keyword of each entry."""
        counted = [(entry, pieces(text), text_key(text)) for entry, text in phrasings]
        counted = [(entry, grams, key) for entry, grams, key in counted if grams]
        # Each phrasing's words, so that calibration can leave a labelled question's own example out.
        self._keys = [key for _, _, key in counted]
        total = len(counted)
        df: Counter[str] = Counter()
        for _, grams, _ in counted:
            df.update(grams.keys())
        self._idf = {g: math.log((1 + total) / (1 + n)) + 1.0 for g, n in df.items()}
        self._max_idf = math.log(1 + total) + 1.0
        self._entry_of: list[int] = []
        self._vectors: list[dict[str, float]] = []
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        phrasings_of: dict[int, list[int]] = defaultdict(list)
        for number, (entry, grams, _) in enumerate(counted):
            vector = _normalised({g: count * self._idf[g] for g, count in grams.items()})
            self._entry_of.append(entry)
            self._vectors.append(vector)
            phrasings_of[entry].append(number)
            for g, weight in vector.items():
                postings[g].append((number, weight))
        self._postings = {g: tuple(hits) for g, hits in postings.items()}
        self._phrasings_of = dict(phrasings_of)

    def query_vector(self, question: str) -> dict[str, float]:
        """The question's weights; pieces no phrasing has count at the highest idf (they are unexplained)."""
        grams = pieces(question)
        return _normalised({g: count * self._idf.get(g, self._max_idf) for g, count in grams.items()})

    def similarities(
        self, vector: Mapping[str, float], also: Sequence[int] = (), leave_out: str | None = None
    ) -> dict[int, float]:
        """Entry number -> cosine with its closest phrasing, for the entries the pieces reach and `also`.

        `leave_out` (a text_key) skips phrasings with exactly those words: a labelled question is not its own
        example while the model is fitted."""
        dots: dict[int, float] = defaultdict(float)
        common: list[tuple[str, float]] = []
        for g, weight in vector.items():
            hits = self._postings.get(g)
            if not hits:
                continue
            if len(hits) > COMMON_PIECE:
                common.append((g, weight))
                continue
            for number, strength in hits:
                dots[number] += weight * strength
        for entry in also:
            for number in self._phrasings_of.get(entry, ()):
                dots.setdefault(number, 0.0)
        if common:
            if len(dots) > SHORTLIST:
                keep = set(heapq.nlargest(SHORTLIST, dots, key=dots.__getitem__))
                keep.update(n for entry in also for n in self._phrasings_of.get(entry, ()))
                dots = defaultdict(float, {n: dots[n] for n in keep})
            vectors = self._vectors
            for number in dots:
                own = vectors[number]
                dots[number] += sum(weight * own.get(g, 0.0) for g, weight in common)
        best: dict[int, float] = {}
        entry_of, keys = self._entry_of, self._keys
        for number, dot in dots.items():
            if leave_out is not None and keys[number] == leave_out:
                continue
            entry = entry_of[number]
            if dot > best.get(entry, 0.0):
                best[entry] = dot
        for entry in also:
            best.setdefault(entry, 0.0)
        return best


def text_key(text: str) -> str:
    """A text's folded words, for telling whether two texts are the same question."""
    return " ".join(fold(token) for token in tokenize(text))


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {g: v / norm for g, v in vector.items()} if norm else {}
