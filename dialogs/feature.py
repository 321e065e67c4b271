"""Walkthroughs as a bot feature: start commands and buttons, the active walkthrough's turns, saved results.

A walkthrough in progress owns the user's messages until it ends, is paused ("paus"), or has been
left alone for `idle_after`; after that the bot answers as usual and starting the walkthrough again
offers to continue or to start over. Progress is botbuilder dialog state per user and conversation
(PrivateConversationState) in our SqlStorage, so it survives restarts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import BotState, Storage, TurnContext
from botbuilder.dialogs import DialogContext, DialogSet

from bot.clock import Clock
from bot.conversation.cards import update_card
from bot.conversation.commands import Command, CommandCall, CommandTable, normalize_command_text
from bot.conversation.features import FeatureBase
from bot.conversation.texts import counted
from bot.storage.bot_states import GuidancePrivateConversationState
from dialogs.cards import ACTION, answered_activity, choice_activity, list_activity, result_activity, submit
from dialogs.definitions import Walkthrough, WalkthroughCatalog
from dialogs.engine import Result, choice_of, replay
from dialogs.export import export_activity, to_markdown
from dialogs.results import ResultStore, SavedResult, owner_key
from dialogs.texts import wt
from dialogs.walkthrough_dialog import (
    INPUT_KEY,
    QUESTION_OPS,
    AnswerQuestion,
    TurnInput,
    WalkthroughDialog,
    start_phrase,
)

log = logging.getLogger(__name__)

IDLE_AFTER = timedelta(hours=12)


class WalkthroughFeature(FeatureBase):
    def __init__(
        self,
        *,
        catalog: WalkthroughCatalog,
        storage: Storage,
        results: ResultStore,
        clock: Clock,
        answer_question: AnswerQuestion,
        timezone: str = "Europe/Stockholm",
        idle_after: timedelta = IDLE_AFTER,
    ) -> None:
        self.catalog = catalog
        self._results = results
        self._clock = clock
        self._tz = ZoneInfo(timezone)
        self._idle_after = idle_after
        self._state = GuidancePrivateConversationState(storage)
        self._dialog_state = self._state.create_property("walkthrough_dialog")
        self._dialogs = DialogSet(self._dialog_state)
        self._dialogs.add(WalkthroughDialog(catalog, clock, answer_question, self._finished))
        self._commands = self._build_commands()
        self._own = CommandTable(list(self._commands))

    # ---- the Feature hooks ----------------------------------------------------------------

    def commands(self) -> list[Command]:
        return list(self._commands)

    def message_states(self) -> list[BotState]:
        return [self._state]  # on_message looks for an active walkthrough on every message

    async def on_message(self, turn: TurnContext, text: str, lang: str) -> bool:
        # Most messages come with no walkthrough in progress: tell that from the stored state alone.
        state = await self._dialog_state.get(turn)
        if not getattr(state, "dialog_stack", None):
            return False
        dc = await self._dialogs.create_context(turn)
        if dc.active_dialog is None or not self._engaged(dc.active_dialog.state):
            return False
        if self._own.match(text) is not None:
            return False  # "mina checklistor", or starting a walkthrough again: the command answers
        value = turn.activity.value
        asked = isinstance(value, dict) and value.get("action") == "ask"
        await self._continue(dc, TurnInput(text=text, asked=asked))
        return True

    async def on_submit(self, turn: TurnContext, value: dict[str, Any], lang: str) -> bool:
        if value.get("action") != ACTION:
            return False
        lang = value["lang"] if value.get("lang") in ("sv", "en") else lang
        op = value.get("op") if isinstance(value.get("op"), str) else None
        walkthrough = self.catalog.get(str(value.get("walkthrough")))
        if op == "start" and walkthrough:
            await self.start(turn, walkthrough, lang)
        elif op == "restart" and walkthrough:
            await self._begin(turn, walkthrough, lang)
        elif op in QUESTION_OPS:
            dc = await self._dialogs.create_context(turn)
            active = dc.active_dialog
            if active is not None and walkthrough is not None and active.state.get("walkthrough") == walkthrough.id:
                current = replay(walkthrough, active.state.get("answers", []))[1]
                await self._continue(dc, TurnInput(value=value))
                if op == "answer" and current is not None and value.get("question") == current:
                    await self._show_answered(turn, walkthrough, current, value.get("choice"), lang)
            else:
                phrase = start_phrase(walkthrough, lang) if walkthrough else self._any_start_phrase(lang)
                await turn.send_activity(wt("not_running", lang, phrase=phrase))
        elif op == "list":
            await self._list(turn, lang)
        elif op in ("show", "export", "delete") and isinstance(value.get("result"), int):
            await self._on_result(turn, op, value["result"], lang)
        else:
            await turn.send_activity(wt("not_running", lang, phrase=self._any_start_phrase(lang)))
        return True

    async def _show_answered(self, turn: TurnContext, w: Walkthrough, question_id: str, choice: Any, lang: str) -> None:
        """The clicked question card becomes its question and the choice made, without buttons, so an
        old card cannot be answered again."""
        question = w.question(question_id)
        picked = choice_of(question, choice if isinstance(choice, str) else None)
        if picked is not None:
            await update_card(turn, answered_activity(w, question, picked.text.get(lang), lang))

    def offer_action(self, walkthrough_id: str, lang: str) -> dict[str, Any] | None:
        """A button under a knowledge-base answer that starts the related walkthrough."""
        w = self.catalog.get(walkthrough_id)
        if w is None:
            return None
        return submit(wt("offer_start", lang, title=w.title.get(lang)), "start", lang, walkthrough=w.id)

    # ---- starting and continuing ----------------------------------------------------------

    async def start(self, turn: TurnContext, w: Walkthrough, lang: str) -> None:
        """Start `w`, or offer to continue what is in progress: a walkthrough is never lost silently."""
        dc = await self._dialogs.create_context(turn)
        active = dc.active_dialog
        if active is None:
            await self._begin(turn, w, lang, dc)
            return
        answered = len(active.state.get("answers", []))
        running = self.catalog.get(active.state.get("walkthrough", ""))
        if running is None or (answered == 0 and running.id != w.id):
            await self._begin(turn, w, lang, dc)
            return
        resume = submit(wt("continue", lang), "resume", lang, walkthrough=running.id)
        if running.id == w.id:
            if answered == 0:
                await self._continue(dc, TurnInput(value=resume["data"]))
                return
            text = wt("in_progress_same", lang, title=w.title.get(lang), n=counted(answered, "answer", lang))
            restart = submit(wt("restart", lang), "restart", lang, walkthrough=w.id)
        else:
            text = wt(
                "in_progress_other",
                lang,
                other=running.title.get(lang),
                title=w.title.get(lang),
                n=counted(answered, "answer", lang),
            )
            restart = submit(wt("switch", lang, title=w.title.get(lang)), "restart", lang, walkthrough=w.id)
        await turn.send_activity(choice_activity(text, [resume, restart]))

    async def _begin(self, turn: TurnContext, w: Walkthrough, lang: str, dc: DialogContext | None = None) -> None:
        dc = dc or await self._dialogs.create_context(turn)
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(WalkthroughDialog.ID, {"walkthrough": w.id, "lang": lang})
        await self._save(dc)

    async def _continue(self, dc: DialogContext, given: TurnInput) -> None:
        dc.context.turn_state[INPUT_KEY] = given
        await dc.continue_dialog()
        await self._save(dc)

    async def _save(self, dc: DialogContext) -> None:
        """Keep progress while a walkthrough runs; once it ended (result saved or cancelled), keep nothing."""
        if dc.active_dialog is None:
            await self._state.delete(dc.context)
        else:
            await self._state.save_changes(dc.context)

    def _engaged(self, state: dict[str, Any]) -> bool:
        """Whether the walkthrough still owns free text: not paused and not left alone too long."""
        if state.get("paused"):
            return False
        try:
            touched = datetime.fromisoformat(state.get("touched", ""))
        except (TypeError, ValueError):
            return False
        return self._clock.now() - touched <= self._idle_after

    # ---- results --------------------------------------------------------------------------

    async def _finished(self, turn: TurnContext, result: Result) -> None:
        saved = await self._results.save(owner_key(turn), result)
        # One message: the result card says itself that it was saved (no "Klart!" after it).
        await turn.send_activity(self._result_card(saved, just_saved=True))

    def _result_card(self, saved: SavedResult, just_saved: bool = False) -> Any:
        created = saved.created.astimezone(self._tz)
        markdown = to_markdown(saved.result, created)
        note = wt("result_saved", saved.result.lang) if just_saved else None
        return result_activity(saved.result, saved.id, created, markdown, saved.result.lang, note)

    async def _list(self, turn: TurnContext, lang: str) -> None:
        saved = await self._results.of_owner(owner_key(turn))
        if not saved:
            starts = " / ".join(f"**{start_phrase(w, lang)}**" for w in self.catalog)
            await turn.send_activity(wt("list_empty", lang, starts=starts))
            return
        items = [(n, s.id, s.result.title, s.created.astimezone(self._tz)) for n, s in enumerate(saved, 1)]
        await turn.send_activity(list_activity(items, lang))

    async def _on_result(self, turn: TurnContext, op: str, result_id: int, lang: str) -> None:
        owner = owner_key(turn)
        saved = await self._results.get(owner, result_id)
        if saved is None:
            await turn.send_activity(wt("no_such_result", lang))
        elif op == "show":
            await turn.send_activity(self._result_card(saved))
        elif op == "export":
            await turn.send_activity(export_activity(saved.result, saved.created.astimezone(self._tz)))
        elif await self._results.delete(owner, result_id):
            log.info("walkthrough result deleted", extra={"walkthrough": saved.result.walkthrough_id})
            await turn.send_activity(wt("deleted", lang, title=saved.result.title))

    async def _by_number(self, turn: TurnContext, call: CommandCall, op: str) -> None:
        """The result numbered as in "mina checklistor" ("visa checklista 2"); without a number, the list."""
        number = normalize_command_text(call.args)
        if not number:
            await self._list(turn, call.lang)
            return
        saved = await self._results.of_owner(owner_key(turn))
        index = int(number) - 1 if number.isdecimal() else -1
        if not 0 <= index < len(saved):
            await turn.send_activity(wt("no_such_result", call.lang))
            return
        await self._on_result(turn, op, saved[index].id, call.lang)

    # ---- commands -------------------------------------------------------------------------

    def _build_commands(self) -> list[Command]:
        commands = [
            Command(
                key=f"walkthrough:{w.id}",
                phrases={
                    "sv": tuple(normalize_command_text(p) for p in w.start_phrases.sv),
                    "en": tuple(normalize_command_text(p) for p in w.start_phrases.en),
                },
                description={"sv": w.description.get("sv"), "en": w.description.get("en")},
                handler=self._start_handler(w),
            )
            for w in self.catalog
        ]
        results = [
            ("list", ("mina checklistor", "mina resultat", "visa mina checklistor"), ("my checklists", "my results"),
             False, lambda turn, call: self._list(turn, call.lang)),
            ("show", ("visa checklista", "visa checklistan"), ("show checklist",),
             True, lambda turn, call: self._by_number(turn, call, "show")),
            ("export", ("exportera checklista", "exportera checklistan"), ("export checklist",),
             True, lambda turn, call: self._by_number(turn, call, "export")),
            ("delete", ("radera checklista", "radera checklistan", "ta bort checklista"),
             ("delete checklist", "remove checklist"), True, lambda turn, call: self._by_number(turn, call, "delete")),
        ]  # fmt: skip
        for key, sv, en, takes_args, handler in results:
            commands.append(
                Command(
                    key=f"walkthrough-results:{key}",
                    phrases={"sv": sv, "en": en},
                    description={"sv": wt(f"cmd_{key}", "sv"), "en": wt(f"cmd_{key}", "en")},
                    handler=handler,
                    takes_args=takes_args,
                    show_in_help=key == "list",
                )
            )
        return commands

    def _start_handler(self, w: Walkthrough) -> Any:
        async def handler(turn: TurnContext, call: CommandCall) -> None:
            await self.start(turn, w, call.lang)

        return handler

    def _any_start_phrase(self, lang: str) -> str:
        first = next(iter(self.catalog), None)
        return start_phrase(first, lang) if first else wt("my_checklists", lang).lower()
