"""Reading what a manager types during a walkthrough: control words, choices, notes and questions.

The rule for "a question or a note": text that ends with "?" or starts with a question word
("hur", "vad", "varför", "får jag" …, "how", "what", "can I" …) is a question for the guidance;
other text is an answer. "anteckning:" / "note:" in front saves anything as a note.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from bot.conversation.commands import normalize_command_text
from dialogs.definitions import Choice

CONTROL_WORDS = {
    "cancel": {"avbryt", "avsluta", "sluta", "cancel", "stop", "quit", "exit"},
    "back": {"tillbaka", "bakåt", "backa", "föregående", "back", "go back", "previous", "undo"},
    "help": {"hjälp", "hjalp", "help", "förklara", "explain"},
    "pause": {"paus", "pausa", "senare", "fortsätt senare", "pause", "later", "continue later"},
}
NOT_RELEVANT_WORDS = {"inte aktuellt", "ej aktuellt", "inte relevant", "not relevant", "n/a", "na", "not applicable"}
LATER_WORDS = {"bestäm senare", "bestämmer senare", "vet inte än", "decide later", "not decided", "later decide"}
NOTE_PREFIXES = ("anteckning:", "anteckning :", "note:", "note :")
QUESTION_STARTS = (
    "hur", "vad", "varför", "vem", "vilka", "vilken", "vilket",
    "får jag", "får man", "kan jag", "kan man", "måste jag", "måste man", "ska jag", "ska man", "gäller det",
    "how", "what", "why", "who", "which", "can i", "may i", "must i", "should i", "do i", "does", "is it", "are we",
)  # fmt: skip
FUZZY_MIN = 80  # rapidfuzz ratio: "bara en dell" still means "Bara en del"
FUZZY_MARGIN = 10  # and it must be clearly closer to one choice than to the others


def control_word(text: str) -> str | None:
    """The control word ("cancel", "back", "help", "pause") when the whole message is one."""
    if text.strip() == "?":
        return "help"
    norm = normalize_command_text(text)
    return next((key for key, words in CONTROL_WORDS.items() if norm in words), None)


def note_mark(text: str) -> str | None:
    """The mark ("not_relevant" or "later") when the whole message says so."""
    norm = normalize_command_text(text)
    if norm in NOT_RELEVANT_WORDS:
        return "not_relevant"
    if norm in LATER_WORDS:
        return "later"
    return None


def forced_note(text: str) -> str | None:
    """The note after an explicit "anteckning:" / "note:", else None."""
    stripped = text.strip()
    lowered = stripped.lower()
    for prefix in NOTE_PREFIXES:
        if lowered.startswith(prefix):
            return stripped[len(prefix) :].strip()
    return None


def looks_like_question(text: str) -> bool:
    """Ends with "?" or starts with a question word: a question for the guidance, not an answer."""
    if text.strip().endswith("?"):
        return True
    norm = normalize_command_text(text)
    return any(norm == start or norm.startswith(start + " ") for start in QUESTION_STARTS)


def match_choice(text: str, choices: list[Choice]) -> Choice | None:
    """The choice meant by a number, its words (either language, aliases) or a small typo of them."""
    norm = normalize_command_text(text)
    if not norm:
        return None
    if norm.isdecimal():
        index = int(norm) - 1
        return choices[index] if 0 <= index < len(choices) else None
    labels = {c.id: _labels(c) for c in choices}
    exact = [c for c in choices if norm in labels[c.id]]
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None  # the same word on two choices: ask again rather than guess
    prefixed = [c for c in choices if len(norm) >= 3 and any(label.startswith(norm + " ") for label in labels[c.id])]
    if len(prefixed) == 1:
        return prefixed[0]
    scored = sorted(((max(fuzz.ratio(norm, label) for label in labels[c.id]), c) for c in choices), key=lambda s: -s[0])
    best_score, best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= FUZZY_MIN and best_score - runner_up >= FUZZY_MARGIN:
        return best
    return None


def _labels(choice: Choice) -> set[str]:
    words = [choice.text.sv, choice.text.en or "", *choice.aliases]
    return {normalize_command_text(w) for w in words if w.strip()}
