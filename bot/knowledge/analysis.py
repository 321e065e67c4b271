"""From text to search terms: synonyms, Swedish compounds, light words, spelling mistakes, language.

A term is either a synonym concept ("=remote") or a stem key ("sekretess"). Entries and questions go
through the same steps, so "jobba hemifrån", "hemarbetet", "arbeta hemma" and "work from home" all
become the terms {=work, =remote}.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.knowledge.normalize import LANGS, STOPWORDS, Stemmers, fold, is_number, tokenize

CONCEPT_PREFIX = "="
MIN_PART = 3  # shortest compound part, and only for synonym words such as "hem" in "hemarbete"
MIN_PLAIN_PART = 4  # other parts must be longer, or "deltid" would become "del" + "tid"
MAX_PARTS = 3
LONG_WORD = 9  # from this length a misspelling may also change the second letter, and be two typos away
MIN_TYPO_LENGTH = 6  # shorter words have too many neighbours one typo away ("halva" ~ "hålla")
LIGHT_WEIGHT = 0.25
# A word for a topic the guidance does not cover ("sjuklön" beside "jobba hemma") is what the question is
# about: it weighs as much as two ordinary words, so that the words it shares with an entry do not carry it.
OUTSIDE_WEIGHT = 2.0
NUMBER_WEIGHT = 0.5
_SWEDISH_LETTERS = frozenset("åäö")


@dataclass(frozen=True)
class SynonymGroup:
    id: str
    terms: dict[str, tuple[str, ...]]  # lang -> words or phrases
    near: tuple[str, ...] = ()  # ids of groups that mean almost the same (hemma ~ på distans)
    outside: bool = False  # a topic the guidance does not cover: it weighs OUTSIDE_WEIGHT in a question


@dataclass(frozen=True)
class SynonymSet:
    """The content of content/synonyms.yaml, after validation."""

    groups: tuple[SynonymGroup, ...] = ()
    light: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Words that say who or where (the municipality, its director, HR, the unions, the staff), not what:
    # they are explained like any word, but a question made only of them is not specific to any entry.
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    """A word that two synonym groups both claim; the loader reports it as a content problem."""

    group: str
    lang: str
    term: str
    other_group: str


@dataclass(frozen=True)
class QueryTerm:
    term: str | None  # None: a meaningful word the knowledge base does not know
    weight: float  # how much of the question this term carries (a compound's parts share their word's)
    quality: float  # 1.0 exact, lower for compounds split, folded spellings and typos
    token: str
    importance: float = 1.0  # the whole word's weight: 1.0, less for light words and numbers, more for outside topics


class Lexicon:
    """Synonym concepts and light words, keyed by stem per language."""

    def __init__(self, synonyms: SynonymSet, stemmers: Stemmers) -> None:
        self.stemmers = stemmers
        self.single: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
        self.phrases: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in LANGS}
        # The same words typed without å/ä/ö ("pa plats", "motet"), looked up only when the word as typed
        # is not known: a folded spelling never takes a word that the content itself uses.
        self.folded_single: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
        self.folded_phrases: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in LANGS}
        self.light: dict[str, frozenset[str]] = {}
        self.conflicts: list[Conflict] = []
        self.surfaces: dict[str, set[str]] = {lang: set() for lang in LANGS}
        near: dict[str, set[str]] = {}
        for group in synonyms.groups:
            concept = CONCEPT_PREFIX + group.id
            for other in group.near:
                near.setdefault(concept, set()).add(CONCEPT_PREFIX + other)
                near.setdefault(CONCEPT_PREFIX + other, set()).add(concept)
            for lang, terms in group.terms.items():
                for term in terms:
                    self._add(group.id, concept, lang, term)
        self.near: dict[str, tuple[str, ...]] = {c: tuple(sorted(n - {c})) for c, n in near.items()}
        self.outside = frozenset(CONCEPT_PREFIX + g.id for g in synonyms.groups if g.outside)
        for lang in LANGS:
            words = synonyms.light.get(lang, ())
            keys = {stemmers.key(tok, lang) for word in words for tok in tokenize(word)}
            keys |= {stemmers.key(fold(tok), lang) for word in words for tok in tokenize(word)}
            self.light[lang] = frozenset(keys)
        context: set[str] = set()
        for lang in LANGS:
            for word in synonyms.context.get(lang, ()):
                parts = tuple(stemmers.key(tok, lang) for tok in tokenize(word))
                if len(parts) == 1:
                    context.add(self.single[lang].get(parts[0], parts[0]))
                elif parts:
                    context.add(self.phrases[lang].get(parts, " ".join(parts)))
        self.context: frozenset[str] = frozenset(context)
        for lang in LANGS:
            for group in synonyms.groups:
                for term in group.terms.get(lang, ()):
                    self._add_folded(CONCEPT_PREFIX + group.id, lang, term)
        self.max_phrase = max((len(k) for table in self.phrases.values() for k in table), default=1)
        self.phrase_starts = {
            lang: frozenset(k[0] for table in (self.phrases[lang], self.folded_phrases[lang]) for k in table)
            for lang in LANGS
        }

    def _add(self, group_id: str, concept: str, lang: str, term: str) -> None:
        tokens = tokenize(term)
        if not tokens:
            return
        keys = tuple(self.stemmers.key(tok, lang) for tok in tokens)
        table: dict = self.single[lang] if len(keys) == 1 else self.phrases[lang]
        slot = keys[0] if len(keys) == 1 else keys
        owner = table.get(slot)
        if owner is not None and owner != concept:
            self.conflicts.append(Conflict(group_id, lang, term, owner.removeprefix(CONCEPT_PREFIX)))
            return
        table[slot] = concept
        self.surfaces[lang].update(t for t in tokens if t not in STOPWORDS[lang])

    def _add_folded(self, concept: str, lang: str, term: str) -> None:
        tokens = [fold(tok) for tok in tokenize(term)]
        keys = tuple(self.stemmers.key(tok, lang) for tok in tokens)
        if not keys:
            return
        if len(keys) == 1:
            if keys[0] not in self.single[lang]:
                self.folded_single[lang].setdefault(keys[0], concept)
        elif keys not in self.phrases[lang]:
            self.folded_phrases[lang].setdefault(keys, concept)


class Analyzer:
    """Turns texts into terms. Built in two passes: first every key of the content, then compounds."""

    def __init__(self, lexicon: Lexicon, texts: Iterable[tuple[str, str]]) -> None:
        """`texts` are (lang, text) pairs: every phrasing, keyword, answer and title of the content."""
        self.lexicon = lexicon
        self.stemmers = lexicon.stemmers
        self.known: dict[str, set[str]] = {lang: set() for lang in LANGS}
        self.surfaces: dict[str, set[str]] = {lang: set(lexicon.surfaces[lang]) for lang in LANGS}
        heads: dict[str, str] = {}
        # The first pass's keys, reused by index_terms while the index is built; see finish_build.
        self._first_pass: dict[tuple[str, str], list[str]] = {}
        self._last_detected: tuple[str, str | None] | None = None
        for lang, text in texts:
            tokens = tokenize(text)
            items = self._keys(tokens, (lang,))
            self._first_pass[(lang, text)] = items
            self.known[lang].update(item for item in items if not item.startswith(CONCEPT_PREFIX))
            self.surfaces[lang].update(t for t in tokens if t not in STOPWORDS[lang])
        for word in self.surfaces["sv"]:
            if len(word) >= MIN_PART and not is_number(word):
                heads[word] = self.stemmers.key(word, "sv")
        sv_keys = set(self.known["sv"]) | set(lexicon.single["sv"])
        self._atoms = frozenset(k for k in sv_keys if self._part_ok(k) and k not in STOPWORDS["sv"])
        self._heads = {w: k for w, k in heads.items() if w not in STOPWORDS["sv"] and self._part_ok(w, k)}
        # Compound parts typed without å/ä/ö ("sekretessarenden"): folded forms that stand for one part only.
        self._folded_heads = _unambiguous((fold(w), k) for w, k in self._heads.items() if fold(w) != w)
        self._folded_atoms = _unambiguous((fold(a), a) for a in self._atoms if fold(a) != a)
        content_words = {fold(w) for lang in LANGS for w in self.surfaces[lang]}
        # Function words typed without å/ä/ö ("pa", "nar", "maste"). Where a content word is typed the same way,
        # the short, frequent function word wins ("nar" is "när" rather than "når", "ar" is "är" rather than
        # "år"), a longer one does not ("nara" is "nära", not the colloquial "nåra").
        self._folded_stop = frozenset(
            fold(w)
            for lang in LANGS
            for w in STOPWORDS[lang]
            if fold(w) != w and (len(w) <= 3 or fold(w) not in content_words)
        )
        self.split = lru_cache(maxsize=50_000)(self._split)
        self.resolve = lru_cache(maxsize=100_000)(self._resolve)
        # Folded spellings for "hemifran", per language; buckets by first letter and length keep the typo search small.
        self._folded: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
        # Typo candidates by first letter and length: a typo rarely changes a word's first letter, and
        # allowing it made "gäster" (guests) a misspelt "raster" (breaks).
        self._by_start: dict[str, dict[tuple[str, int], list[str]]] = {lang: {} for lang in LANGS}
        for lang in LANGS:
            for word in sorted(self.surfaces[lang]):
                if not is_number(word):
                    self._folded[lang].setdefault(fold(word), self.stemmers.key(word, lang))
            for word in sorted(self._folded[lang]):
                self._by_start[lang].setdefault((word[:1], len(word)), []).append(word)
        # Stems of the folded spellings, for inflections the content does not use ("hostens"); unambiguous only.
        self._folded_keys: dict[str, dict[str, str]] = {
            lang: _unambiguous(
                (self.stemmers.key(fold(w), lang), self.stemmers.key(w, lang))
                for w in self.surfaces[lang]
                if fold(w) != w and not is_number(w)
            )
            for lang in LANGS
        }
        self._only: dict[str, frozenset[str]] = {
            "sv": frozenset(self.surfaces["sv"] - self.surfaces["en"]),
            "en": frozenset(self.surfaces["en"] - self.surfaces["sv"]),
        }

    # ---- shared by index and questions ----------------------------------------------------------

    def _phrase_at(self, keys: dict[str, list[str]], i: int, order: Sequence[str]) -> tuple[str, int] | None:
        """The synonym phrase ("town hall", "på plats") starting at token i, and its length."""
        lex = self.lexicon
        for lang in order:
            lang_keys = keys[lang]
            if lang_keys[i] not in lex.phrase_starts[lang]:
                continue
            for size in range(min(lex.max_phrase, len(lang_keys) - i), 1, -1):
                words = tuple(lang_keys[i : i + size])
                hit = lex.phrases[lang].get(words) or lex.folded_phrases[lang].get(words)
                if hit:
                    return hit, size
        return None

    def _keys(self, tokens: Sequence[str], order: Sequence[str]) -> list[str]:
        """Keys of the meaningful words, with synonym phrases and synonym words made concepts."""
        stem = self.stemmers.key
        keys = {lang: [stem(t, lang) for t in tokens] for lang in order}
        single = self.lexicon.single[order[0]]
        starts = [self.lexicon.phrase_starts[lang] for lang in order]
        out: list[str] = []
        i = 0
        while i < len(tokens):
            phrase = None
            if any(keys[lang][i] in start for lang, start in zip(order, starts, strict=True)):
                phrase = self._phrase_at(keys, i, order)
            if phrase:
                out.append(phrase[0])
                i += phrase[1]
                continue
            if not _is_stopword(tokens[i]):
                key = keys[order[0]][i]
                out.append(single.get(key, key))
            i += 1
        return out

    def index_terms(self, text: str, lang: str) -> list[str]:
        """The terms of a content text, compounds split into their parts."""
        terms: list[str] = []
        items = self._first_pass.get((lang, text))
        if items is None:
            items = self._keys(tokenize(text), (lang,))
        for item in items:
            terms.extend(self.resolve(item, lang))
        return terms

    def _resolve(self, key: str, lang: str) -> tuple[str, ...]:
        if key.startswith(CONCEPT_PREFIX):
            return (key,)
        concept = self.lexicon.single[lang].get(key)
        if concept:
            return (concept,)
        if lang == "sv":
            parts = self.split(key)
            if parts:
                return tuple(t for p in parts for t in self.resolve(p, "sv"))
        return (key,)

    def finish_build(self) -> None:
        """Drop what only building the index needed."""
        self._first_pass = {}

    def _split(self, word: str, depth: int = 1) -> tuple[str, ...] | None:
        """Split a Swedish compound into known parts (hemarbet -> hem + arbet), fewest parts first."""
        if len(word) < 2 * MIN_PART or depth > MAX_PARTS - 1:
            return None
        best: tuple[str, ...] | None = None
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head = self._head_key(word[:cut])
            if head is None:
                continue
            rest = word[cut:]
            tails = [rest]
            if rest.startswith("s") and len(rest) > MIN_PART:
                tails.append(rest[1:])  # linking s: arbets|uppgift
            for tail in tails:
                atom = tail if tail in self._atoms else self._folded_atoms.get(tail)
                if atom is not None:
                    candidate: tuple[str, ...] | None = (head, atom)
                else:
                    sub = self._split(tail, depth + 1)
                    candidate = (head, *sub) if sub else None
                if candidate and (best is None or len(candidate) < len(best)):
                    best = candidate
        return best

    def _part_ok(self, word: str, key: str | None = None) -> bool:
        if len(word) >= MIN_PLAIN_PART:
            return True
        return len(word) >= MIN_PART and (key or word) in self.lexicon.single["sv"]

    def _head_key(self, head: str) -> str | None:
        if head in self._heads:
            return self._heads[head]
        if head in self._atoms:
            return head
        return self._folded_heads.get(head) or self._folded_atoms.get(head)

    # ---- questions -----------------------------------------------------------------------------

    def detect_language(self, text: str) -> str | None:
        """Swedish or English from function words, Swedish letters and words only one language uses."""
        # A turn asks twice for the same text (the bot for its reply language, then answer()): the
        # last text's result is kept. A pure function of the text, so a stale pair is still right.
        last = self._last_detected
        if last is not None and last[0] == text:
            return last[1]
        found = self._detect_language(text)
        self._last_detected = (text, found)
        return found

    def _detect_language(self, text: str) -> str | None:
        sv = en = 0.0
        for token in tokenize(text):
            in_sv, in_en = token in STOPWORDS["sv"], token in STOPWORDS["en"]
            if in_sv and not in_en:
                sv += 1
            elif in_en and not in_sv:
                en += 1
            if _SWEDISH_LETTERS.intersection(token) or (token in self._folded_stop and not in_en):
                sv += 1
            if token in self._only["sv"]:
                sv += 0.5
            elif token in self._only["en"]:
                en += 0.5
        if sv > en:
            return "sv"
        if en > sv:
            return "en"
        return None

    def query_terms(self, question: str, order: Sequence[str], typo_langs: Sequence[str] = LANGS) -> list[QueryTerm]:
        """The question's meaningful words, each found in the content or marked unknown.

        `order` is the order in which the languages' stems are tried; misspellings are looked for only
        among the words of `typo_langs` (the question's language when it is known), so that an English
        "standing" is not read as a misspelt Swedish "städning".
        """
        tokens = tokenize(question)
        plain = _SWEDISH_LETTERS.isdisjoint(question.lower())
        keys = {lang: [self.stemmers.key(t, lang) for t in tokens] for lang in order}
        out: list[QueryTerm] = []
        i = 0
        while i < len(tokens):
            phrase = self._phrase_at(keys, i, order)
            if phrase:
                weight = OUTSIDE_WEIGHT if phrase[0] in self.lexicon.outside else 1.0
                out.append(QueryTerm(phrase[0], weight, 1.0, " ".join(tokens[i : i + phrase[1]]), weight))
                i += phrase[1]
                continue
            token = tokens[i]
            i += 1
            if _is_stopword(token) or token in self._folded_stop or (len(token) == 1 and not is_number(token)):
                continue
            weight = self._weight(token, order)
            terms, quality = self._find(token, order, typo_langs, plain)
            if not terms:
                out.append(QueryTerm(None, weight, 0.0, token))
                continue
            if not self.lexicon.outside.isdisjoint(terms):
                weight = OUTSIDE_WEIGHT
            share = weight / len(terms)
            out.extend(QueryTerm(t, share, quality, token, weight) for t in terms)
        return out

    def _weight(self, token: str, order: Sequence[str]) -> float:
        if is_number(token):
            return NUMBER_WEIGHT
        for lang in order:
            if self.stemmers.key(token, lang) in self.lexicon.light[lang]:
                return LIGHT_WEIGHT
        return 1.0

    def _find(
        self, token: str, order: Sequence[str], typo_langs: Sequence[str], plain: bool = False
    ) -> tuple[tuple[str, ...], float]:
        """Where a question word is in the content: as written, as a compound, folded, or misspelt.

        In a question typed without å/ä/ö (`plain`), a word that the content has with them is read as that
        word first: "hosten" is "hösten" (autumn), though "host" is also the stem of "hosta" (cough)."""
        folded = fold(token)
        if plain and not is_number(token):
            for lang in order:
                hit = self._folded[lang].get(folded)
                if hit:
                    return self.resolve(hit, lang), 1.0
        for lang in order:
            key = self.stemmers.key(token, lang)
            if key in self.lexicon.single[lang] or key in self.known[lang]:
                return self.resolve(key, lang), 1.0
            # The key of the key: the stemmer strips one ending per word, so "informationen" (-> information)
            # and "information" (-> informatio) get different keys; the second step brings them together.
            again = self.stemmers.key(key, lang)
            if again != key and (again in self.lexicon.single[lang] or again in self.known[lang]):
                return self.resolve(again, lang), 1.0
        if is_number(token):
            return (), 0.0
        # Typed without å/ä/ö: the same word, so the same quality ("motet" is "mötet", "pa plats" is "på plats").
        for lang in order:
            concept = self.lexicon.folded_single[lang].get(self.stemmers.key(folded, lang))
            if concept:
                return (concept,), 1.0
            hit = self._folded[lang].get(folded) or self._folded_keys[lang].get(self.stemmers.key(folded, lang))
            if hit:
                return self.resolve(hit, lang), 1.0
        for word in (self.stemmers.key(token, "sv"), token):
            parts = self.split(word)
            if parts:
                return tuple(t for p in parts for t in self.resolve(p, "sv")), 0.95
        if token.startswith("o") and len(token) > 5:  # olämplig, otillåtet: the same topic as lämplig
            key = self.stemmers.key(token[1:], "sv")
            if key in self.lexicon.single["sv"] or key in self.known["sv"]:
                return self.resolve(key, "sv"), 0.9
        best: tuple[str, str, int] | None = None
        for lang in typo_langs:
            match = self._fuzzy(folded, lang)
            if match and (best is None or match[1] < best[2]):
                best = (lang, match[0], match[1])
        if best:
            lang, word, distance = best
            return self.resolve(self._folded[lang][word], lang), 0.85 if distance == 1 else 0.7
        return (), 0.0

    def _fuzzy(self, word: str, lang: str) -> tuple[str, int] | None:
        """The closest known word with the same first letter within one typo (two for long words);
        None for short words."""
        if len(word) < MIN_TYPO_LENGTH:
            return None
        limit = 1 if len(word) < LONG_WORD else 2
        best: tuple[str, int] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            choices = self._by_start[lang].get((word[:1], length))
            if not choices:
                continue
            if len(word) < LONG_WORD:  # "hunden" is not a misspelt "handen": short words keep two letters
                choices = [c for c in choices if c[1:2] == word[1:2]]
            found = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=limit)
            if found and (best is None or found[1] < best[1]):
                best = (found[0], int(found[1]))
        return best


def _unambiguous(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A map from each key to its value, leaving out keys that two different values share."""
    found: dict[str, str] = {}
    clashes: set[str] = set()
    for key, value in pairs:
        if found.setdefault(key, value) != value:
            clashes.add(key)
    return {k: v for k, v in found.items() if k not in clashes}


def _is_stopword(token: str) -> bool:
    return token in STOPWORDS["sv"] or token in STOPWORDS["en"]
