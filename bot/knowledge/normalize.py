"""Text normalisation shared by the index and the questions: tokens, stop words, stems, folded spellings.

Both sides of the match go through the same functions, so that an entry written as "distansarbete"
and a question typed as "distansarbetet" or "distansarbete" end up with the same keys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

LANGS: tuple[str, ...] = ("sv", "en")

# Letters (any script) or numbers such as "1,5" and "2021"; hyphens and punctuation split words.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+", re.UNICODE)

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o"})

# Function words and question frames that say nothing about the topic. Topic-specific "light" words
# live in content/synonyms.yaml so that the organisation can tune them.
STOPWORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        """
        och det att i en ett jag hon som han på den med var sig för så till är men om hade de av icke mig du
        henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något från ut när upp
        vi dem vara vad över än dig kan sina här ha mot alla under någon eller allt mycket sedan ju denna själv
        detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras blir mina samma vilken er
        sådan vår blivit dess inom mellan sådant varje vilka ditt vem vilket sådana vart dina vars vårt
        våra ert era får få fick måste ska skall bör borde vill kommer komma kunna också även väl nog bara mer
        mest gärna osv etc hej hallå tack snälla undrar undra veta vet nån dom ens kanske typ liksom alltså
        sånt sån såna ja nej jo ta tar tog slå stänga sätta använda just någonting hos ok okej sig man
        varit blivit gå går
        berätta berättar förklara förklarar beskriv beskriva visa ge kring angående beträffande
        tjena tjenare hejsan heter nåt nåra bot boten
        """.split()
    ),
    "en": frozenset(
        """
        i me my myself we our ours you your yours he him his she her it its they them their what which who
        whom this that these those am is are was were be been being have has had having do does did doing a
        an the and but if or because as until while of at by for with about against between into through
        during above below to from up down in out on off over under further then once here there when where
        how all any both each few more most other some such no nor not only own so than too very can will
        just should may might must could would shall please hi hello thanks get got let us im its dont cant
        allowed ok okay turn switch keep use put take make also s t gets getting goes going become becomes
        re ll ve d m tell explain describe show give want wants know like wonder wondering regarding concerning
        thank hey bot
        """.split()
    ),
}

# Definite and plural endings that the Swedish Snowball stemmer leaves on some words
# (kameran, veckan, jobbet, entrén); removing them first gives the same key as the bare word.
_SV_ENDINGS: tuple[str, ...] = ("arna", "erna", "orna", "na", "en", "et", "an", "n", "t")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens; punctuation, hyphens and apostrophes split words."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def fold(word: str) -> str:
    """The word without Swedish diacritics, for people who type "hemifran" on an English keyboard."""
    return word.translate(_FOLD)


def is_number(token: str) -> bool:
    return token[:1].isdigit()


class Stemmers:
    """Snowball stemmers for Swedish and English, with a cache: the vocabulary of questions is small."""

    def __init__(self) -> None:
        self._sv = Stemmer.Stemmer("swedish")
        self._en = Stemmer.Stemmer("english")
        self.key = lru_cache(maxsize=50_000)(self._key)

    def _fix(self, stemmer: Stemmer.Stemmer, word: str) -> str:
        # Stemming until nothing changes makes "kontoret" -> "kontor" -> "kont" agree with "kontor" -> "kont".
        for _ in range(4):
            stem = stemmer.stemWord(word)
            if stem == word:
                break
            word = stem
        return word

    def _key(self, token: str, lang: str) -> str:
        """The canonical key of a token in a language: its stem, made stable across inflections."""
        if is_number(token):
            return token.replace(".", ",")
        if lang == "en":
            return self._fix(self._en, token)
        key = self._fix(self._sv, token)
        for ending in _SV_ENDINGS:
            if token.endswith(ending) and len(token) - len(ending) >= 3:
                shorter = self._fix(self._sv, token[: -len(ending)])
                if len(shorter) < len(key):
                    key = shorter
        return key
