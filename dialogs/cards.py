"""Adaptive Cards for walkthroughs: every button submits {"action": "walkthrough", "op": …}.

Each card carries a plain-text fallback with numbered choices, so the walkthrough also works
where cards are not shown (and in the terminal chat).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botbuilder.schema import Activity

from bot.conversation.cards import card_activity
from dialogs.definitions import Question, Walkthrough
from dialogs.engine import Result
from dialogs.texts import wt

ACTION = "walkthrough"


def submit(title: str, op: str, lang: str, **data: Any) -> dict[str, Any]:
    """A button; `lang` travels along so the reply is in the language the card was shown in."""
    return {"type": "Action.Submit", "title": title, "data": {"action": ACTION, "op": op, "lang": lang, **data}}


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def question_activity(
    w: Walkthrough, question: Question, number: int, lang: str, notices: list[str] | None = None
) -> Activity:
    """One question: the choices (or a note field) as buttons, then back, help and cancel."""
    section = w.section(question.section)
    where = " · ".join(p for p in (w.title.get(lang), section.title.get(lang) if section else "") if p)
    body = [_text(n) for n in notices or []]
    body.append(_text(f"{where} · {wt('question_of', lang, n=number)}", isSubtle=True, size="Small"))
    body.append(_text(question.text.get(lang), weight="Bolder"))
    ids = {"walkthrough": w.id, "question": question.id}
    fallback = [*(notices or []), f"{where} · {wt('question_of', lang, n=number)}", question.text.get(lang)]
    if question.kind == "note":
        body.append(
            {"type": "Input.Text", "id": "note", "isMultiline": True, "maxLength": 1000,
             "placeholder": wt("note_placeholder", lang)}
        )  # fmt: skip
        buttons = [submit(wt("save_note", lang), "note", lang, **ids)]
        if question.not_relevant:
            buttons.append(submit(wt("not_relevant", lang), "not_relevant", lang, **ids))
        if question.later:
            buttons.append(submit(wt("later", lang), "later", lang, **ids))
        later = wt("note_hint_later", lang) if question.later else ""
        fallback.append(wt("note_hint", lang, later=later))
    else:
        buttons = [submit(c.text.get(lang), "answer", lang, choice=c.id, **ids) for c in question.choices]
        fallback += [f"{i}. {c.text.get(lang)}" for i, c in enumerate(question.choices, 1)]
        fallback.append(wt("choose_hint", lang))
    body.append({"type": "ActionSet", "actions": buttons})
    nav = [submit(wt("back", lang), "back", lang, **ids)] if number > 1 else []
    nav += [submit(wt("help", lang), "help", lang, **ids), submit(wt("cancel", lang), "cancel", lang, **ids)]
    return card_activity(body, nav, "\n".join(fallback))


def answered_activity(w: Walkthrough, question: Question, answer: str, lang: str) -> Activity:
    """A question card after its answer was clicked: the question and the answer, nothing to click."""
    body = [
        _text(w.title.get(lang), isSubtle=True, size="Small"),
        _text(question.text.get(lang), weight="Bolder"),
        _text(f"✓ {answer}", color="Good"),
    ]
    return card_activity(body, [], f"{question.text.get(lang)}\n✓ {answer}")


def choice_activity(text: str, buttons: list[dict[str, Any]]) -> Activity:
    """A short message with buttons (continue or start over …); the fallback numbers nothing."""
    lines = [text, *(f"- {b['title']}" for b in buttons)]
    return card_activity([_text(text)], buttons, "\n".join(lines))


def result_body(result: Result, created: datetime, lang: str) -> list[dict[str, Any]]:
    body = [
        _text(result.title, weight="Bolder", size="Medium"),
        _text(f"{wt('date', lang)}: {created:%Y-%m-%d}", isSubtle=True, size="Small", spacing="None"),
    ]
    if result.outcome:
        body.append(_text(f"**{wt('outcome', lang)}: {result.outcome}**"))
        if result.summary:
            body.append(_text(result.summary, spacing="Small"))
    sections = [
        (wt("reasons", lang), result.reasons) if result.outcome else None,
        (result.actions_heading, result.actions or [wt("none", lang)]),
        (wt("answers", lang), [f"{line.question}: {line.answer}" for line in result.answers]),
        (wt("reminders", lang), result.reminders),
    ]
    for part in sections:
        if part is None or not part[1]:
            continue
        heading, items = part
        body.append(_text(heading, weight="Bolder", spacing="Medium"))
        body.append(_text("\n".join(f"- {item}" for item in items), spacing="Small"))
    if result.source:
        body.append(_text(f"{wt('source', lang)}: {result.source}", isSubtle=True, size="Small", spacing="Medium"))
    return body


def result_activity(
    result: Result, result_id: int, created: datetime, markdown: str, lang: str, note: str | None = None
) -> Activity:
    """The result with export, delete and list buttons; `note` (saved …) ends the card and its fallback."""
    body = result_body(result, created, lang)
    if note:
        body.append(_text(note, isSubtle=True, spacing="Medium"))
        markdown = f"{markdown}\n\n{note}"
    actions = [
        submit(wt("export", lang), "export", lang, result=result_id),
        submit(wt("delete", lang), "delete", lang, result=result_id),
        submit(wt("my_checklists", lang), "list", lang),
    ]
    return card_activity(body, actions, markdown)


def list_activity(items: list[tuple[int, int, str, datetime]], lang: str) -> Activity:
    """Saved results as (number, id, title, created) with show, export and delete buttons each."""
    body = [_text(wt("list_intro", lang), weight="Bolder")]
    fallback = [wt("list_intro", lang)]
    for number, result_id, title, created in items:
        line = f"{number}. {title} ({created:%Y-%m-%d})"
        fallback.append(line)
        body.append(_text(line, spacing="Medium"))
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(wt("show", lang), "show", lang, result=result_id),
                    submit(wt("export", lang), "export", lang, result=result_id),
                    submit(wt("delete", lang), "delete", lang, result=result_id),
                ],
            }
        )
    fallback.append(wt("list_hint", lang))
    body.append(_text(wt("list_hint", lang), isSubtle=True, size="Small"))
    return card_activity(body, [], "\n".join(fallback))
