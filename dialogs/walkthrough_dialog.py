"""The botbuilder dialog that runs one walkthrough: one question per turn, with cancel, back, help,
pause and questions for the guidance on the way.

Its instance state is small and plain (walkthrough id, language, the answers, when last touched),
so it survives in SqlStorage across restarts and stays readable after a checklist is edited.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.clock import Clock
from bot.conversation.language import detect_language
from dialogs.cards import ACTION, question_activity
from dialogs.definitions import Walkthrough, WalkthroughCatalog
from dialogs.engine import LATER, MAX_NOTE, NOT_RELEVANT, Answer, choice_of, compose_result, next_after, replay
from dialogs.engine import Result as WalkthroughResult
from dialogs.reading import control_word, forced_note, looks_like_question, match_choice, note_mark
from dialogs.texts import wt

log = logging.getLogger(__name__)

AnswerQuestion = Callable[[TurnContext, str, str | None], Awaitable[None]]
OnFinished = Callable[[TurnContext, WalkthroughResult], Awaitable[None]]

INPUT_KEY = "dialogs.walkthrough.input"
QUESTION_OPS = {"answer", "note", NOT_RELEVANT, LATER, "back", "help", "cancel", "pause", "resume"}


@dataclass(frozen=True)
class TurnInput:
    """What the user sent this turn, as the bot read it (mention removed, suggestion buttons as text)."""

    text: str = ""
    value: dict[str, Any] | None = None
    asked: bool = False  # a suggested-question button under an answer: always a question


def start_phrase(w: Walkthrough, lang: str) -> str:
    phrases = w.start_phrases.en if lang == "en" and w.start_phrases.en else w.start_phrases.sv
    return phrases[0]


class WalkthroughDialog(Dialog):
    ID = "walkthrough"

    def __init__(
        self, catalog: WalkthroughCatalog, clock: Clock, answer_question: AnswerQuestion, on_finished: OnFinished
    ) -> None:
        super().__init__(self.ID)
        self._catalog = catalog
        self._clock = clock
        self._answer_question = answer_question
        self._on_finished = on_finished

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        opts = options if isinstance(options, dict) else {}
        w = self._catalog.get(str(opts.get("walkthrough")))
        if w is None:
            return await dialog_context.end_dialog()
        lang = "en" if opts.get("lang") == "en" else "sv"
        state = dialog_context.active_dialog.state
        state.update(walkthrough=w.id, lang=lang, answers=[], paused=False, touched=self._now())
        log.info("walkthrough started", extra={"walkthrough": w.id, "lang": lang})
        intro = [w.intro.get(lang), f"{wt('source', lang)}: {w.source.get(lang)}"]
        await self._ask(dialog_context.context, w, [], w.start, lang, intro)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        turn = dialog_context.context
        state = dialog_context.active_dialog.state
        w = self._catalog.get(state.get("walkthrough", ""))
        lang = state.get("lang", "sv")
        if w is None:  # the checklist was removed from content/ since this one started
            await turn.send_activity(wt("removed", lang))
            return await dialog_context.end_dialog()
        answers, current = replay(w, state.get("answers", []))
        notices = [wt("changed", lang)] if len(answers) != len(state.get("answers", [])) else []
        state.update(answers=[a.to_dict() for a in answers], paused=False, touched=self._now())
        if current is None:
            return await self._finish(dialog_context, w, answers, lang)
        question = w.question(current)
        given = turn.turn_state.get(INPUT_KEY) or TurnInput(turn.activity.text or "", turn.activity.value)
        value = given.value if isinstance(given.value, dict) and given.value.get("action") == ACTION else None
        op, answer = ("question", None) if given.asked else self._read(given.text, value, question.id, w, lang, notices)

        if op == "cancel":
            log.info("walkthrough cancelled", extra={"walkthrough": w.id, "answers": len(answers)})
            await turn.send_activity(wt("cancelled", lang, title=w.title.get(lang)))
            return await dialog_context.end_dialog()
        if op == "pause":
            state["paused"] = True
            await turn.send_activity(wt("paused", lang, phrase=start_phrase(w, lang)))
            return Dialog.end_of_turn
        if op == "help":
            notices.append(wt("help_prefix", lang, help=question.help.get(lang)))
        elif op == "back":
            if answers:
                current = answers.pop().question
            else:
                notices.append(wt("first_question", lang))
        elif op == "question":
            await self._answer_question(turn, given.text, detect_language(given.text) or lang)
            notices.append(wt("back_to_question", lang))
        elif answer is not None:
            answers.append(answer)
            following = next_after(w, answer)
            if following is None:
                return await self._finish(dialog_context, w, answers, lang)
            current = following
        state["answers"] = [a.to_dict() for a in answers]
        await self._ask(turn, w, answers, current, lang, notices)
        return Dialog.end_of_turn

    # ---- reading the turn -----------------------------------------------------------------

    def _read(
        self, text: str, value: dict[str, Any] | None, current: str, w: Walkthrough, lang: str, notices: list[str]
    ) -> tuple[str, Answer | None]:
        """What the user meant: an op ("cancel", "back", "help", "pause", "question", "answer", "ask") and an answer."""
        question = w.question(current)
        if value is not None:
            op = str(value.get("op", ""))
            if op not in QUESTION_OPS or op == "resume":
                return "ask", None
            if value.get("question") != current and op not in ("cancel", "pause"):
                notices.append(wt("stale_button", lang))
                return "ask", None
            if op == "answer":
                picked = value.get("choice")
                choice = choice_of(question, picked if isinstance(picked, str) else None)
                return ("answer", Answer(current, choice=choice.id)) if choice else ("ask", None)
            if op == "note":
                note = value.get("note")
                return self._note(question.id, note if isinstance(note, str) else "", lang, notices)
            if op in (NOT_RELEVANT, LATER):
                return self._mark(w, current, op, lang, notices)
            return op, None
        control = control_word(text)
        if control:
            return control, None
        if question.kind == "note":
            forced = forced_note(text)
            if forced is not None:
                return self._note(current, forced, lang, notices)
            mark = note_mark(text)
            if mark:
                return self._mark(w, current, mark, lang, notices)
            if looks_like_question(text):
                return "question", None
            return self._note(current, text, lang, notices)
        choice = match_choice(text, question.choices)
        if choice is not None:
            return "answer", Answer(current, choice=choice.id)
        if looks_like_question(text):
            return "question", None
        notices.append(wt("no_fit", lang, text=_shorten(text)))
        return "ask", None

    @staticmethod
    def _note(question_id: str, note: str, lang: str, notices: list[str]) -> tuple[str, Answer | None]:
        note = note.strip()[:MAX_NOTE]
        if not note:
            notices.append(wt("empty_note", lang))
            return "ask", None
        return "answer", Answer(question_id, note=note)

    @staticmethod
    def _mark(w: Walkthrough, question_id: str, mark: str, lang: str, notices: list[str]) -> tuple[str, Answer | None]:
        question = w.question(question_id)
        allowed = question.not_relevant if mark == NOT_RELEVANT else question.later
        if not allowed:
            notices.append(wt("no_fit", lang, text=wt(mark, lang)))
            return "ask", None
        return "answer", Answer(question_id, mark=mark)

    # ---- speaking -------------------------------------------------------------------------

    async def _ask(
        self, turn: TurnContext, w: Walkthrough, answers: list[Answer], current: str, lang: str, notices: list[str]
    ) -> None:
        question = w.question(current)
        previous = w.question(answers[-1].question).section if answers else None
        section = w.section(question.section)
        if section and section.intro and (not answers or previous != question.section):
            notices = [*notices, f"**{section.title.get(lang)}** – {section.intro.get(lang)}"]
        await turn.send_activity(question_activity(w, question, len(answers) + 1, lang, notices))

    async def _finish(
        self, dialog_context: DialogContext, w: Walkthrough, answers: list[Answer], lang: str
    ) -> DialogTurnResult:
        log.info("walkthrough finished", extra={"walkthrough": w.id, "answers": len(answers)})
        await self._on_finished(dialog_context.context, compose_result(w, answers, lang))
        return await dialog_context.end_dialog()

    def _now(self) -> str:
        return self._clock.now().isoformat()


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
