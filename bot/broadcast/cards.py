"""The lägesbild card (one card for the preview and the channels), HR's form, and plain messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity

from bot.broadcast.content import Section, Template
from bot.broadcast.lagesbild import ACTIVATED, ORDINARY, Report
from bot.broadcast.outbox import BroadcastSummary
from bot.broadcast.texts import LAGESBILD_FORMAT, MODE_NAMES, bt
from bot.conversation.cards import card_activity

ACTION_PREVIEW = "bc_lagesbild_preview"
ACTION_PUBLISH = "bc_lagesbild_publish"
ACTION_SCHEDULE = "bc_lagesbild_schedule"
ACTION_EDIT = "bc_lagesbild_edit"
ACTIONS = {ACTION_PREVIEW, ACTION_PUBLISH, ACTION_SCHEDULE, ACTION_EDIT}


def _both(key: str, **kwargs: Any) -> str:
    """Swedish first, English after: channel messages are read by everyone."""
    sv, en = bt(key, "sv", **kwargs), bt(key, "en", **kwargs)
    return sv if sv == en else f"{sv} · {en}"


def lagesbild_activity(report: Report, sections: Sequence[Section]) -> Activity:
    """The report exactly as channels get it; HR's preview is this same activity."""
    mode = MODE_NAMES.get(report.mode, MODE_NAMES[ORDINARY])
    title = _both("lb_title", week=report.week)
    mode_text = f"{mode['sv']} · {mode['en']}"
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
        heading = f"{section.title.sv} · {section.title.en}"
        body.append({"type": "TextBlock", "text": heading, "weight": "Bolder", "spacing": "Medium", "wrap": True})
        body.append({"type": "TextBlock", "text": text, "wrap": True, "spacing": "Small"})
        lines += ["", f"{heading}:", text]
    footer = _both("lb_from_hr")
    body.append({"type": "TextBlock", "text": footer, "isSubtle": True, "size": "Small", "spacing": "Medium"})
    lines += ["", footer]
    return card_activity(body, [], "\n".join(lines))


def lagesbild_form(sections: Sequence[Section], lang: str, default_week: str, prefill: Report | None) -> Activity:
    """HR's form: mode, week, summary and one input per configured section."""
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
    actions = [{"type": "Action.Submit", "title": bt("lb_preview_button", lang), "data": {"action": ACTION_PREVIEW}}]
    return card_activity(body, actions, format_help(sections, lang))


def format_help(sections: Sequence[Section], lang: str) -> str:
    """The single-message format, for clients without cards and for the help."""
    section_lines = "\n".join(f"{s.title.get(lang).lower()}: …" for s in sections)
    return (
        bt("lb_form_title", lang)
        + "\n\n"
        + LAGESBILD_FORMAT.get(lang, LAGESBILD_FORMAT["sv"]).format(sections=section_lines)
    )


def next_steps(report: Report, slot_text: str | None, lang: str) -> Activity:
    """After the preview: publish now, leave it for the weekly slot, or edit."""
    text = bt("lb_next_steps", lang, slot=slot_text or "–")
    actions = [
        {
            "type": "Action.Submit",
            "title": bt("lb_publish_button", lang),
            "data": {"action": ACTION_PUBLISH, "report_id": report.id},
        },
    ]
    if slot_text:
        actions.append(
            {
                "type": "Action.Submit",
                "title": f"{bt('lb_schedule_button', lang)} ({slot_text})",
                "data": {"action": ACTION_SCHEDULE, "report_id": report.id},
            }
        )
    actions.append(
        {
            "type": "Action.Submit",
            "title": bt("lb_edit_button", lang),
            "data": {"action": ACTION_EDIT, "report_id": report.id},
        }
    )
    return card_activity([{"type": "TextBlock", "text": text, "wrap": True}], actions, text)


def reminder_activity(unit_name: str, author_name: str | None, text: str | None, template: Template | None) -> Activity:
    """An ambassador's reminder: a template in both languages, or their own words as written."""
    header = _both("rem_header", unit=unit_name)
    message = f"{template.text.sv}\n\n{template.text.en}" if template else (text or "")
    signature = f"\n\n_{bt('rem_signature', 'sv', name=author_name)}_" if author_name else ""
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
