"""How sure the bot is that an entry answers a question: a small logistic model over measured signals.

The lexical matcher and the n-gram similarity each give a ranking, but neither score is a probability:
in-scope and out-of-scope questions overlap on both. The model turns the signals of one (question, entry)
pair into the probability that the entry's answer is right, fitted on labelled questions by
`python -m bot calibrate` (bot/knowledge/calibration.py) and stored in content/confidence.yaml. Serving only
reads that file: a dot product and a logistic, no numerical library.
"""

from __future__ import annotations

import math
import pathlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content_errors import ContentError, ContentProblem
from bot.content_yaml import parse_yaml, validate
from bot.knowledge.normalize import fold, tokenize

MODEL_FILE = "confidence.yaml"

# The signals, each in 0..1 or a small count; their order is the model file's.
FEATURES: tuple[str, ...] = (
    "coverage",  # how much of the question's meaningful words the entry explains (lexical)
    "closeness",  # weighted Jaccard with the entry's closest phrasing (lexical)
    "lexical",  # the lexical blend of the two, discounted for vague questions
    "lexical_margin",  # this entry's lexical score minus the best other entry's
    "ngram",  # character n-gram cosine with the closest phrasing
    "ngram_margin",  # this entry's n-gram similarity minus the best other entry's
    "ngram_answer",  # character n-gram cosine with the entry's answer text (facts the phrasings do not name)
    "example",  # n-gram cosine with the closest labelled question (content/calibration) that this entry answers
    "outside_example",  # n-gram cosine with the closest labelled question that the guidance does not answer
    "lexical_rank",  # 1 for the lexical ranking's first entry, 1/2 for its second … 0 outside its candidates
    "ngram_rank",  # the same for the n-gram similarity's ranking
    "unexplained",  # share of the question's weight in words the knowledge base does not know
    "outside",  # share of the question's weight in topics the guidance does not cover (pay, leave …)
    "corrected",  # share of the question's weight read only as a misspelling of a known word ("hunden" ~ "handen")
    "qtype_match",  # the question's type (why, when, who, how …) is among the entry's own phrasings' types
    "qtype_mismatch",  # the question has a type, the entry's phrasings have others and not this one
    "negation_match",  # the question is negated ("varför får inte …") and so is one of the entry's phrasings
    "recent",  # an undated question, and the entry's rule is the newest among the candidates
    "words",  # how many meaningful words the question has, log-scaled
)

# Question types by their opening words (after a greeting); "när" and "when" mid-sentence are conjunctions.
_QTYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("why", ("varfor", "why", "how come")),
    ("when", ("nar", "when", "hur lange", "how long", "fran nar", "till nar", "vilket datum", "what date")),
    ("who", ("vem", "vilka", "who", "whom", "vems", "whose")),
    ("how", ("hur", "how", "pa vilket satt")),
    ("where", ("var", "vart", "where", "varifran")),
    ("what", ("vad", "what", "vilken", "vilket", "which")),
)
_OPENERS = frozenset("hej hejsan hallo tjena hi hello hey och and men but so sa ok okej fraga question".split())
_NEGATIONS = frozenset("inte ej aldrig icke not never no nej cannot t".split())  # "t": can't, don't
_DATED = re.compile(
    r"\b(19|20)\d\d\b|\b(januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
    r"january|february|march|may|june|july|august|october|december|varen|hosten|sommaren|vintern|spring|autumn|"
    r"fall|summer|winter|corona|pandemi\w*|covid\w*|back then|i fjol|last year)\b"
)


def question_type(question: str) -> str | None:
    """why / when / who / how / where / what, from the question's opening words; None for statements."""
    tokens = [fold(w) for w in tokenize(question)]
    while tokens and tokens[0] in _OPENERS:
        tokens = tokens[1:]
    opening = " ".join(tokens[:3])
    for kind, starts in _QTYPES:
        for start in starts:
            if opening == start or opening.startswith(start + " "):
                return kind
    return None


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
LONG_MESSAGE = 14  # words; a shorter message is its own question


def question_sentence(text: str) -> str | None:
    """In a long message of several sentences, the one that asks: the last ending in "?", else the last one.
    None for a message that is one sentence or short ("Hej! Jag heter Anna … Får jag jobba hemifrån?")."""
    if len(tokenize(text)) < LONG_MESSAGE:
        return None
    sentences = [s.strip() for s in _SENTENCE.findall(text) if len(tokenize(s)) >= 2]
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if s.endswith("?")]
    return (asking or sentences)[-1]


def is_negated(text: str) -> bool:
    return not _NEGATIONS.isdisjoint(fold(w).replace("'", "") for w in tokenize(text))


