"""The lägesbild card (one card for the preview and the channels), HR's form, and plain messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity

from bot.broadcast.content import Section, Template
from bot.broadcast.lagesbild import ACTIVATED, ORDINARY, Report, ReportInput
from bot.broadcast.outbox import BroadcastSummary
from bot.broadcast.texts import LAGESBILD_FORMAT, MODE_NAMES, bt
from bot.conversation.cards import card_activity

ACTION_PREVIEW = "bc_lagesbild_preview"
ACTION_PUBLISH = "bc_lagesbild_publish"
ACTION_SCHEDULE = "bc_lagesbild_schedule"
ACTION_EDIT = "bc_lagesbild_edit"
ACTIONS = {ACTION_PREVIEW, ACTION_PUBLISH, ACTION_SCHEDULE, ACTION_EDIT}


def lagesbild_activity(report: Report, sections: Sequence[Section], lang: str = "sv") -> Activity:
    """The report exactly as channels get it, in the organisation's language (`lang`); HR's preview
    is this same activity. HR writes the report's text in one language, so nothing is doubled."""
    mode_text = MODE_NAMES.get(report.mode, MODE_NAMES[ORDINARY]).get(lang) or MODE_NAMES[ORDINARY]["sv"]
    title = bt("lb_title", lang, week=report.week)
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "size": "Large", "weight": "Bolder", "wrap": True},
        {
            "type": "TextBlock",
            "text": mode_text,
            "color": "Attention" if report.mode == ACTIVATED else "Good",
            "weight": "Bolder",
            "spacing": "Small",
            "wrap": True,
        },
        {"type": "TextBlock", "text": report.summary, "wrap": True, "spacing": "Medium"},
    ]
    lines = [title, mode_text, "", report.summary]
    for section in sections:
        text = report.sections.get(section.id)
        if not text:
            continue
        heading = section.title.get(lang)
        body.append({"type": "TextBlock", "text": heading, "weight": "Bolder", "spacing": "Medium", "wrap": True})
        body.append({"type": "TextBlock", "text": text, "wrap": True, "spacing": "Small"})
        lines += ["", f"{heading}:", text]
    footer = bt("lb_from_hr", lang)
    body.append({"type": "TextBlock", "text": footer, "isSubtle": True, "size": "Small", "spacing": "Medium"})
    lines += ["", footer]
    return card_activity(body, [], "\n".join(lines))


def lagesbild_form(
    sections: Sequence[Section],
    lang: str,
    default_week: str,
    prefill: ReportInput | None,
    error: str | None = None,
) -> Activity:
    """HR's form: mode, week, summary and one input per configured section; with `error`, the
    problem above the fields HR filled in, so they correct it instead of starting over."""
    values = prefill
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": bt("lb_form_title", lang), "size": "Large", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": bt("lb_form_intro", lang), "isSubtle": True, "wrap": True},
        {
            "type": "Input.ChoiceSet",
            "id": "mode",
            "label": bt("lb_mode", lang),
            "style": "expanded",
            "value": values.mode if values else ORDINARY,
            "choices": [
                {"title": MODE_NAMES[ORDINARY][lang], "value": ORDINARY},
                {"title": MODE_NAMES[ACTIVATED][lang], "value": ACTIVATED},
            ],
        },
        {
            "type": "Input.Text",
            "id": "week",
            "label": bt("lb_week", lang),
            "value": values.week if values else default_week,
            "isRequired": True,
            "regex": "^\\s*([1-9]|[1-4][0-9]|5[0-3])\\s*$",
            "errorMessage": bt("lb_week_range", lang),
            "maxLength": 32,
        },
        {
            "type": "Input.Text",
            "id": "summary",
            "label": bt("lb_summary", lang),
            "isMultiline": True,
            "isRequired": True,
            "value": values.summary if values else "",
            "maxLength": 4000,
        },
    ]
    for section in sections:
        field: dict[str, Any] = {
            "type": "Input.Text",
            "id": f"section_{section.id}",
            "label": section.title.get(lang),
            "isMultiline": True,
            "isRequired": section.required,
            "value": values.sections.get(section.id, "") if values else "",
            "maxLength": 4000,
        }
        if section.hint:
            field["placeholder"] = section.hint.get(lang)
        body.append(field)
    if error:
        body.insert(
            2,
            {"type": "TextBlock", "text": f"{bt('lb_form_error', lang)} {error}", "color": "Attention", "wrap": True},
        )
    actions = [
        {
            "type": "Action.Submit",
            "title": bt("lb_preview_button", lang),
            "data": {"action": ACTION_PREVIEW, "lang": lang},
        }
    ]
    fallback = format_help(sections, lang)
    return card_activity(body, actions, f"{error}\n\n{fallback}" if error else fallback)


def format_help(sections: Sequence[Section], lang: str) -> str:
    """The single-message format, for clients without cards and for the help."""
    section_lines = "\n".join(f"{s.title.get(lang).lower()}: …" for s in sections)
    return (
        bt("lb_form_title", lang)
        + "\n\n"
        + LAGESBILD_FORMAT.get(lang, LAGESBILD_FORMAT["sv"]).format(sections=section_lines)
    )


def next_steps(report: Report, slot_text: str | None, lang: str, done: str | None = None) -> Activity:
    """After the preview: publish now, leave it for the weekly slot, or edit. Button titles stay
    short (Teams cuts long ones); the slot is in the text. With `done` (after a click), the card
    says what happened and has no buttons left to click."""
    text = bt("lb_next_steps", lang, slot=slot_text or "–")
    if done:
        return card_activity([{"type": "TextBlock", "text": done, "wrap": True, "weight": "Bolder"}], [], done)
    data = {"report_id": report.id, "lang": lang}
    actions = [
        {"type": "Action.Submit", "title": bt("lb_publish_button", lang), "data": {"action": ACTION_PUBLISH, **data}}
    ]
    if slot_text:
        actions.append(
            {
                "type": "Action.Submit",
                "title": bt("lb_schedule_button", lang),
                "data": {"action": ACTION_SCHEDULE, **data},
            }
        )
    actions.append(
        {"type": "Action.Submit", "title": bt("lb_edit_button", lang), "data": {"action": ACTION_EDIT, **data}}
    )
    return card_activity([{"type": "TextBlock", "text": text, "wrap": True}], actions, text)


def reminder_activity(
    unit_name: str, author_name: str | None, text: str | None, template: Template | None, lang: str = "sv"
) -> Activity:
    """An ambassador's reminder in the organisation's language (`lang`): a template's text in that
    language, or the ambassador's own words as written."""
    header = bt("rem_header", lang, unit=unit_name)
    message = template.text.get(lang) if template else (text or "")
    signature = f"\n\n_{bt('rem_signature', lang, name=author_name)}_" if author_name else ""
    return MessageFactory.text(f"**{header}**\n\n{message}{signature}")


def delivery_report(summary: BroadcastSummary) -> Activity:
    """The author's report when a broadcast has ended: delivered, failed (with reasons), gone."""
    lang = summary.lang
    lines = [
        f"**{bt('report_title', lang, subject=summary.title)}**",
        bt("report_delivered", lang, delivered=summary.delivered, total=summary.total),
    ]
    if summary.failed:
        lines += ["", bt("report_failed", lang, count=len(summary.failed))]
        lines += [f"- {label}: {reason}" for label, reason in summary.failed[:30]]
    if summary.gone:
        lines += ["", bt("report_gone", lang, count=len(summary.gone))]
        lines += [f"- {label}" for label in summary.gone[:30]]
    return MessageFactory.text("\n".join(lines))
