"""The knowledge base the bot queries: built once from validated content, immutable and cheap to ask."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.knowledge.analysis import Analyzer, Lexicon, SynonymSet
from bot.knowledge.index import EntryTexts, Scored, SearchIndex
from bot.knowledge.models import Answer, Entry, Topic
from bot.knowledge.normalize import LANGS, Stemmers
from bot.knowledge.texts import answer_text, fallback_text

# Below this confidence the bot does not guess; see tests/knowledge for the questions it was checked on.
ANSWER_THRESHOLD = 0.5
SUGGEST_THRESHOLD = 0.2  # close enough to offer as a related topic
SUGGEST_RELEVANCE = 0.5  # a vague question's close topics rank at this share of their undiscounted score
MAX_SUGGESTIONS = 3
STOCKHOLM = ZoneInfo("Europe/Stockholm")  # "today" for the rules' periods is the Swedish date


class KnowledgeBase:
    """Answers questions from the guidance. Everything is precomputed in the constructor."""

    __slots__ = ("_analyzer", "_by_id", "_entries", "_index", "_topics")
    _analyzer: Analyzer
    _by_id: Mapping[str, Entry]
    _entries: tuple[Entry, ...]
    _index: SearchIndex
    _topics: tuple[Topic, ...]

    def __init__(
        self,
        topics: Sequence[Topic],
        synonyms: SynonymSet | None = None,
        stemmers: Stemmers | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        """Build from topics whose entries are already validated (load_knowledge does that)."""
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
        object.__setattr__(self, "_analyzer", analyzer)
        object.__setattr__(self, "_entries", entries)
        object.__setattr__(self, "_topics", topic_list)
        object.__setattr__(self, "_by_id", MappingProxyType({e.id: e for e in entries}))
        object.__setattr__(self, "_index", index)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KnowledgeBase is immutable; load a new one to change the content")

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

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
        detected = self._analyzer.detect_language(question)
        reply_lang = detected or (lang if lang in LANGS else None) or "sv"
        order = (reply_lang, *(x for x in LANGS if x != reply_lang))
        terms = self._analyzer.query_terms(question, order, (detected,) if detected else LANGS)
        ranked = self._index.search(terms)
        best = ranked[0] if ranked else None
        if best is not None and best.score >= ANSWER_THRESHOLD:
            entry = self._entries[best.index]
            return Answer(
                question=question,
                lang=reply_lang,
                answered=True,
                entry=entry,
                score=best.score,
                text=answer_text(entry, reply_lang, today),
                suggestions=self._suggestions(entry, ranked[1:]),
            )
        close = self._close_topics(ranked)
        return Answer(
            question=question,
            lang=reply_lang,
            answered=False,
            entry=self._entries[best.index] if best else None,
            score=best.score if best else 0.0,
            text=fallback_text(reply_lang, close),
            suggestions=close,
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
