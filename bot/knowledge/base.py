"""The knowledge base the bot queries: built once from validated content, immutable and cheap to ask."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from bot.knowledge.analysis import Analyzer, Lexicon, QueryTerm, SynonymSet
from bot.knowledge.confidence import (
    ConfidenceModel,
    Signals,
    entry_profile,
    is_dated,
    is_negated,
    margins,
    question_sentence,
    question_type,
    signals,
)
from bot.knowledge.index import EntryTexts, Scored, SearchIndex
from bot.knowledge.models import Answer, Entry, Topic
from bot.knowledge.ngrams import NgramIndex, pieces, text_key
from bot.knowledge.normalize import LANGS, Stemmers
from bot.knowledge.texts import answer_text, fallback_text

# Without a fitted model (content/confidence.yaml), the lexical score is the confidence and this its threshold.
ANSWER_THRESHOLD = 0.5
LEXICAL_CANDIDATES = 8  # the lexical ranking's best entries that the model scores
NGRAM_CANDIDATES = 5  # and the n-gram similarity's, which may find what the vocabulary missed
PHRASINGS, EXAMPLES, OUTSIDE_EXAMPLES = 0, 1, 2  # the groups of the n-gram index
TYPO_QUALITY = 0.9  # a word matched with less than this quality was read as a misspelling (analysis._find)
EXAMPLE_CANDIDATES = 3  # and the entries of the labelled questions closest to this one
SUGGEST_THRESHOLD = 0.2  # close enough to offer as a related topic
SUGGEST_RELEVANCE = 0.5  # a vague question's close topics rank at this share of their undiscounted score
MAX_SUGGESTIONS = 3
STOCKHOLM = ZoneInfo("Europe/Stockholm")  # "today" for the rules' periods is the Swedish date


class KnowledgeBase:
    """Answers questions from the guidance. Everything is precomputed in the constructor."""

    __slots__ = (
        "_analyzer",
        "_answer_ngrams",
        "_by_id",
        "_entries",
        "_index",
        "_model",
        "_ngrams",
        "_parts",
        "_profiles",
        "_superseding",
        "_topics",
    )
    _analyzer: Analyzer
    _answer_ngrams: NgramIndex
    _by_id: Mapping[str, Entry]
    _entries: tuple[Entry, ...]
    _index: SearchIndex
    _model: ConfidenceModel | None
    _ngrams: NgramIndex
    _parts: tuple[Any, ...]
    _profiles: tuple[tuple[frozenset[str], bool], ...]
    _superseding: frozenset[str]
    _topics: tuple[Topic, ...]

    def __init__(
        self,
        topics: Sequence[Topic],
        synonyms: SynonymSet | None = None,
        stemmers: Stemmers | None = None,
        lexicon: Lexicon | None = None,
        model: ConfidenceModel | None = None,
        examples: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        """Build from topics whose entries are already validated (load_knowledge does that).

        Without `model` the lexical score is the confidence (for calibrating a new model, and for tests).
        `examples` are labelled questions (entry id, or None for a question the guidance does not answer):
        the model weighs how close a new question is to them."""
        stemmers = stemmers or Stemmers()
        lexicon = lexicon or Lexicon(synonyms or SynonymSet(), stemmers)
        topic_list = tuple(topics)
        entries = tuple(e for t in topic_list for e in t.entries)
        titles = {t.id: t.title for t in topic_list}
        analyzer = Analyzer(lexicon, _texts(entries, titles))
        index = SearchIndex(
            [_entry_texts(analyzer, e, titles.get(e.topic, {})) for e in entries],
            near=lexicon.near,
            context=lexicon.context,
        )
        analyzer.finish_build()
        phrasings = [_phrasings(e) for e in entries]
        numbers = {e.id: n for n, e in enumerate(entries)}
        # One index for what a question is compared with: the entries' own phrasings, the labelled questions
        # that each entry answers, and the labelled questions that the guidance does not answer.
        texts = [(n, PHRASINGS, text) for n, found in enumerate(phrasings) for text in found]
        texts += [(numbers[i], EXAMPLES, q) for i, q in examples if i is not None and i in numbers]
        texts += [(0, OUTSIDE_EXAMPLES, q) for i, q in examples if i is None]
        object.__setattr__(self, "_ngrams", NgramIndex(texts, groups=3))
        answers = ((n, 0, e.answer[lang]) for n, e in enumerate(entries) for lang in LANGS if e.answer.get(lang))
        object.__setattr__(self, "_answer_ngrams", NgramIndex(answers))
        profiles = tuple(entry_profile([q for lang in LANGS for q in e.questions.get(lang, [])]) for e in entries)
        object.__setattr__(self, "_profiles", profiles)
        object.__setattr__(self, "_superseding", frozenset(e.superseded_by for e in entries if e.superseded_by))
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_analyzer", analyzer)
        object.__setattr__(self, "_entries", entries)
        object.__setattr__(self, "_topics", topic_list)
        object.__setattr__(self, "_by_id", MappingProxyType({e.id: e for e in entries}))
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_parts", (topic_list, synonyms, stemmers, lexicon, model, tuple(examples)))

    def with_learned(self, phrasings: Sequence[tuple[str, str, str]]) -> KnowledgeBase:
        """A knowledge base like this one whose entries also have these phrasings (entry id, lang, question):
        what content owners taught the bot, searched like any phrasing. Unknown entry ids are left out."""
        topics, synonyms, stemmers, lexicon, model, examples = self._parts
        extra: dict[str, dict[str, list[str]]] = {}
        for entry_id, lang, question in phrasings:
            if entry_id in self._by_id and lang in LANGS:
                extra.setdefault(entry_id, {}).setdefault(lang, []).append(question)
        if not extra:
            return self
        changed = []
        for topic in topics:
            entries = [
                dataclasses.replace(
                    e, questions={lang: [*e.questions.get(lang, []), *extra[e.id].get(lang, [])] for lang in LANGS}
                )
                if e.id in extra
                else e
                for e in topic.entries
            ]
            changed.append(dataclasses.replace(topic, entries=entries))
        return KnowledgeBase(changed, synonyms, stemmers=stemmers, lexicon=lexicon, model=model, examples=examples)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KnowledgeBase is immutable; load a new one to change the content")

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    @property
    def threshold(self) -> float:
        """The confidence at and above which the bot answers: the model's, or the lexical one without a model."""
        return self._model.threshold if self._model is not None else ANSWER_THRESHOLD

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def topics(self) -> list[Topic]:
        return list(self._topics)

    def due_for_review(self, today: datetime.date) -> list[Entry]:
        """Entries whose review date has come, for the content owners."""
        return [e for e in self._entries if e.review_date <= today]

    def detect_language(self, text: str) -> str | None:
        """ "sv" or "en" when the text shows which; None when it does not (a single unknown word)."""
        return self._analyzer.detect_language(text)

    def answer(self, question: str, lang: str | None = None, today: datetime.date | None = None) -> Answer:
        """The best entry and the reply text, or an honest "no answer" below the confidence threshold.

        The reply is in the language the question is written in; `lang` is used when the question does
        not show its language (one word, a number), and Swedish after that.
        """
        today = today or datetime.datetime.now(STOCKHOLM).date()
        reply_lang, ranked, candidates = self._candidates(question, lang)
        model = self._model
        if model is None:
            scored = [(s.score, s.index) for s in ranked[:1]]
            threshold = ANSWER_THRESHOLD
        else:
            scored = [(model.probability(values), number) for number, values in candidates]
            focus = question_sentence(question)
            if focus is not None:  # a long message: its question, without the greeting and the story around it
                _, _, focused = self._candidates(focus, reply_lang)
                scored += [(model.probability(values), number) for number, values in focused]
            threshold = self.threshold
        best = max(scored, key=lambda pair: (pair[0], -pair[1]), default=None)
        if best is not None and best[0] >= threshold:
            entry = self.in_force(self._entries[best[1]], question, today)
            return Answer(
                question=question,
                lang=reply_lang,
                answered=True,
                entry=entry,
                score=best[0],
                text=self.reply_text(entry, question, reply_lang, today),
                suggestions=self._suggestions(entry, [s for s in ranked if self._entries[s.index] is not entry]),
            )
        close = self._close_topics(ranked)
        return Answer(
            question=question,
            lang=reply_lang,
            answered=False,
            entry=self._entries[best[1]] if best else None,
            score=best[0] if best else 0.0,
            text=fallback_text(reply_lang, close),
            suggestions=close,
        )

    def concepts(self, question: str, lang: str | None = None) -> frozenset[str]:
        """What a question is about, as the matcher reads it: its synonym groups and stems, and its unknown words
        ("får jag jobba hemifrån" and "far jag jobba hemma" are both {work, home}). For grouping wordings."""
        detected = self._analyzer.detect_language(question)
        reply_lang = detected or (lang if lang in LANGS else None) or "sv"
        order = (reply_lang, *(x for x in LANGS if x != reply_lang))
        terms = self._analyzer.query_terms(question, order, (detected,) if detected else LANGS)
        return frozenset(q.term or q.token for q in terms if q.weight > 0)

    def closest(self, question: str, lang: str | None = None, limit: int = 3) -> list[tuple[Entry, float]]:
        """The entries the bot finds closest to a question, each with its confidence, best first: what a content
        owner picks from when linking a question the bot could not answer."""
        _, ranked, candidates = self._candidates(question, lang)
        model = self._model
        if model is None:
            scored = [(s.score, s.index) for s in ranked]
        else:
            scored = [(model.probability(values), number) for number, values in candidates]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [(self._entries[number], probability) for probability, number in scored[:limit]]

    def candidate_signals(self, question: str, lang: str | None = None) -> tuple[str, list[tuple[Entry, Signals]]]:
        """The reply language, and the entries the model weighs for a question with their signals (for
        calibrating the model)."""
        reply_lang, _, candidates = self._candidates(question, lang, leave_out=text_key(question))
        return reply_lang, [(self._entries[number], values) for number, values in candidates]

    def reply_text(self, entry: Entry, question: str, lang: str, today: datetime.date) -> str:
        """The reply that answering `question` with `entry` would give."""
        entry = self.in_force(entry, question, today)
        return answer_text(entry, lang, today, self._ended_rule(entry, question, today))

    def _candidates(
        self, question: str, lang: str | None, leave_out: str | None = None
    ) -> tuple[str, list[Scored], list[tuple[int, Signals]]]:
        """The reply language, the lexical ranking, and each candidate entry with its signals."""
        detected = self._analyzer.detect_language(question)
        reply_lang = detected or (lang if lang in LANGS else None) or "sv"
        order = (reply_lang, *(x for x in LANGS if x != reply_lang))
        terms = self._analyzer.query_terms(question, order, (detected,) if detected else LANGS)
        ranked = self._index.search(terms)
        lexical_top = [s.index for s in ranked[:LEXICAL_CANDIDATES]]
        grams = pieces(question)
        vector = self._ngrams.query_vector(grams)
        similar, near, outside_near = (
            self._ngrams.similarities(vector, also=lexical_top, leave_out=leave_out) if vector else ({}, {}, {})
        )
        ngram_top = sorted(similar, key=lambda n: (-similar[n], n))[:NGRAM_CANDIDATES]
        example_top = sorted(near, key=lambda n: (-near[n], n))[:EXAMPLE_CANDIDATES]
        numbers = list(dict.fromkeys([*lexical_top, *ngram_top, *example_top]))
        if not numbers or (not terms and not vector):
            return reply_lang, ranked, []
        by_number = {s.index: s for s in ranked}
        lexical = {n: by_number[n].score if n in by_number else 0.0 for n in numbers}
        ngram = {n: similar.get(n, 0.0) for n in numbers}
        lexical_margin, ngram_margin = margins(lexical), margins(ngram)
        in_answers = self._answer_ngrams.closest(self._answer_ngrams.query_vector(grams), numbers)
        lexical_rank = {n: rank for rank, n in enumerate(lexical_top)}
        ngram_rank = {n: rank for rank, n in enumerate(ngram_top)}
        unexplained, outside, corrected, word_count = self._query_shares(terms)
        outside_example = max(outside_near.values(), default=0.0)
        qtype, negated, dated = question_type(question), is_negated(question), is_dated(question)
        starts = [self._entries[n].period_from for n in numbers]
        newest = max((s for s in starts if s is not None), default=None)
        candidates = []
        for number, start in zip(numbers, starts, strict=True):
            found = by_number.get(number)
            kinds, entry_negated = self._profiles[number]
            values = signals(
                coverage=found.coverage if found else 0.0,
                closeness=found.closeness if found else 0.0,
                lexical=lexical[number],
                lexical_margin=lexical_margin[number],
                ngram=ngram[number],
                ngram_margin=ngram_margin[number],
                ngram_answer=in_answers.get(number, 0.0),
                example=near.get(number, 0.0),
                outside_example=outside_example,
                lexical_rank=lexical_rank.get(number),
                ngram_rank=ngram_rank.get(number),
                unexplained=unexplained,
                outside=outside,
                corrected=corrected,
                qtype=qtype,
                entry_qtypes=kinds,
                negated=negated,
                entry_negated=entry_negated,
                recent=not dated and newest is not None and start == newest,
                word_count=word_count,
            )
            candidates.append((number, values))
        return reply_lang, ranked, candidates

    def _query_shares(self, terms: list[QueryTerm]) -> tuple[float, float, float, int]:
        """The shares of the question's weight that are unknown words, outside topics and words read only as
        misspellings, and its word count."""
        total = sum(q.weight for q in terms)
        if total <= 0:
            return 0.0, 0.0, 0.0, 0
        outside_concepts = self._analyzer.lexicon.outside
        unknown = sum(q.weight for q in terms if q.term is None)
        outside = sum(q.weight for q in terms if q.term in outside_concepts)
        corrected = sum(q.weight for q in terms if q.term is not None and q.quality < TYPO_QUALITY)
        return unknown / total, outside / total, corrected / total, len({q.token for q in terms})

    def in_force(self, entry: Entry, question: str, today: datetime.date) -> Entry:
        """For a question that names no date, the rule in force last on the same matter: the end of the entry's
        `superseded_by` chain that has begun by today (the 2021 decision, not the 2020 one, for "may I work
        from home?")."""
        if is_dated(question):
            return entry
        seen = {entry.id}
        while entry.superseded_by and entry.superseded_by not in seen:
            later = self._by_id.get(entry.superseded_by)
            if later is None or (later.period_from is not None and later.period_from > today):
                break
            seen.add(later.id)
            entry = later
        return entry

    def _ended_rule(self, entry: Entry, question: str, today: datetime.date) -> bool:
        """Whether the reply must open by saying that the latest rule on the question has ended: an undated
        question, answered by a rule that others were superseded by, whose period is over."""
        return (
            entry.id in self._superseding
            and entry.period_to is not None
            and entry.period_to < today
            and not is_dated(question)
        )

    def _close_topics(self, ranked: list[Scored]) -> list[Entry]:
        """What to offer instead of an answer: close matches, and entries that would have answered a question
        that is only too vague ("Vad gör facket för mig?" is close to what the union thinks of distance work)."""
        close = [s for s in ranked if s.score >= SUGGEST_THRESHOLD or s.relevance >= ANSWER_THRESHOLD]
        close.sort(key=lambda s: (-max(s.score, SUGGEST_RELEVANCE * s.relevance), s.index))
        return [self._entries[s.index] for s in close[:MAX_SUGGESTIONS]]

    def _suggestions(self, entry: Entry, others: list[Scored]) -> list[Entry]:
        """The entry's own related entries, else the next best matches for this question."""
        related = [e for e in (self._by_id.get(i) for i in entry.related) if e is not None]
        if related:
            return related[:MAX_SUGGESTIONS]
        near = [self._entries[s.index] for s in others if s.score >= SUGGEST_THRESHOLD]
        return near[:MAX_SUGGESTIONS]


