"""Where the bot may speak: the conversation references it has seen, and which of them are gone.

A reference is stored when the bot is added to a team, channel, group chat or personal scope,
and refreshed (only when it changed) on every message, so HR's personal chat is known for
previews and delivery reports. Removal marks the conversation, or all of a team's, gone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationAccount, ConversationReference
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.clock import Clock
from bot.plain_json import dump_json
from bot.storage import Database
from bot.storage.tables import conversation_refs
from bot.storage.upsert import upsert
from bot.transport.http_sender import TtlCache

ACTIVE = "active"
GONE = "gone"


@dataclass(frozen=True)
class Target:
    """One conversation to send to; `reference` is None when it cannot be reached (see `problem`)."""

    conversation_id: str
    tenant_id: str | None
    label: str
    reference: dict[str, Any] | None
    problem: str | None = None  # "gone" | "unknown"


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id without ";messageid=…": a proactive send starts a new post."""
    return conversation_id.split(";", 1)[0]


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def reference_values(activity: Activity) -> dict[str, Any]:
    """The row that describes the conversation `activity` came from."""
    reference = TurnContext.get_conversation_reference(activity)
    conversation = activity.conversation or ConversationAccount(id="")
    conversation_type = conversation.conversation_type or "personal"
    conversation_id = base_conversation_id(conversation.id or "")
    data = _channel_data(activity)
    tenant = conversation.tenant_id or (data.get("tenant") or {}).get("id")
    team = data.get("team") or {}
    channel = data.get("channel") or {}
    user = activity.from_property
    reference.activity_id = None
    reference.conversation = ConversationAccount(
        id=conversation_id,
        conversation_type=conversation_type,
        tenant_id=tenant,
        is_group=conversation.is_group,
        name=conversation.name,
    )
    if conversation_type == "personal":
        label = f"personlig chatt: {user.name}" if user and user.name else "personlig chatt"
        user_aad = (user.aad_object_id or "").lower() if user else ""
    else:
        reference.user = None  # whoever spoke last does not matter for a channel or group chat
        user_aad = None
        name = channel.get("name") or conversation.name or ("General" if channel.get("id") == team.get("id") else "")
        label = " / ".join(p for p in (team.get("name"), name) if p) or conversation_id
    return {
        "conversation_id": conversation_id,
        "conversation_type": conversation_type,
        "tenant_id": tenant,
        "team_id": team.get("id"),
        "user_aad": user_aad or None,
        "label": label[:256],
        "reference": json.dumps(reference.serialize(), sort_keys=True, ensure_ascii=False),
    }


def load_reference(text: str) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(text))


def _target(row: Any) -> Target:
    if row.state == GONE:
        return Target(row.conversation_id, row.tenant_id, row.label or row.conversation_id, None, "gone")
    return Target(row.conversation_id, row.tenant_id, row.label or row.conversation_id, json.loads(row.reference))


def _fingerprint(activity: Activity) -> tuple[object, ...]:
    """Everything `reference_values` reads, cheaply: equal fingerprints give equal rows."""
    conversation = activity.conversation
    user = activity.from_property
    bot = activity.recipient
    data = _channel_data(activity)
    return (
        activity.channel_id,
        activity.service_url,
        activity.locale,
        conversation.id if conversation else None,
        conversation.conversation_type if conversation else None,
        conversation.tenant_id if conversation else None,
        conversation.is_group if conversation else None,
        conversation.name if conversation else None,
        (user.id, user.name, user.aad_object_id, user.role) if user else None,
        (bot.id, bot.name, bot.role) if bot else None,
        dump_json([data.get("tenant"), data.get("team"), data.get("channel")], sort_keys=True, default=str),
    )