# Verbs in the past tense: "Vad beslutade kommundirektören?" asks about what was, not what applies now.
_PAST = frozenset(
    "gallde beslutade beslots bestamde fick var hade kom borjade infordes inforde sa sade tog blev skulle kunde "
    "did was were decided applied had began started introduced said".split()
)


def is_dated(question: str) -> bool:
    """The question names a year, a month, a season or the pandemic, or asks in the past tense: it is about a
    period, not about now."""
    words = [fold(w) for w in tokenize(question)]
    return _DATED.search(" ".join(words)) is not None or not _PAST.isdisjoint(words)


@dataclass(frozen=True, slots=True)
class Signals:
    """One candidate entry's feature values for one question."""

    values: tuple[float, ...]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised features: p = 1 / (1 + exp(-(b + Σ w·(x - mean)/scale)))."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, signals: Signals) -> float:
        z = self.intercept
        for value, mean, scale, weight in zip(signals.values, self.means, self.scales, self.weights, strict=True):
            z += weight * (value - mean) / scale
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


# ---- the model file ---------------------------------------------------------------------------------------


class _FeatureDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    mean: float
    scale: float = Field(gt=0)
    weight: float


class ModelFileDoc(BaseModel):
    """content/confidence.yaml: written by `python -m bot calibrate`, reviewed like any content."""

    model_config = ConfigDict(extra="forbid")
    fitted: str = ""
    fitted_on: dict[str, int] = Field(default_factory=dict)
    cross_validation: dict[str, float] = Field(default_factory=dict)
    threshold: float = Field(gt=0, lt=1)
    intercept: float
    features: list[_FeatureDoc]

    @model_validator(mode="after")
    def _known_features(self) -> ModelFileDoc:
        names = [f.name for f in self.features]
        if names != list(FEATURES):
            raise ValueError(
                f"features must be exactly {list(FEATURES)} in that order; refit with `python -m bot calibrate`"
            )
        return self

    def model(self) -> ConfidenceModel:
        return ConfidenceModel(
            features=tuple(f.name for f in self.features),
            means=tuple(f.mean for f in self.features),
            scales=tuple(f.scale for f in self.features),
            weights=tuple(f.weight for f in self.features),
            intercept=self.intercept,
            threshold=self.threshold,
        )


def load_model(path: pathlib.Path, problems: list[ContentProblem] | None = None) -> ConfidenceModel | None:
    """The model in `path`; problems go to `problems`, or raise ContentError when none is given."""
    found: list[ContentProblem] = [] if problems is None else problems
    before = len(found)
    parsed = parse_yaml(path, str(path), found)
    doc = validate(ModelFileDoc, parsed, str(path), found) if parsed is not None else None
    if problems is None and len(found) > before:
        raise ContentError(found)
    return doc.model() if doc is not None else None


def signals(
    *,
    coverage: float,
    closeness: float,
    lexical: float,
    lexical_margin: float,
    ngram: float,
    ngram_margin: float,
    ngram_answer: float,
    example: float,
    outside_example: float,
    lexical_rank: int | None,
    ngram_rank: int | None,
    unexplained: float,
    outside: float,
    corrected: float,
    qtype: str | None,
    entry_qtypes: frozenset[str],
    negated: bool,
    entry_negated: bool,
    recent: bool,
    word_count: int,
) -> Signals:
    return Signals(
        (
            coverage,
            closeness,
            lexical,
            lexical_margin,
            ngram,
            ngram_margin,
            ngram_answer,
            example,
            outside_example,
            1.0 / (1 + lexical_rank) if lexical_rank is not None else 0.0,
            1.0 / (1 + ngram_rank) if ngram_rank is not None else 0.0,
            unexplained,
            outside,
            corrected,
            1.0 if qtype is not None and qtype in entry_qtypes else 0.0,
            1.0 if qtype is not None and entry_qtypes and qtype not in entry_qtypes else 0.0,
            1.0 if negated and entry_negated else 0.0,
            1.0 if recent else 0.0,
            math.log1p(word_count),
        )
    )


def entry_profile(phrasings: Sequence[str]) -> tuple[frozenset[str], bool]:
    """The question types of an entry's own phrasings, and whether one of them is negated."""
    kinds = frozenset(k for k in (question_type(p) for p in phrasings) if k is not None)
    return kinds, any(is_negated(p) for p in phrasings)


def margins(values: Mapping[int, float]) -> dict[int, float]:
    """Each candidate's value minus the best value among the other candidates."""
    if not values:
        return {}
    ordered = sorted(values.values(), reverse=True)
    first, second = ordered[0], ordered[1] if len(ordered) > 1 else 0.0
    return {k: v - (second if v >= first else first) for k, v in values.items()}
