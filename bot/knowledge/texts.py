"""The fixed wording of replies around the answers: source and period lines, the honest fallback."""

from __future__ import annotations

import datetime

from bot.knowledge.models import Entry, Source

_FALLBACK = {
    "sv": "Jag hittar inget svar på det i vägledningen om hemarbete, distansarbete och återgång till kontoret.",
    "en": "I can't find an answer to that in the guidance on working from home, remote work and returning "
    "to the office.",
}
_CLOSE = {
    "sv": "Närliggande frågor som jag kan svara på (skriv siffran):",
    "en": "Related questions I can answer (type the number):",
}
_WHERE_TO_TURN = {
    "sv": "Vänd dig till din chef eller till HR, eller läs mer på HINT.",
    "en": "Please ask your manager or HR, or read more on HINT.",
}


def source_line(source: Source, lang: str, locator: str = "") -> str:
    """Title, date, diarienummer when there is one, the section it rests on, and where to read more."""
    where = source.where_text(lang)
    if source.url:
        where = f"{where} ({source.url})"
    if lang == "en":
        ref = f", ref. {source.diarienummer}" if source.diarienummer else ""
        section = f" ({locator})" if locator else ""
        return f"Source: {source.title}, {source.date}{ref}{section}. Read more: {where}."
    ref = f", dnr {source.diarienummer}" if source.diarienummer else ""
    section = f", {locator}" if locator else ""
    return f"Källa: {source.title}, {source.date}{ref}{section}. Läs mer: {where}."


def ended_notice(entry: Entry, lang: str) -> str:
    """For a question about now, answered by the guidance's latest rule on it, which has ended: say so first,
    with its period, and where to ask what applies today (the source line below names the decision)."""
    period = f"{entry.period_from} – {entry.period_to}" if entry.period_from else f"–{entry.period_to}"
    if lang == "en":
        return (
            f"Note: this is the latest decision in the guidance, and its period ({period}) has ended. "
            "Ask your manager or HR, or read on HINT, what applies now."
        )
    return (
        f"Obs: det här är det senaste beslutet i vägledningen, och dess period ({period}) har upphört. "
        "Fråga din chef eller HR, eller läs på HINT, vad som gäller nu."
    )


def answer_text(entry: Entry, lang: str, today: datetime.date, ended: bool = False) -> str:
    """The answer, then the source line, then whether the rule still applies.

    `ended` is set for a question about now answered by the latest rule on it, whose period is over: the
    reply then opens by saying so."""
    lines = [entry.answer_text(lang), "", entry.kind_text(lang), source_line(entry.source, lang, entry.locator)]
    if ended:
        lines = [ended_notice(entry, lang), "", *lines]
    period = entry.period_text(lang, today)
    if period:
        lines.append(period)
    return "\n".join(lines)


def fallback_text(lang: str, close: list[Entry]) -> str:
    """Says plainly that the guidance has no answer, offers close topics and names where to turn."""
    lines = [_FALLBACK[lang]]
    if close:
        lines += ["", _CLOSE[lang]]
        lines += [f"{number}. {entry.question(lang)}" for number, entry in enumerate(close, start=1)]
    lines += ["", _WHERE_TO_TURN[lang]]
    return "\n".join(lines)
