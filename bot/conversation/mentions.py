"""@mentions, read defensively: whether the bot was mentioned, and the text without its mentions.

botbuilder's TurnContext.remove_recipient_mention trusts every entity (a `mentioned` that is a
string or a list raised, and so did an entity without a type) and removes the mention by the
entity's text, which Teams may write as `<at>@Name</at>` while the message says `<at>Name</at>`
(as Microsoft's documentation shows). Here an entity counts only when it is a well-formed
mention, and the bot's mentions are found by `mentioned.id` and removed whatever their text form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from botbuilder.schema import Activity

_AT_SPAN = re.compile(r"<at(?:\s[^>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\xa0]{2,}")


def _field(entity: Any, name: str) -> Any:
    """A field of an entity, whether botbuilder read it as a Mention or a generic Entity."""
    value = getattr(entity, name, None)
    if value is None:
        extra = getattr(entity, "additional_properties", None)
        if isinstance(extra, dict):
            value = extra.get(name)
    return value


def _mention_of(entity: Any) -> tuple[str, str, str] | None:
    """(mentioned id, mentioned name, entity text) of a well-formed mention entity, else None."""
    kind = entity.get("type") if isinstance(entity, dict) else getattr(entity, "type", None)
    if not isinstance(kind, str) or kind.lower() != "mention":
        return None
    mentioned = entity.get("mentioned") if isinstance(entity, dict) else _field(entity, "mentioned")
    if isinstance(mentioned, dict):
        mentioned_id, name = mentioned.get("id"), mentioned.get("name")
    else:
        mentioned_id, name = getattr(mentioned, "id", None), getattr(mentioned, "name", None)
    text = entity.get("text") if isinstance(entity, dict) else _field(entity, "text")
    if not isinstance(mentioned_id, str) or not mentioned_id:
        return None
    return mentioned_id, name if isinstance(name, str) else "", text if isinstance(text, str) else ""


def mentions(activity: Activity) -> Iterator[tuple[str, str, str]]:
    """The well-formed mention entities of an activity, in order; anything else is skipped."""
    entities = activity.entities
    if not isinstance(entities, list):
        return
    for entity in entities:
        found = _mention_of(entity)
        if found is not None:
            yield found


def _bare(name: str) -> str:
    """A mention's name as compared: no markup, no leading @, case and spacing ignored."""
    match = _AT_SPAN.search(name)
    inner = match.group(1) if match else name
    return " ".join(inner.strip().lstrip("@").split()).casefold()


def recipient_id(activity: Activity) -> str | None:
    recipient = activity.recipient
    value = getattr(recipient, "id", None) if recipient is not None else None
    return value if isinstance(value, str) else None


def is_mentioned(activity: Activity, account_id: str | None = None) -> bool:
    """Whether a mention entity names `account_id` (the bot, by default)."""
    account_id = account_id or recipient_id(activity)
    return bool(account_id) and any(mentioned_id == account_id for mentioned_id, _, _ in mentions(activity))


def strip_mentions(activity: Activity, account_id: str | None = None) -> str:
    """The activity's text without the `<at>…</at>` spans that mention `account_id` (the bot)."""
    text = activity.text if isinstance(activity.text, str) else ""
    account_id = account_id or recipient_id(activity)
    if not text or not account_id or "<at" not in text.lower():
        return text
    found = list(mentions(activity))
    ours = {i for i, (mentioned_id, _, _) in enumerate(found) if mentioned_id == account_id}
    if not ours:
        return text
    names = {_bare(form) for i in ours for form in found[i][1:] if form}
    names.discard("")
    spans = list(_AT_SPAN.finditer(text))
    drop = {j for j, span in enumerate(spans) if _bare(span.group(1)) in names}
    if not drop and len(spans) == len(found):
        # No name matched, but Teams lists mention entities in the order of the text: go by position.
        drop = ours
    for j in sorted(drop, reverse=True):
        span = spans[j]
        text = text[: span.start()] + " " + text[span.end() :]
    return _SPACES.sub(" ", text).strip()