def _phrasings(entry: Entry) -> list[str]:
    """What the n-gram similarity compares a question with: the entry's own questions and keywords."""
    return [text for lang in LANGS for text in (*entry.questions.get(lang, []), *entry.keywords.get(lang, []))]


def _source_text(entry: Entry) -> str:
    """The source line is part of the reply, so its title and diarienummer are searchable too."""
    source = entry.source
    return f"{source.title} diarienummer {source.diarienummer}" if source.diarienummer else source.title


def _texts(entries: Sequence[Entry], titles: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for title in titles.values():
        texts += [(lang, text) for lang, text in title.items() if text]
    for e in entries:
        texts.append(("sv", _source_text(e)))
        for lang in LANGS:
            texts += [(lang, q) for q in e.questions.get(lang, [])]
            texts += [(lang, k) for k in e.keywords.get(lang, [])]
            if e.answer.get(lang):
                texts.append((lang, e.answer[lang]))
    return texts


def _entry_texts(analyzer: Analyzer, entry: Entry, title: dict[str, str]) -> EntryTexts:
    phrasings = [
        analyzer.index_terms(text, lang)
        for lang in LANGS
        for text in (*entry.questions.get(lang, []), *entry.keywords.get(lang, []))
    ]
    answer = [t for lang in LANGS if entry.answer.get(lang) for t in analyzer.index_terms(entry.answer[lang], lang)]
    title_terms = [t for lang, text in title.items() if text for t in analyzer.index_terms(text, lang)]
    title_terms += analyzer.index_terms(_source_text(entry), "sv")
    return EntryTexts(phrasings=phrasings, answer=answer, title=title_terms)
