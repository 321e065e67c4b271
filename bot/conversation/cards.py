"""Adaptive Cards for answers, with a plain-text fallback in the card for clients that lack cards."""

from __future__ import annotations

import copy
import logging
from typing import Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, AttachmentLayoutTypes

from bot.conversation.texts import t
from bot.knowledge.models import is_kind_label

log = logging.getLogger(__name__)

CARD_VERSION = "1.4"  # Teams desktop and mobile both render 1.4.


def ask_action(question: str, number: int | None = None) -> dict[str, Any]:
    """A button that asks `question` as if the user had typed it.

    A plain Action.Submit (no messageBack): the Agents Playground throws on messageBack in a
    container's selectAction, and Teams and the Playground both handle a submit in an ActionSet.
    """
    title = f"{number}. {question}" if number is not None else question
    return {"type": "Action.Submit", "title": short_title(title), "data": {"action": "ask", "question": question}}


def short_title(title: str, limit: int = 48) -> str:
    """A button title Teams shows whole: cut at a word and marked with "…" (the full question is in
    the card's fallback and heads its answer)."""
    if len(title) <= limit:
        return title
    cut = title.rfind(" ", 0, limit - 1)
    return title[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def suggestion_buttons(suggestions: list[str]) -> list[dict[str, Any]]:
    """One ActionSet per related question, numbered as typing "2" picks it, each on its own row."""
    return [
        {"type": "ActionSet", "spacing": "Small", "actions": [ask_action(q, n)]} for n, q in enumerate(suggestions, 1)
    ]


class CardAttachment(Attachment):
    """A card attachment whose content is built for its message and not changed after it.

    botbuilder deep-copies every outgoing activity before it applies the conversation reference
    (TurnContext.send_activities); for a card that meant copying the whole card tree on every
    reply. The reference only sets top-level fields, so the copy may share the card content.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> CardAttachment:
        return copy.copy(self)


class CardActivity(Activity):
    """A message carrying cards, with a deep copy that copies only what is there.

    botbuilder deep-copies every outgoing activity; copy.deepcopy visits all of an Activity's ~40
    attributes one by one, though a reply sets only a few. Here the unset ones (None) and strings
    are shared, and every other value (attachments, entities, dicts) is deep-copied as before.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> CardActivity:
        clone = copy.copy(self)
        memo[id(self)] = clone
        for name, value in vars(self).items():
            if value is not None and type(value) is not str:
                clone.__dict__[name] = copy.deepcopy(value, memo)
        return clone


def card_activity(body: list[dict[str, Any]], actions: list[dict[str, Any]], fallback: str) -> Activity:
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": actions,
        "fallbackText": fallback,
    }
    stock = CardFactory.adaptive_card(card)
    attachment = CardAttachment(content_type=stock.content_type, content=stock.content)
    # As MessageFactory.attachment builds it.
    return CardActivity(
        type=ActivityTypes.message,
        attachment_layout=AttachmentLayoutTypes.list,
        attachments=[attachment],
        input_hint=None,
        summary=fallback[:200],
    )


