"""Every sentence the bot itself says (not content), Swedish first and English too."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "sv": (
            "Hej! Jag svarar på frågor om hemarbete, distansarbete och återgången till kontoret, "
            "utifrån kommunens egna beslut. Skriv en fråga, eller **hjälp** för att se vad jag kan."
        ),
        "en": (
            "Hi! I answer questions about working from home, remote work and returning to the "
            "office, based on the organisation's own decisions. Ask a question, or type **help** "
            "to see what I can do."
        ),
    },
    "greeting_other": {
        "sv": "_På svenska: skriv **svenska**, eller skriv bara på svenska._",
        "en": "_In English: type **english**, or just write in English._",
    },
    "language_set": {
        "sv": "Jag svarar på svenska i den här konversationen. Skriv **english** för engelska.",
        "en": "I will answer in English in this conversation. Type **svenska** for Swedish.",
    },
    "help_intro": {
        "sv": "Det här kan jag:\n- Svara på frågor om hemarbete och återgång till kontoret – skriv bara din fråga.",
        "en": "This is what I can do:\n- Answer questions about remote work and returning to the office – just type your question.",
    },
    "welcome": {"sv": "Varsågod! Fråga gärna igen.", "en": "You're welcome! Ask again any time."},
    "help_more_for_roles": {
        "sv": "_Chefer, HR och ambassadörer har fler kommandon (lägesbild, påminnelser)._",
        "en": "_Managers, HR and ambassadors have more commands (situation report, reminders)._",
    },
    "help_commands": {"sv": "Kommandon:", "en": "Commands:"},
    "topics_intro": {
        "sv": "Jag kan svara på frågor inom de här ämnena:",
        "en": "I can answer questions on these topics:",
    },
    "no_text": {
        "sv": "Jag kan bara läsa text. Skriv din fråga, eller **hjälp** för att se vad jag kan.",
        "en": "I can only read text. Type your question, or **help** to see what I can do.",
    },
    "unknown_submit": {
        "sv": "Jag förstod inte det valet. Skriv din fråga eller **hjälp**.",
        "en": "I did not understand that choice. Type your question or **help**.",
    },
    "feedback_thanks_up": {"sv": "Tack! Skönt att svaret hjälpte.", "en": "Thanks! Glad the answer helped."},
    "feedback_thanks_down": {
        "sv": "Tack för att du säger till. Vi använder det för att förbättra svaren. Fråga gärna din chef eller HR om du behöver svar nu.",
        "en": "Thanks for telling us. We use it to improve the answers. Ask your manager or HR if you need an answer now.",
    },
    "pick_number_short": {
        "sv": "Tryck på en fråga, eller skriv dess nummer.",
        "en": "Tap a question, or type its number.",
    },
    "feedback_given_up": {"sv": "👍 Tack för ditt svar!", "en": "👍 Thanks for your feedback!"},
    "feedback_given_down": {
        "sv": "👎 Tack för ditt svar! Vi använder det för att förbättra svaren.",
        "en": "👎 Thanks for your feedback! We use it to improve the answers.",
    },
    "feedback_stale": {
        "sv": "Du har redan svarat på det kortet – ditt första svar gäller.",
        "en": "You already answered on that card – your first answer counts.",
    },
    "related": {"sv": "Relaterade frågor", "en": "Related questions"},
    "close_topics": {"sv": "Menade du något av det här?", "en": "Did you mean one of these?"},
    "helped_q": {"sv": "Hjälpte svaret?", "en": "Did this help?"},
    "yes": {"sv": "👍 Ja", "en": "👍 Yes"},
    "no": {"sv": "👎 Nej", "en": "👎 No"},
    "source": {"sv": "Källa", "en": "Source"},
    "error": {
        "sv": "Något gick fel hos mig. Försök igen om en stund.",
        "en": "Something went wrong on my side. Please try again in a moment.",
    },
    "not_allowed": {
        "sv": "Det kommandot får bara {role} använda. Kontakta HR om du behöver behörighet.",
        "en": "Only {role} may use that command. Contact HR if you need access.",
    },
    "pick_number": {
        "sv": "Skriv numret på en fråga ovan, eller ställ en ny fråga.",
        "en": "Type the number of a question above, or ask a new question.",
    },
}


COUNTED: dict[str, dict[str, tuple[str, str]]] = {
    "channel": {"sv": ("kanal", "kanaler"), "en": ("channel", "channels")},
    "answer": {"sv": ("svar", "svar"), "en": ("answer", "answers")},
}


def counted(n: int, noun: str, lang: str) -> str:
    """ "1 kanal", "2 kanaler", "1 channel": a number with its noun in the right form."""
    one, many = COUNTED[noun].get(lang) or COUNTED[noun]["sv"]
    return f"{n} {one if n == 1 else many}"


def t(key: str, lang: str, **kwargs: Any) -> str:
    """The text for `key` in `lang` (Swedish when the language is unknown)."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["sv"]
    return text.format(**kwargs) if kwargs else text
