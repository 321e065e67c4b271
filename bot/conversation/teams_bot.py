"""The Teams bot: every incoming message is routed in `on_message_activity`, top to bottom."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from functools import partial
from http import HTTPStatus
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from botbuilder.core import ActivityHandler, ConversationState, InvokeResponse, MessageFactory, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse, ChannelAccount

from bot.clock import Clock
from bot.conversation.cards import answer_activity, update_card
from bot.conversation.commands import Command, CommandCall, CommandTable, normalize_command_text
from bot.conversation.features import Feature
from bot.conversation.feedback import FeedbackRepository
from bot.conversation.language import Lang, detect_language, locale_language
from bot.conversation.mentions import is_mentioned, strip_mentions
from bot.conversation.roles import RoleDirectory
from bot.conversation.texts import t
from bot.knowledge import KnowledgeBase
from bot.storage.kv_store import SqlStorage
from bot.transport.http_sender import TtlCache

log = logging.getLogger(__name__)

RefusalHook = Callable[[TurnContext, str, str, str], Awaitable[None]]

OWN_POSTS_KEPT = 10_000
OWN_POSTS_TTL = 7 * 24 * 3600.0  # seconds

ROLE_NAMES = {
    "hr": {"sv": "HR", "en": "HR"},
    "manager": {"sv": "chefer", "en": "managers"},
    "ambassador": {"sv": "ambassadörer", "en": "ambassadors"},
}


class LiveKnowledgeSource(Protocol):
    async def current(self) -> KnowledgeBase:
        """The knowledge base to answer this turn with (the content plus learned phrasings)."""
        ...


class GuidanceBot(TeamsActivityHandler):
    """Answers questions from the guidance and hands other turns to the features that own them."""

    def __init__(
        self,
        *,
        knowledge: KnowledgeBase,
        conversation_state: ConversationState,
        user_state: UserState,
        storage: SqlStorage,
        feedback: FeedbackRepository,
        roles: RoleDirectory,
        clock: Clock,
        timezone: str = "Europe/Stockholm",
        features: Sequence[Feature] = (),
        default_language: Lang = "sv",
        on_refused: RefusalHook | None = None,
        live: LiveKnowledgeSource | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.live = live
        self.storage = storage
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.feedback = feedback
        self.roles = roles
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.features = list(features)
        self.default_language = default_language
        # Where a command refused for its role is recorded (the audit log); (turn, action, subject, reason).
        self.on_refused = on_refused
        self._last_suggestions = user_state.create_property("last_suggestions")
        # The language of each conversation this user is in, so that a click, a card submit or a
        # message without words ("2") is answered in the language the conversation is already in.
        self._languages = user_state.create_property("languages")
        # Ids of the bot's recent posts in channels and group chats (per replica): a reply to one is a click.
        self._own_posts: TtlCache[str, bool] = TtlCache(OWN_POSTS_KEPT, OWN_POSTS_TTL)
        self.commands = CommandTable()
        for command in self._own_commands():
            self.commands.add(command)
        for feature in self.features:
            for command in feature.commands():
                self.commands.add(command)

    # ---- the turn -------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        token = None
        if turn_context.activity.type == ActivityTypes.message:
            # The states every message reads, in one round trip instead of one each.
            states = [self.user_state, *(s for f in self.features for s in f.message_states())]
            try:
                keys = [s.get_storage_key(turn_context) for s in states]
            except (TypeError, AttributeError):
                keys = []  # no user or conversation id: the handlers deal with that message
            if keys:
                token = await self.storage.read_ahead(keys)
        try:
            await super().on_turn(turn_context)
            # State is saved once per turn, after every handler ran (also for conversationUpdate).
            await self.conversation_state.save_changes(turn_context)
            await self.user_state.save_changes(turn_context)
        finally:
            if token is not None:
                self.storage.end_read_ahead(token)
            # The channel-post wrapper of on_message_activity refers to the context: no cycle is left behind.
            turn_context.__dict__.pop("send_activities", None)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Invokes we do not handle, or cannot read, get 400 with a reason (JSON), never a 5xx.

        botbuilder answers an unknown name with 501, a malformed `adaptiveCard/action` with a body
        holding an exception object, and raises for Teams invokes whose value it cannot read.
        """
        name = str(turn_context.activity.name)[:100]
        try:
            response = await super().on_invoke_activity(turn_context)
        except Exception as exc:  # noqa: BLE001 - bad input: a warning without the stack
            log.warning("invoke not readable", extra={"invoke_name": name, "error": type(exc).__name__})
            return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body={"error": "invoke could not be read"})
        if response is not None and response.status == HTTPStatus.NOT_IMPLEMENTED:
            log.info("unsupported invoke", extra={"invoke_name": name})
            return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body={"error": "unsupported invoke"})
        if response is not None and isinstance(response.body, AdaptiveCardInvokeResponse):
            return InvokeResponse(status=response.status, body=_plain_card_invoke_body(response.body))
        return response

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        # 1. In channels and group chats we speak only when spoken to, or when our own card was clicked.
        if self._needs_mention(turn_context):
            if not (is_mentioned(activity) or self._is_card_click(activity)):
                return
            # The posts' ids come back from the connector; the per-turn wrapper goes when the turn ends (on_turn).
            turn_context.send_activities = partial(self._send_and_remember, turn_context.send_activities)
        if self.live is not None:  # what content owners taught, on any replica, counts from this turn on
            self.knowledge = await self.live.current()
        text = strip_mentions(activity).replace("\xa0", " ").strip()
        # The content's own vocabulary tells Swedish from English best, then cheap markers; a message
        # without either (a click, "2") keeps the conversation's language (see conversation_language).
        typed = (self.knowledge.detect_language(text) or detect_language(text)) if text else None
        lang = await self.conversation_language(turn_context, typed)
        value = activity.value if isinstance(activity.value, dict) else None
        tapped = False

        # 2. Card submits that belong to no conversation flow: feedback and suggested questions.
        if value is not None and not text:
            action = value.get("action")
            if action == "feedback":
                await self._on_feedback(turn_context, value, lang)
                return
            if action == "ask" and isinstance(value.get("question"), str):
                text = value["question"].strip()[:1000]
                value = None
                tapped = True

        # 3. Features first: an active walkthrough owns the turn, and feature card submits.
        if value is not None and not text:
            await self.roles.refresh(turn_context)  # card submits may be privileged (publish …)
        for feature in self.features:
            if value is not None and not text:
                if await feature.on_submit(turn_context, value, lang):
                    return
            elif await feature.on_message(turn_context, text, lang):
                return

        # 4. No text we can read (an attachment, an unknown card submit).
        if not text:
            key = "unknown_submit" if value is not None else "no_text"
            await turn_context.send_activity(t(key, lang))
            return

        # 5. Commands (help, topics, walkthroughs, lägesbild, reminders …).
        call = self.commands.match(text)
        if call is not None:
            if not tapped:  # the phrase typed is the language wanted
                await self.conversation_language(turn_context, call.lang)
            await self._run_command(turn_context, call)
            return

        # 6. "2" picks the second suggested question from the previous answer.
        picked = await self._picked_suggestion(turn_context, text)
        if picked:
            text = picked
            tapped = True

        # 7. Everything else is a question for the guidance.
        await self.answer_question(turn_context, text, lang, tapped=tapped)

    # ---- language ---------------------------------------------------------------------------

    async def conversation_language(self, turn_context: TurnContext, typed: Lang | None = None) -> Lang:
        """The language to answer in: what the person typed (then remembered for this user in this
        conversation), else the language remembered, else the Teams locale, else the default."""
        conversation = _base_conversation(turn_context)
        try:
            remembered: dict[str, str] = dict(await self._languages.get(turn_context) or {})
        except (TypeError, AttributeError, KeyError):
            remembered = {}  # no user id: nothing can be remembered
            conversation = ""
        if typed in ("sv", "en"):
            if conversation and remembered.get(conversation) != typed:
                remembered.pop(conversation, None)
                remembered[conversation] = typed
                while len(remembered) > 50:  # the newest conversations are kept
                    remembered.pop(next(iter(remembered)))
                await self._languages.set(turn_context, remembered)
            return typed
        known = remembered.get(conversation) if conversation else None
        if known in ("sv", "en"):
            return known
        return locale_language(turn_context.activity.locale) or self.default_language

    # ---- questions ------------------------------------------------------------------------

    async def answer_question(
        self, turn_context: TurnContext, question: str, lang: str | None = None, *, tapped: bool = False
    ) -> None:
        """Answer from the knowledge base; also used by walkthroughs for questions asked mid-way."""
        answer = self.knowledge.answer(question, lang=lang, today=self._today())
        suggestions = [e.question(answer.lang) for e in answer.suggestions[:3]]
        # Kept with the conversation they were shown in: "2" in another chat (or a new terminal
        # session) must not pick from this one.
        conversation = _base_conversation(turn_context)
        shown = await self._last_suggestions.get(turn_context)
        shown = {k: v for k, v in shown.items() if k != conversation} if isinstance(shown, dict) else {}
        shown[conversation] = suggestions
        while len(shown) > 20:  # the newest conversations are kept
            shown.pop(next(iter(shown)))
        await self._last_suggestions.set(turn_context, shown)
        extra: list[dict[str, Any]] = []
        walkthrough = answer.entry.walkthrough if answer.answered and answer.entry is not None else None
        if walkthrough:
            extra = self._walkthrough_offer(walkthrough, answer.lang)
        try:
            await turn_context.send_activity(
                answer_activity(
                    answer.text,
                    answer.lang,
                    suggestions,
                    answered=answer.answered,
                    entry_id=answer.entry.id if answer.entry else None,
                    question=question,
                    extra_actions=extra,
                    asked_by_tap=tapped,
                    card_id=uuid.uuid4().hex[:16] if answer.answered else None,
                )
            )
        finally:
            # After the reply, so that the user does not wait for the bookkeeping; also when it failed.
            log.info(
                "question answered" if answer.answered else "question not answered",
                extra={
                    "entry": answer.entry.id if answer.entry else None,
                    "score": round(answer.score, 3),
                    "lang": answer.lang,
                },
            )
            if answer.answered:
                await self.feedback.record_answered(answer.entry.id if answer.entry else None)
            else:
                await self.feedback.record_unanswered(
                    question, answer.entry.id if answer.entry else None, answer.score, answer.lang
                )

    def _walkthrough_offer(self, walkthrough_id: str, lang: str) -> list[dict[str, Any]]:
        for feature in self.features:
            offer = getattr(feature, "offer_action", None)
            if offer is not None:
                action = offer(walkthrough_id, lang)
                if action:
                    return [action]
        return []

    async def _picked_suggestion(self, turn_context: TurnContext, text: str) -> str | None:
        norm = normalize_command_text(text)
        if not norm.isdecimal():
            return None
        shown = await self._last_suggestions.get(turn_context)
        suggestions = shown.get(_base_conversation(turn_context), []) if isinstance(shown, dict) else []
        index = int(norm) - 1
        if 0 <= index < len(suggestions):
            return str(suggestions[index])
        return None

    async def _on_feedback(self, turn_context: TurnContext, value: dict[str, Any], lang: str) -> None:
        """👍/👎 on an answer card: recorded once per card, and the card becomes a thank-you line."""
        activity = turn_context.activity
        helpful = value.get("helpful") is True
        raw_lang = value.get("lang")
        lang = raw_lang if raw_lang in ("sv", "en") else lang
        raw_entry = value.get("entry_id")
        entry_id = raw_entry if isinstance(raw_entry, str) and self.knowledge.get(raw_entry) else None
        raw_question = value.get("question")
        question = raw_question if isinstance(raw_question, str) else ""
        card = value.get("card") if isinstance(value.get("card"), str) else None
        card = card or activity.reply_to_id
        if card:
            key = f"{activity.channel_id}/feedback/{_base_conversation(turn_context)}/{card[:64]}"
            if not await self.storage.create_if_absent(key, {"helpful": helpful, "at": self.clock.now().isoformat()}):
                log.info("feedback on a used card", extra={"entry": entry_id})
                await turn_context.send_activity(t("feedback_stale", lang))
                return
        await self.feedback.record_feedback(entry_id, question, helpful, lang)
        log.info("feedback recorded", extra={"entry": entry_id, "helpful": helpful})
        tapped = value.get("tapped") is True
        if (
            activity.reply_to_id
            and question
            and await self._thank_in_card(turn_context, question, lang, helpful, tapped)
        ):
            return
        await turn_context.send_activity(t("feedback_thanks_up" if helpful else "feedback_thanks_down", lang))

    async def _thank_in_card(
        self, turn_context: TurnContext, question: str, lang: str, helpful: bool, tapped: bool = False
    ) -> bool:
        """Rebuild the answer card the click came from with a thank-you line in place of the buttons."""
        answer = self.knowledge.answer(question, lang=lang, today=self._today())
        if not answer.answered:
            return False
        walkthrough = answer.entry.walkthrough if answer.entry is not None else None
        updated = answer_activity(
            answer.text,
            answer.lang,
            [e.question(answer.lang) for e in answer.suggestions[:3]],
            answered=True,
            entry_id=answer.entry.id if answer.entry else None,
            question=question,
            extra_actions=self._walkthrough_offer(walkthrough, answer.lang) if walkthrough else None,
            feedback_given=helpful,
            asked_by_tap=tapped,
        )
        return await update_card(turn_context, updated)

    # ---- commands -------------------------------------------------------------------------

    def _own_commands(self) -> list[Command]:
        return [
            Command(
                key="help",
                phrases={"sv": ("hjälp", "hjalp", "kommandon"), "en": ("help", "commands", "what can you do")},
                description={"sv": "visar vad jag kan", "en": "shows what I can do"},
                handler=self._cmd_help,
            ),
            Command(
                key="topics",
                phrases={"sv": ("ämnen", "amnen", "ämne"), "en": ("topics",)},
                description={"sv": "listar ämnena jag kan svara på", "en": "lists the topics I can answer"},
                handler=self._cmd_topics,
            ),
            Command(
                key="hello",
                phrases={
                    "sv": ("hej", "hejsan", "hallå", "tjena", "god morgon", "god dag", "hej hej"),
                    "en": ("hi", "hello", "hey", "good morning"),
                },
                description={"sv": "hälsar", "en": "says hello"},
                handler=self._cmd_hello,
                show_in_help=False,
            ),
            Command(
                key="svenska",
                phrases={"sv": ("svenska", "på svenska", "pa svenska"), "en": ("swedish", "in swedish")},
                description={"sv": "svarar på svenska", "en": "answers in Swedish"},
                handler=self._cmd_language,
            ),
            Command(
                key="english",
                phrases={"sv": ("engelska", "på engelska", "pa engelska"), "en": ("english", "in english")},
                description={"sv": "svarar på engelska", "en": "answers in English"},
                handler=self._cmd_language,
            ),
            Command(
                key="thanks",
                phrases={"sv": ("tack", "tack så mycket", "tusen tack", "tackar"), "en": ("thanks", "thank you")},
                description={"sv": "tack", "en": "thanks"},
                handler=self._cmd_thanks,
                show_in_help=False,
            ),
        ]

    async def _cmd_hello(self, turn_context: TurnContext, call: CommandCall) -> None:
        await turn_context.send_activity(MessageFactory.text(t("greeting", call.lang)))

    async def _cmd_language(self, turn_context: TurnContext, call: CommandCall) -> None:
        """ "svenska" / "english": the conversation's language from now on, whatever is typed later."""
        chosen = "en" if call.command.key == "english" else "sv"
        await self.conversation_language(turn_context, chosen)
        await turn_context.send_activity(MessageFactory.text(t("language_set", chosen)))

    async def _cmd_thanks(self, turn_context: TurnContext, call: CommandCall) -> None:
        await turn_context.send_activity(MessageFactory.text(t("welcome", call.lang)))

    def user_roles(self, turn_context: TurnContext) -> set[str]:
        user = turn_context.activity.from_property
        return self.roles.roles_of(getattr(user, "aad_object_id", None) if user else None)

    async def _run_command(self, turn_context: TurnContext, call: CommandCall) -> None:
        if call.command.role or call.command.audience is not None or call.command.key == "help":
            await self.roles.refresh(turn_context)  # a role held through a Teams team is checked again
        required = call.command.role
        if required and required not in self.user_roles(turn_context):
            role = ROLE_NAMES.get(required, {}).get(call.lang, required)
            log.info("command refused", extra={"command": call.command.key, "role": required})
            if self.on_refused is not None:
                await self.on_refused(turn_context, "command", call.command.key, f"role {required} required")
            await turn_context.send_activity(t("not_allowed", call.lang, role=role))
            return
        await call.command.handler(turn_context, call)

    async def _cmd_help(self, turn_context: TurnContext, call: CommandCall) -> None:
        roles = self.user_roles(turn_context)
        lines = [t("help_intro", call.lang), "", t("help_commands", call.lang)]
        lines += self.commands.help_lines(call.lang, roles)
        if not roles:  # an employee: only what they may use, and one line on the rest
            lines += ["", t("help_more_for_roles", call.lang)]
        await turn_context.send_activity(MessageFactory.text("\n".join(lines)))

    async def _cmd_topics(self, turn_context: TurnContext, call: CommandCall) -> None:
        lines = [t("topics_intro", call.lang)]
        for topic in self.knowledge.topics():
            title = topic.title.get(call.lang) or topic.title["sv"]
            examples = "; ".join(e.question(call.lang) for e in topic.entries[:2])
            lines.append(f"- **{title}** – {examples}")
        await turn_context.send_activity(MessageFactory.text("\n".join(lines)))

    # ---- conversation lifecycle -----------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Members added/removed, without botbuilder's Teams path.

        TeamsActivityHandler looks up every added member with an extra connector call and fails on a
        conversationUpdate without channelData; we need neither, only who joined or left.
        """
        channel_data = turn_context.activity.channel_data
        event = channel_data.get("eventType") if isinstance(channel_data, dict) else None
        if event == "teamDeleted":  # every channel of the team is gone, as when the bot is removed
            for feature in self.features:
                await feature.on_removed(turn_context)
            return
        await ActivityHandler.on_conversation_update_activity(self, turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        recipient = turn_context.activity.recipient
        bot_added = any(m.id == recipient.id for m in members_added if recipient)
        personal = _is_personal(turn_context.activity)
        if bot_added:
            for feature in self.features:
                await feature.on_installed(turn_context)
        # Greet once per conversation: when the bot joins, or when a user opens a personal chat.
        if bot_added or (personal and members_added):
            await self._greet_once(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        recipient = turn_context.activity.recipient
        if any(m.id == recipient.id for m in members_removed if recipient):
            for feature in self.features:
                await feature.on_removed(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        for feature in self.features:
            await feature.on_installed(turn_context)
        await self._greet_once(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        for feature in self.features:
            await feature.on_removed(turn_context)

    async def _greet_once(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        conversation = activity.conversation.id if activity.conversation else None
        if not conversation:
            return
        key = f"{activity.channel_id}/greeted/{conversation}"
        if not await self.storage.create_if_absent(key, {"at": self.clock.now().isoformat()}):
            return
        log.info("greeted", extra={"activity_type": activity.type, "conversation": conversation})
        # The organisation's language, with one line in the other: nobody has typed anything yet.
        lang = self.default_language
        other = "en" if lang == "sv" else "sv"
        text = f"{t('greeting', lang)}\n\n{t('greeting_other', other)}"
        await turn_context.send_activity(MessageFactory.text(text))

    # ---- helpers --------------------------------------------------------------------------

    def _today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    @staticmethod
    def _needs_mention(turn_context: TurnContext) -> bool:
        conversation_type = (
            turn_context.activity.conversation.conversation_type if turn_context.activity.conversation else None
        )
        return conversation_type in ("channel", "groupChat")

    def _is_card_click(self, activity: Activity) -> bool:
        """A click on one of the bot's own cards, which Teams sends without an @mention.

        A card submit carries a `value` (only the bot's own cards post one to it); an imBack or
        messageBack answers in the thread of the bot's post, so its `replyToId` is one we sent.
        """
        if isinstance(activity.value, dict):
            return True
        reply_to = activity.reply_to_id
        return isinstance(reply_to, str) and self._own_posts.get(reply_to) is not None

    async def _send_and_remember(
        self, send: Callable[[list[Activity]], Awaitable[list[Any]]], activities: list[Activity]
    ) -> list[Any]:
        """Send, and note the ids of what was posted in a channel, so that clicks on it are recognised."""
        responses = await send(activities)
        for response in responses or ():
            posted = getattr(response, "id", None)
            if isinstance(posted, str) and posted:
                self._own_posts.put(posted, True)
        return responses


def _plain_card_invoke_body(response: AdaptiveCardInvokeResponse) -> dict[str, Any]:
    """An adaptive card invoke answer as JSON; botbuilder puts its error in an Exception object."""
    value = response.value
    if isinstance(value, Exception):
        code, message = ([*map(str, value.args), "", ""])[:2]
        value = {"code": code or "BadRequest", "message": message}
    return {"statusCode": response.status_code, "type": response.type, "value": value}


def _base_conversation(turn_context: TurnContext) -> str:
    """The conversation id without a channel thread's ";messageid=…": a channel is one conversation."""
    conversation = turn_context.activity.conversation
    return (conversation.id or "").split(";")[0] if conversation else ""


def _is_personal(activity: Activity) -> bool:
    """A one-to-one chat with the bot. Teams leaves out conversationType in some events (a meeting's
    membersAdded): then a meeting or team in channelData, or a thread id ("19:…"), says it is not."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    if kind:
        return kind == "personal"
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    if channel_data.get("meeting") or channel_data.get("team") or channel_data.get("channel"):
        return False
    conversation_id = (conversation.id or "") if conversation else ""
    return not conversation_id.startswith("19:") and not (conversation and conversation.is_group)