def answer_activity(
    text: str,
    lang: str,
    suggestions: list[str],
    *,
    answered: bool,
    entry_id: str | None,
    question: str,
    extra_actions: list[dict[str, Any]] | None = None,
    asked_by_tap: bool = False,
    feedback_given: bool | None = None,
    card_id: str | None = None,
) -> Activity:
    """An answer card: the text, related questions as numbered buttons, then thumbs up/down.

    When the answer's text already lists the suggestions (an unanswered question's "närliggande
    frågor"), the buttons take the place of those lines, so nothing is listed twice. After a
    thumbs click the card is rebuilt with `feedback_given` set: a thank-you line, no buttons.
    """
    numbered = {f"{n}. {q}" for n, q in enumerate(suggestions, 1)}
    lines = [p for p in text.split("\n") if p.strip()]
    inline = bool(suggestions) and numbered <= {line.strip() for line in lines}
    body: list[dict[str, Any]] = []
    if asked_by_tap:
        body.append({"type": "TextBlock", "text": f"› {question}", "weight": "Bolder", "wrap": True})
    fallback_lines = [text]
    placed = False
    for i, para in enumerate(lines):
        if inline and para.strip() in numbered:
            if not placed:
                body.extend(suggestion_buttons(suggestions))
                placed = True
            continue
        is_meta = answered and i > 0 and (para.startswith(t("source", lang)) or _looks_like_period(para))
        block: dict[str, Any] = {"type": "TextBlock", "text": para, "wrap": True}
        if answered and i > 0 and is_kind_label(para):  # "Beslut", "Plan", "Tips", "Exempel från …"
            block.update(weight="Bolder", size="Small", color="Accent", spacing="Medium")
        elif is_meta:
            block.update(isSubtle=True, size="Small", spacing="Small")
        body.append(block)
    if extra_actions:
        body.append({"type": "ActionSet", "actions": list(extra_actions)})
    if suggestions and not inline:
        heading = t("related", lang) if answered else t("close_topics", lang)
        body.append({"type": "TextBlock", "text": heading, "weight": "Bolder", "spacing": "Medium", "wrap": True})
        body.extend(suggestion_buttons(suggestions))
        fallback_lines.append(heading + ":")
        fallback_lines.extend(f"{n}. {q}" for n, q in enumerate(suggestions, 1))
    if suggestions:
        body.append({"type": "TextBlock", "text": t("pick_number_short", lang), "isSubtle": True, "size": "Small"})
    if answered and feedback_given is not None:
        thanks = t("feedback_given_up" if feedback_given else "feedback_given_down", lang)
        body.append({"type": "TextBlock", "text": thanks, "isSubtle": True, "spacing": "Medium", "wrap": True})
    elif answered:
        body.append({"type": "TextBlock", "text": t("helped_q", lang), "isSubtle": True, "spacing": "Medium"})
        feedback = [
            {
                "type": "Action.Submit",
                "title": t("yes" if helpful else "no", lang),
                "data": {
                    "action": "feedback",
                    "helpful": helpful,
                    "entry_id": entry_id,
                    "question": question[:500],
                    "lang": lang,
                    "card": card_id,
                    **({"tapped": True} if asked_by_tap else {}),
                },
            }
            for helpful in (True, False)
        ]
        body.append({"type": "ActionSet", "actions": feedback})
    return card_activity(body, [], "\n".join(fallback_lines))


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action a user can take on a card: buttons, action sets and tappable containers."""
    found: list[dict[str, Any]] = []

    def walk(elements: list[Any]) -> None:
        for element in elements:
            if not isinstance(element, dict):
                continue
            if isinstance(element.get("selectAction"), dict):
                found.append(element["selectAction"])
            if element.get("type") == "ActionSet":
                found.extend(a for a in element.get("actions", []) if isinstance(a, dict))
            walk(element.get("items", []))
            for column in element.get("columns", []):
                walk(column.get("items", []) if isinstance(column, dict) else [])

    walk(card.get("body", []))
    found.extend(a for a in card.get("actions", []) if isinstance(a, dict))
    return found


def _looks_like_period(para: str) -> bool:
    lowered = para.lower()
    return lowered.startswith(("gäller", "gällde", "applies", "applied", "period"))


def card_text(activity: Activity) -> str:
    """The readable text of a reply: its text, or its cards' fallback text (terminal chat, tests)."""
    parts = [activity.text] if activity.text else []
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        if content.get("fallbackText"):
            parts.append(content["fallbackText"])
        else:
            parts.extend(b.get("text", "") for b in content.get("body", []) if isinstance(b, dict))
    return "\n".join(p for p in parts if p)


async def update_card(turn_context: TurnContext, updated: Activity) -> bool:
    """Replace the card a click came from (its replyToId) with `updated`; False when that failed."""
    reply_to = turn_context.activity.reply_to_id
    if not reply_to:
        return False
    updated.id = reply_to
    try:
        await turn_context.update_activity(updated)
    except Exception as error:  # noqa: BLE001 - a channel that cannot update: the caller sends a message instead
        log.warning("card update failed", extra={"error": type(error).__name__})
        return False
    return True
