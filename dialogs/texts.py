"""What the walkthroughs themselves say (the checklists' own texts are in content/checklists/)."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    # The question card.
    "question_of": {"sv": "Fråga {n}", "en": "Question {n}"},
    "choose_hint": {
        "sv": "Svara med numret eller orden. Du kan också skriva **tillbaka**, **hjälp**, **paus** eller **avbryt**.",
        "en": "Answer with the number or the words. You can also type **back**, **help**, **pause** or **cancel**.",
    },
    "note_hint": {
        "sv": (
            "Skriv en kort anteckning. Du kan också skriva **inte aktuellt**{later}, **tillbaka**, **hjälp**, "
            "**paus** eller **avbryt**. Slutar texten med ? svarar jag på den som en fråga; börja med "
            "*anteckning:* om den ska sparas ändå."
        ),
        "en": (
            "Type a short note. You can also type **not relevant**{later}, **back**, **help**, **pause** or "
            "**cancel**. If the text ends with ? I answer it as a question; start with *note:* to save it anyway."
        ),
    },
    "note_hint_later": {"sv": ", **bestäm senare**", "en": ", **decide later**"},
    "note_placeholder": {"sv": "Din anteckning …", "en": "Your note …"},
    "save_note": {"sv": "Spara", "en": "Save"},
    "not_relevant": {"sv": "Inte aktuellt", "en": "Not relevant"},
    "later": {"sv": "Bestäm senare", "en": "Decide later"},
    "open_item_later": {"sv": "{item}: inte bestämt ännu", "en": "{item}: not decided yet"},
    "actions": {"sv": "Åtgärder", "en": "Action items"},
    "back": {"sv": "⬅ Tillbaka", "en": "⬅ Back"},
    "help": {"sv": "Hjälp", "en": "Help"},
    "cancel": {"sv": "Avbryt", "en": "Cancel"},
    # Answers that do not fit.
    "no_fit": {
        "sv": "Jag kunde inte koppla ”{text}” till något av svaren. Välj en knapp, skriv numret eller skriv **hjälp**.",
        "en": "I could not match “{text}” to one of the answers. Pick a button, type the number, or type **help**.",
    },
    "empty_note": {
        "sv": "Anteckningen var tom. Skriv något, eller välj **Inte aktuellt**.",
        "en": "The note was empty. Type something, or choose **Not relevant**.",
    },
    "stale_button": {
        "sv": "Den knappen hör till en tidigare fråga. Här är frågan vi är på:",
        "en": "That button belongs to an earlier question. This is the question we are on:",
    },
    "not_running": {
        "sv": "Den genomgången är inte igång längre. Skriv **{phrase}** för att börja.",
        "en": "That walkthrough is no longer running. Type **{phrase}** to start.",
    },
    "removed": {
        "sv": "Den checklistan finns inte längre, så jag avslutade den. Skriv **hjälp** för att se vad jag kan.",
        "en": "That checklist no longer exists, so I ended it. Type **help** to see what I can do.",
    },
    "first_question": {"sv": "Det här är första frågan.", "en": "This is the first question."},
    "help_prefix": {"sv": "ℹ️ {help}", "en": "ℹ️ {help}"},
    "back_to_question": {"sv": "Tillbaka till frågan:", "en": "Back to the question:"},
    "changed": {
        "sv": "Checklistan har ändrats sedan du började, så några av dina svar behöver göras om.",
        "en": "The checklist has changed since you started, so some of your answers need to be given again.",
    },
    # Starting, pausing, ending.
    "cancelled": {
        "sv": "Okej, jag avbröt **{title}**. Inget av svaren sparades.",
        "en": "OK, I cancelled **{title}**. None of the answers were kept.",
    },
    "paused": {
        "sv": "Dina svar är sparade. Skriv **{phrase}** när du vill fortsätta, även om några dagar.",
        "en": "Your answers are saved. Type **{phrase}** when you want to continue, even in a few days.",
    },
    "in_progress_same": {
        "sv": "Du har redan påbörjat **{title}** ({n}). Vill du fortsätta där du var eller börja om?",
        "en": "You have already started **{title}** ({n}). Continue where you were, or start over?",
    },
    "in_progress_other": {
        "sv": "Du är mitt i **{other}** ({n}). Vill du fortsätta med den, eller slänga de svaren och börja **{title}**?",
        "en": "You are in the middle of **{other}** ({n}). Continue it, or discard those answers and start **{title}**?",
    },
    "continue": {"sv": "▶ Fortsätt", "en": "▶ Continue"},
    "restart": {"sv": "↺ Börja om", "en": "↺ Start over"},
    "switch": {"sv": "Börja {title}", "en": "Start {title}"},
    "offer_start": {"sv": "▶ Gå igenom: {title}", "en": "▶ Walk through: {title}"},
    # Results.
    "result_saved": {
        "sv": "Resultatet är sparat – skriv **mina checklistor** för att se det igen eller radera det.",
        "en": "The result is saved – type **my checklists** to see it again or delete it.",
    },
    "outcome": {"sv": "Bedömning", "en": "Assessment"},
    "reasons": {"sv": "Skäl", "en": "Reasons"},
    "answers": {"sv": "Svar och anteckningar", "en": "Answers and notes"},
    "reminders": {"sv": "Att komma ihåg", "en": "Keep in mind"},
    "source": {"sv": "Källa", "en": "Source"},
    "none": {"sv": "Inga.", "en": "None."},
    "date": {"sv": "Datum", "en": "Date"},
    "export": {"sv": "⬇ Exportera (Markdown)", "en": "⬇ Export (Markdown)"},
    "show": {"sv": "Visa", "en": "Show"},
    "delete": {"sv": "🗑 Radera", "en": "🗑 Delete"},
    "my_checklists": {"sv": "Mina checklistor", "en": "My checklists"},
    "list_intro": {"sv": "Dina sparade checklistor:", "en": "Your saved checklists:"},
    "list_hint": {
        "sv": "Skriv **visa checklista 1**, **exportera checklista 1** eller **radera checklista 1**.",
        "en": "Type **show checklist 1**, **export checklist 1** or **delete checklist 1**.",
    },
    "list_empty": {
        "sv": "Du har inga sparade checklistor. Skriv {starts} för att göra en.",
        "en": "You have no saved checklists. Type {starts} to make one.",
    },
    "no_such_result": {
        "sv": "Jag hittar ingen checklista med det numret. Skriv **mina checklistor** för att se listan.",
        "en": "I cannot find a checklist with that number. Type **my checklists** to see the list.",
    },
    "deleted": {"sv": "Raderat: **{title}**.", "en": "Deleted: **{title}**."},
    "export_intro": {
        "sv": "Här är **{title}** som Markdown, att kopiera in i personakten eller enhetens plan:",
        "en": "Here is **{title}** as Markdown, to copy into the employee's file or the unit's plan:",
    },
    # Commands.
    "cmd_list": {"sv": "visar dina sparade checklistor", "en": "shows your saved checklists"},
    "cmd_show": {"sv": "visar en sparad checklista", "en": "shows a saved checklist"},
    "cmd_export": {"sv": "ger en sparad checklista som Markdown", "en": "gives a saved checklist as Markdown"},
    "cmd_delete": {"sv": "raderar en sparad checklista", "en": "deletes a saved checklist"},
}


def wt(key: str, lang: str, **kwargs: Any) -> str:
    """The text for `key` in `lang` (Swedish when the language is unknown)."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["sv"]
    return text.format(**kwargs) if kwargs else text
