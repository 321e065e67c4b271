"""Which language to answer in: the one the user wrote in, else the Teams locale, else Swedish."""

from __future__ import annotations

import re

from botbuilder.schema import Activity

from bot.conversation.texts import t

Lang = str  # "sv" or "en"

_SV_MARKERS = set(
    "och att det som är får jag vi du hur vad när var vilka vilken kan ska måste inte med "
    "för på till om har hemma hemifrån jobba arbeta kontoret mötet gäller skickas".split()
)
_EN_MARKERS = set(
    "the and is are can may i we you how what when where which who should must not with for "
    "to from work office home meeting does do my our".split()
)
_WORD = re.compile(r"[a-zåäöéü]+")


def detect_language(text: str) -> Lang | None:
    """A cheap guess from function words and Swedish letters; None when there is no signal."""
    lowered = text.lower()
    if any(ch in lowered for ch in "åäö"):
        return "sv"
    words = _WORD.findall(lowered)
    sv = sum(w in _SV_MARKERS for w in words)
    en = sum(w in _EN_MARKERS for w in words)
    if sv > en:
        return "sv"
    if en > sv:
        return "en"
    return None


def locale_language(locale: str | None) -> Lang | None:
    """Swedish or English from a Teams locale ("sv-SE", "en-US"); None for any other locale."""
    lowered = (locale or "").lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("sv"):
        return "sv"
    return None


def language_for(text: str, locale: str | None) -> Lang:
    guess = detect_language(text) if text else None
    if guess:
        return guess
    if locale and locale.lower().startswith("en"):
        return "en"
    return "sv"


def turn_failed_text(activity: Activity) -> str:
    """What a user reads when their turn failed, in the language they wrote in."""
    return t("error", language_for(activity.text or "", activity.locale))