class ConversationRegistry:
    """The conversation_refs table; a small in-process cache skips unchanged upserts.

    The cache holds a conversation for `remember` seconds at most, so a conversation that another
    replica marked gone is written active again by the next message after that.
    """

    def __init__(self, db: Database, clock: Clock, *, remember: float = 300.0, max_size: int = 20_000) -> None:
        self._db = db
        self._clock = clock
        self._seen: TtlCache[str, tuple[object, ...]] = TtlCache(max_size, remember)

    async def record(self, activity: Activity, *, force: bool = False) -> str:
        """Store or refresh the conversation's reference when it changed (or when `force`); returns its id."""
        fingerprint = _fingerprint(activity)
        cid = base_conversation_id(activity.conversation.id or "") if activity.conversation else ""
        if not cid or (not force and self._seen.get(cid) == fingerprint):
            return cid
        values = reference_values(activity)
        row = dict(values, state=ACTIVE, updated_at=self._clock.now())
        async with self._db.e.begin() as conn:
            await conn.execute(upsert(self._db.dialect, conversation_refs, row, ["conversation_id"]))
        self._seen.put(cid, fingerprint)
        return cid

    async def removed(self, activity: Activity) -> int:
        """The bot left this conversation (or the whole team): mark it gone and unsubscribe it."""
        values = reference_values(activity)
        conditions = [conversation_refs.c.conversation_id == values["conversation_id"]]
        if values["team_id"] and values["conversation_type"] == "channel":
            conditions.append(conversation_refs.c.team_id == values["team_id"])
        return await self._mark_gone(or_(*conditions))

    async def mark_gone(self, conversation_id: str) -> int:
        """A send was refused with 403/404: the bot is no longer there."""
        return await self._mark_gone(conversation_refs.c.conversation_id == conversation_id)

    async def _mark_gone(self, condition: Any) -> int:
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(conversation_refs)
                .where(condition)
                .values(state=GONE, lagesbild_subscribed=False, updated_at=self._clock.now())
                .returning(conversation_refs.c.conversation_id)
            )
            gone = [r.conversation_id for r in result]
        for cid in gone:
            self._seen.discard(cid)
        return len(gone)

    async def set_subscribed(self, conversation_id: str, subscribed: bool, actor: Actor) -> bool:
        """Subscribe or unsubscribe (audited); returns whether it changed anything."""
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(conversation_refs)
                .where(
                    conversation_refs.c.conversation_id == conversation_id,
                    conversation_refs.c.state == ACTIVE,
                    conversation_refs.c.lagesbild_subscribed == (not subscribed),
                )
                .values(lagesbild_subscribed=subscribed)
            )
            if not result.rowcount:
                return False
            action = "subscribe" if subscribed else "unsubscribe"
            await audit(conn, self._clock.now(), actor, action, f"conversation:{conversation_id}"[:128])
            return True

    async def subscribers(self, conn: AsyncConnection) -> list[Target]:
        rows = await conn.execute(
            select(conversation_refs)
            .where(conversation_refs.c.lagesbild_subscribed.is_(True), conversation_refs.c.state == ACTIVE)
            .order_by(conversation_refs.c.conversation_id)
        )
        return [_target(r) for r in rows]

    async def personal_chat(self, conn: AsyncConnection, aad_object_id: str | None) -> Target | None:
        if not aad_object_id:
            return None
        row = (
            await conn.execute(
                select(conversation_refs)
                .where(
                    conversation_refs.c.user_aad == aad_object_id.lower(),
                    conversation_refs.c.conversation_type == "personal",
                    conversation_refs.c.state == ACTIVE,
                )
                .order_by(conversation_refs.c.updated_at.desc())
                .limit(1)
            )
        ).first()
        return _target(row) if row else None

    async def target(self, conn: AsyncConnection, conversation_id: str) -> Target | None:
        row = (
            await conn.execute(select(conversation_refs).where(conversation_refs.c.conversation_id == conversation_id))
        ).first()
        return _target(row) if row else None

    async def channels(self, conn: AsyncConnection, channel_ids: Sequence[str]) -> list[Target]:
        """Targets for configured channel ids (a unit's channels).

        A channel the bot has not seen yet (Teams announces only a team's General channel when
        the bot is added) is reached through the reference of a channel it has seen: same
        service URL, bot and tenant, the other channel's id. With none seen it is "unknown".
        """
        wanted = [base_conversation_id(c) for c in channel_ids]
        rows = await conn.execute(select(conversation_refs).where(conversation_refs.c.conversation_id.in_(wanted)))
        known = {r.conversation_id: _target(r) for r in rows}
        template = None
        if any(cid not in known for cid in wanted):
            template = (
                await conn.execute(
                    select(conversation_refs)
                    .where(conversation_refs.c.conversation_type == "channel", conversation_refs.c.state == ACTIVE)
                    .order_by(conversation_refs.c.updated_at.desc())
                    .limit(1)
                )
            ).first()
        targets = []
        for cid in wanted:
            if cid in known:
                targets.append(known[cid])
            elif template is not None:
                reference = json.loads(template.reference)
                reference["conversation"] = ConversationAccount(
                    id=cid, conversation_type="channel", tenant_id=template.tenant_id, is_group=True
                ).serialize()
                targets.append(Target(cid, template.tenant_id, cid, reference))
            else:
                targets.append(Target(cid, None, cid, None, "unknown"))
        return targets
