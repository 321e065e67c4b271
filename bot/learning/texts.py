"""The learning feature's texts, Swedish first."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "refused": {
        "sv": "Det kommandot får bara innehållsägare och HR använda. Kontakta HR om du behöver behörighet.",
        "en": "Only content owners and HR may use that command. Contact HR if you need access.",
    },
    "none": {
        "sv": "Inga obesvarade frågor de senaste {days} dagarna.",
        "en": "No unanswered questions in the last {days} days.",
    },
    "title": {
        "sv": "Obesvarade frågor, senaste {days} dagarna ({groups} grupper)",
        "en": "Unanswered questions, last {days} days ({groups} groups)",
    },
    "times": {"sv": "{count} gånger, senast {last}", "en": "{count} times, last {last}"},
    "once": {"sv": "1 gång, {last}", "en": "once, {last}"},
    "thumbs": {"sv": "👎 {count}", "en": "👎 {count}"},
    "also": {"sv": "Även: {wordings}", "en": "Also: {wordings}"},
    "closest": {"sv": "Närmast i vägledningen:", "en": "Closest in the guidance:"},
    "link": {"sv": "Koppla till: {question}", "en": "Link to: {question}"},
    "link_other": {"sv": "Koppla till annan …", "en": "Link to another …"},
    "link_other_hint": {
        "sv": "Ingångens id eller en fråga den svarar på",
        "en": "The entry's id or a question it answers",
    },
    "link_other_go": {"sv": "Koppla", "en": "Link"},
    "outside": {"sv": "Inte i vägledningen", "en": "Not in the guidance"},
    "ignore": {"sv": "Ignorera", "en": "Ignore"},
    "linked": {
        "sv": "Kopplat till **{entry}**: {count} formuleringar. Samma och liknande frågor besvaras nu.",
        "en": "Linked to **{entry}**: {count} wordings. The same and similar questions are answered now.",
    },
    "marked_outside": {
        "sv": "Markerat som utanför vägledningen ({count} formuleringar). Modellen lär sig av det vid nästa kalibrering.",
        "en": "Marked as outside the guidance ({count} wordings). The model learns from it when next refitted.",
    },
    "ignored": {"sv": "Ignorerat ({count} formuleringar).", "en": "Ignored ({count} wordings)."},
    "no_entry": {
        "sv": "Jag hittar ingen ingång för ”{query}”. Skriv ingångens id, t.ex. utrustning-stol.",
        "en": "I find no entry for “{query}”. Type the entry's id, e.g. utrustning-stol.",
    },
    "not_yours": {
        "sv": "Ingången {entry} hör inte till dina filer eller ämnen.",
        "en": "The entry {entry} is not in your files or topics.",
    },
    "learned_usage": {
        "sv": "Skriv **inlärda fraser** och ingångens id, t.ex. *inlärda fraser utrustning-stol*.",
        "en": "Type **learned phrasings** and the entry's id, e.g. *learned phrasings utrustning-stol*.",
    },
    "learned_none": {
        "sv": "Ingången {entry} har inga inlärda fraser.",
        "en": "The entry {entry} has no learned phrasings.",
    },
    "learned_title": {"sv": "Inlärda fraser för {entry}", "en": "Learned phrasings of {entry}"},
    "learned_line": {"sv": "”{question}” – {by}, {at}", "en": "“{question}” – {by}, {at}"},
    "remove": {"sv": "Ta bort ”{question}”", "en": "Remove “{question}”"},
    "removed": {"sv": "Borttagen: ”{question}”.", "en": "Removed: “{question}”."},
    "remove_gone": {"sv": "Den frasen finns inte längre.", "en": "That phrasing is no longer there."},
    "digest_off": {
        "sv": "Veckobrevet med innehållsrapporten är avstängt. Slå på det igen med **innehållsrapport på**.",
        "en": "The weekly content report digest is off. Turn it on again with **content report on**.",
    },
    "digest_on": {
        "sv": "Du får innehållsrapporten varje måndag morgon.",
        "en": "You get the content report every Monday morning.",
    },
    "digest_title": {"sv": "Innehållsrapport", "en": "Content report"},
}


def lt(key: str, lang: str, **kwargs: Any) -> str:
    entry = TEXTS[key]
    text = entry.get(lang) or entry["sv"]
    return text.format(**kwargs) if kwargs else text
