"""Content owners' commands: "obesvarade frågor" (and its card's actions) and "inlärda fraser".

HR may do everything an owner does; everyone else is refused, and the refusal is audited. Every action
(link, outside, ignore, remove) is audited with who, what and which entry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import MessageFactory, TurnContext
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.roles import CONTENT_OWNER, HR, OwnerScope, YamlRoleDirectory
from bot.broadcast.schedule_math import pause_covering
from bot.clock import Clock
from bot.conversation.cards import card_activity, short_title
from bot.conversation.commands import Command, CommandCall
from bot.conversation.features import FeatureBase
from bot.knowledge import KnowledgeBase
from bot.knowledge.models import Entry
from bot.learning.grouping import QuestionGroup, group_questions
from bot.learning.live import LiveKnowledge
from bot.learning.report import build_report, report_activity
from bot.learning.store import IGNORED, LINKED, OUTSIDE, LearningStore
from bot.learning.texts import lt
from bot.storage import Database
from bot.storage.tables import digest_optouts

log = logging.getLogger(__name__)

OWNER_AUDIENCE = frozenset({HR, CONTENT_OWNER})
MAX_GROUPS = 10
MAX_WORDINGS = 20  # wordings carried by one group's buttons
ACTIONS = ("owner_link", "owner_outside", "owner_ignore", "owner_remove")


class LearningFeature(FeatureBase):
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        roles: YamlRoleDirectory,
        live: LiveKnowledge,
        store: LearningStore,
        timezone: str,
        unanswered_days: int,
        flush_counts: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.roles = roles
        self.live = live
        self.store = store
        self.tz = ZoneInfo(timezone)
        self.unanswered_days = unanswered_days
        self.flush_counts = flush_counts

    def commands(self) -> list[Command]:
        return [
            Command(
                key="unanswered",
                phrases={
                    "sv": ("obesvarade frågor", "obesvarade fragor", "obesvarade"),
                    "en": ("unanswered questions", "unanswered"),
                },
                description={
                    "sv": "frågor jag inte kunde svara på (eller som fick 👎), grupperade, att koppla till ingångar",
                    "en": "questions I could not answer (or that got 👎), grouped, to link to entries",
                },
                handler=self._cmd_unanswered,
                takes_args=True,
                audience=OWNER_AUDIENCE,
            ),
            Command(
                key="learned",
                phrases={"sv": ("inlärda fraser", "inlarda fraser"), "en": ("learned phrasings",)},
                description={
                    "sv": "listar och tar bort en ingångs inlärda fraser",
                    "en": "lists and removes an entry's learned phrasings",
                },
                handler=self._cmd_learned,
                takes_args=True,
                audience=OWNER_AUDIENCE,
            ),
            Command(
                key="content_report",
                phrases={"sv": ("innehållsrapport", "innehallsrapport"), "en": ("content report",)},
                description={
                    "sv": "frågor, andel besvarade och 👍/👎 för dina ingångar; *innehållsrapport av/på* för veckobrevet",
                    "en": "questions, share answered and 👍/👎 for your entries; *content report off/on* for the digest",
                },
                handler=self._cmd_report,
                takes_args=True,
                audience=OWNER_AUDIENCE,
            ),
        ]

    # ---- who may ---------------------------------------------------------------------------

    def _actor(self, turn: TurnContext) -> Actor:
        user = turn.activity.from_property
        aad = getattr(user, "aad_object_id", None) if user else None
        aad = aad.lower() if aad else None
        return Actor(aad, self.roles.display_name(aad) or (user.name if user else None))

    async def _scope(self, turn: TurnContext, what: str, lang: str) -> OwnerScope | None:
        """The caller's scope, or None after refusing (and auditing the refusal)."""
        actor = self._actor(turn)
        scope = self.roles.owner_scope(actor.aad)
        if scope is None:
            async with self.db.e.begin() as conn:
                await audit(conn, self.clock.now(), actor, "refused", f"owner:{what}")
            log.info("owner command refused", extra={"command": what})
            await turn.send_activity(MessageFactory.text(lt("refused", lang)))
        return scope

    # ---- obesvarade frågor -----------------------------------------------------------------

    async def _cmd_unanswered(self, turn: TurnContext, call: CommandCall) -> None:
        scope = await self._scope(turn, "unanswered", call.lang)
        if scope is None:
            return
        days = int(call.args) if call.args.strip().isdigit() and 0 < int(call.args) <= 366 else self.unanswered_days
        questions = await self.store.asked_since(self.clock.now() - timedelta(days=days))
        knowledge = await self.live.current()
        shown: list[tuple[QuestionGroup, list[tuple[Entry, float]]]] = []
        for group in group_questions(questions, knowledge.concepts):
            lang = next(iter(group.wordings.values()))[0]
            closest = knowledge.closest(group.label, lang)
            # An owner limited to some files or topics sees the questions closest to their entries.
            if scope.everything or any(scope.covers(e.file, e.topic) for e, _ in closest):
                shown.append((group, closest))
            if len(shown) == MAX_GROUPS:
                break
        log.info("unanswered listed", extra={"groups": len(shown), "days": days})
        if not shown:
            await turn.send_activity(MessageFactory.text(lt("none", call.lang, days=days)))
            return
        await turn.send_activity(self._unanswered_card(shown, scope, days, call.lang))

    def _unanswered_card(
        self, shown: list[tuple[QuestionGroup, list[tuple[Entry, float]]]], scope: OwnerScope, days: int, lang: str
    ) -> Any:
        title = lt("title", lang, days=days, groups=len(shown))
        body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
        fallback = [title]
        for number, (group, closest) in enumerate(shown, 1):
            last = group.last.astimezone(self.tz).date().isoformat() if group.last else "–"
            times = lt("times", lang, count=group.count, last=last) if group.count > 1 else lt("once", lang, last=last)
            if group.thumbs_down:
                times += f" · {lt('thumbs', lang, count=group.thumbs_down)}"
            others = [w for _, w in list(group.wordings.values())[1:6]]
            lines = [f"**{number}. {group.label}**", times]
            if others:
                lines.append(lt("also", lang, wordings="; ".join(f"”{w}”" for w in others)))
            lines.append(lt("closest", lang))
            lines += [f"- {e.id}: {e.question(lang)} ({p:.2f})" for e, p in closest]
            wordings = [[w_lang, w] for w_lang, w in list(group.wordings.values())[:MAX_WORDINGS]]
            actions: list[dict[str, Any]] = [
                {
                    "type": "Action.Submit",
                    "title": short_title(lt("link", lang, question=e.question(lang))),
                    "data": {"action": "owner_link", "entry_id": e.id, "wordings": wordings, "lang": lang},
                }
                for e, _ in closest
                if scope.covers(e.file, e.topic)
            ]
            actions.append(
                {
                    "type": "Action.ShowCard",
                    "title": lt("link_other", lang),
                    "card": {
                        "type": "AdaptiveCard",
                        "body": [
                            {
                                "type": "Input.Text",
                                "id": "entry_query",
                                "placeholder": lt("link_other_hint", lang),
                            }
                        ],
                        "actions": [
                            {
                                "type": "Action.Submit",
                                "title": lt("link_other_go", lang),
                                "data": {"action": "owner_link", "wordings": wordings, "lang": lang},
                            }
                        ],
                    },
                }
            )
            for action, key in (("owner_outside", "outside"), ("owner_ignore", "ignore")):
                actions.append(
                    {
                        "type": "Action.Submit",
                        "title": lt(key, lang),
                        "data": {"action": action, "wordings": wordings, "lang": lang},
                    }
                )
            body.append({"type": "TextBlock", "text": "\n\n".join(lines), "wrap": True, "separator": True})
            body.append({"type": "ActionSet", "actions": actions})
            fallback.append("\n".join(lines))
        return card_activity(body, [], "\n\n".join(fallback))

    # ---- the card's actions ----------------------------------------------------------------

    async def on_submit(self, turn: TurnContext, value: dict[str, Any], lang: str) -> bool:
        action = value.get("action")
        if action not in ACTIONS:
            return False
        lang = value["lang"] if value.get("lang") in ("sv", "en") else lang
        scope = await self._scope(turn, str(action), lang)
        if scope is None:
            return True
        if action == "owner_remove":
            await self._remove(turn, value, scope, lang)
            return True
        raw = value.get("wordings")
        wordings = [
            (str(w[0]), str(w[1]).strip()[:500])
            for w in (raw if isinstance(raw, list) else [])[:MAX_WORDINGS]
            if isinstance(w, list) and len(w) == 2 and str(w[1]).strip()
        ]
        if not wordings:
            return False
        actor, now = self._actor(turn), self.clock.now()
        if action == "owner_link":
            knowledge = await self.live.current()
            entry = self._entry_for(knowledge, value, wordings[0][0])
            if entry is None:
                query = str(value.get("entry_query") or "").strip()[:100]
                await turn.send_activity(MessageFactory.text(lt("no_entry", lang, query=query)))
                return True
            if not scope.covers(entry.file, entry.topic):
                await turn.send_activity(MessageFactory.text(lt("not_yours", lang, entry=entry.id)))
                return True
            async with self.db.e.begin() as conn:
                added = await self.store.learn(conn, entry.id, wordings, actor.aad, actor.name, now)
                await self.store.mark_reviewed(conn, [w for _, w in wordings], LINKED, now)
                await audit(conn, now, actor, "link", f"entry:{entry.id}", added, wordings=len(wordings))
            self.live.invalidate()
            log.info("questions linked", extra={"entry": entry.id, "added": added})
            await turn.send_activity(MessageFactory.text(lt("linked", lang, entry=entry.id, count=len(wordings))))
            return True
        async with self.db.e.begin() as conn:
            if action == "owner_outside":
                await self.store.learn(conn, None, wordings, actor.aad, actor.name, now)
                await self.store.mark_reviewed(conn, [w for _, w in wordings], OUTSIDE, now)
                await audit(conn, now, actor, "outside", "unanswered", len(wordings))
            else:
                await self.store.mark_reviewed(conn, [w for _, w in wordings], IGNORED, now)
                await audit(conn, now, actor, "ignore", "unanswered", len(wordings))
        key = "marked_outside" if action == "owner_outside" else "ignored"
        log.info("questions reviewed", extra={"action": key, "wordings": len(wordings)})
        await turn.send_activity(MessageFactory.text(lt(key, lang, count=len(wordings))))
        return True

    @staticmethod
    def _entry_for(knowledge: KnowledgeBase, value: dict[str, Any], lang: str) -> Entry | None:
        """The entry a button names, or the one typed in "Koppla till annan …": an id, or a question it answers."""
        raw = value.get("entry_id")
        if isinstance(raw, str):
            return knowledge.get(raw)
        query = str(value.get("entry_query") or "").strip()[:300]
        if not query:
            return None
        found = knowledge.get(query.lower())
        if found is not None:
            return found
        answer = knowledge.answer(query, lang=lang)
        return answer.entry if answer.answered else None

    # ---- innehållsrapport ------------------------------------------------------------------

    async def _cmd_report(self, turn: TurnContext, call: CommandCall) -> None:
        scope = await self._scope(turn, "content_report", call.lang)
        if scope is None:
            return
        actor, now = self._actor(turn), self.clock.now()
        choice = call.args.strip().lower()
        if choice in ("av", "off", "på", "pa", "on") and actor.aad:
            off = choice in ("av", "off")
            async with self.db.e.begin() as conn:
                await conn.execute(delete(digest_optouts).where(digest_optouts.c.aad == actor.aad))
                if off:
                    await conn.execute(insert(digest_optouts).values(aad=actor.aad, at=now))
                await audit(conn, now, actor, "digest_off" if off else "digest_on", "owner-digest")
            await turn.send_activity(MessageFactory.text(lt("digest_off" if off else "digest_on", call.lang)))
            return
        knowledge = await self.live.current()
        if self.flush_counts is not None:  # this replica's answered-question counts, before they are read
            await self.flush_counts()
        async with self.db.e.connect() as conn:
            report = await build_report(conn, knowledge.entries, scope, now, self.tz)
        log.info("content report shown", extra={"entries": len(report.entries)})
        await turn.send_activity(report_activity(report, call.lang))

    def digest_task(self, broadcast: Any) -> Callable[[AsyncConnection, datetime], Awaitable[str]]:
        """Monday morning: each content owner's report to their personal chat, through the broadcast outbox;
        skipped in the schedule's pauses, and for owners who turned it off."""

        async def run(conn: AsyncConnection, slot: datetime) -> str:
            for kind in ("lagesbild", "reminders"):
                pause = pause_covering(slot, broadcast.content.pauses_for(kind), self.tz)
                if pause is not None:
                    return f"paused:{pause.reason}"
            # Counts still in a replica's memory are left out (a replica writes them with its next question, a report
            # or at shutdown; see conversation/feedback.py): they show in the next digest, not in this one.
            off = set((await conn.execute(select(digest_optouts.c.aad))).scalars())
            knowledge = await self.live.current()
            sent = 0
            for aad in self.roles.owner_ids():
                scope = self.roles.owner_scope(aad)
                target = None if aad in off or scope is None else await broadcast.registry.personal_chat(conn, aad)
                if target is None or scope is None:
                    continue
                lang = broadcast.org_lang
                report = await build_report(conn, knowledge.entries, scope, slot, self.tz)
                await broadcast.outbox.enqueue(
                    conn,
                    kind="owner_digest",
                    subject=f"owner-digest:{aad}"[:128],
                    title=lt("digest_title", lang),
                    actor=Actor.system(),
                    targets=[target],
                    activity=report_activity(report, lang, digest=True),
                    lang=lang,
                )
                sent += 1
            return f"sent:{sent}"

        return run

    # ---- inlärda fraser --------------------------------------------------------------------

    async def _cmd_learned(self, turn: TurnContext, call: CommandCall) -> None:
        scope = await self._scope(turn, "learned", call.lang)
        if scope is None:
            return
        knowledge = await self.live.current()
        entry = knowledge.get(call.args.strip().lower()) if call.args.strip() else None
        if entry is None:
            await turn.send_activity(MessageFactory.text(lt("learned_usage", call.lang)))
            return
        if not scope.covers(entry.file, entry.topic):
            await turn.send_activity(MessageFactory.text(lt("not_yours", call.lang, entry=entry.id)))
            return
        found = await self.store.phrasings(entry.id)
        if not found:
            await turn.send_activity(MessageFactory.text(lt("learned_none", call.lang, entry=entry.id)))
            return
        title = lt("learned_title", call.lang, entry=entry.id)
        body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
        fallback = [title]
        for p in found:
            line = lt("learned_line", call.lang, question=p.question, by=p.added_by, at=self._day(p.added_at))
            fallback.append(f"- {line}")
            body.append({"type": "TextBlock", "text": line, "wrap": True, "separator": True})
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.Submit",
                            "title": short_title(lt("remove", call.lang, question=p.question)),
                            "data": {"action": "owner_remove", "phrasing": p.id, "lang": call.lang},
                        }
                    ],
                }
            )
        await turn.send_activity(card_activity(body, [], "\n".join(fallback)))

    async def _remove(self, turn: TurnContext, value: dict[str, Any], scope: OwnerScope, lang: str) -> None:
        phrasing = value.get("phrasing")
        if not isinstance(phrasing, int):
            await turn.send_activity(MessageFactory.text(lt("remove_gone", lang)))
            return
        found = await self.store.get(phrasing)
        knowledge = await self.live.current()
        entry = knowledge.get(found.entry_id) if found is not None and found.entry_id else None
        if entry is not None and not scope.covers(entry.file, entry.topic):
            await turn.send_activity(MessageFactory.text(lt("not_yours", lang, entry=entry.id)))
            return
        actor, now = self._actor(turn), self.clock.now()
        async with self.db.e.begin() as conn:
            removed = found is not None and await self.store.remove(conn, phrasing)
            if removed and found is not None:
                await audit(conn, now, actor, "unlearn", f"entry:{found.entry_id}", 1, question_id=found.id)
        if not removed or found is None:
            await turn.send_activity(MessageFactory.text(lt("remove_gone", lang)))
            return
        self.live.invalidate()
        log.info("learned phrasing removed", extra={"entry": found.entry_id})
        await turn.send_activity(MessageFactory.text(lt("removed", lang, question=found.question)))

    def _day(self, at: datetime) -> str:
        return at.astimezone(self.tz).date().isoformat()


def cleanup_job(store: LearningStore, retention_days: int) -> Callable[..., Any]:
    """The daily retention clean-up, as a scheduler task (see bot.broadcast.scheduler.Task)."""

    async def run(conn: Any, slot: datetime) -> str:
        counts = await store.delete_older_than(conn, slot - timedelta(days=retention_days))
        await audit(conn, slot, Actor.system(), "retention", "questions", sum(counts.values()), **counts)
        return "deleted:" + ",".join(f"{k}={v}" for k, v in counts.items())

    return run
