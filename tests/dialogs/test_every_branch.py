"""Every answer of both checklists, walked through the bot to a saved result.

Paths are planned from the definition so that, together, they take every choice, every yes and
no, and every way of answering a note ("not relevant", "decide later", a note). The bot has to ask
exactly the question the definition says comes next, and show the answer in the result.
"""

from __future__ import annotations

from functools import cache

import pytest

from dialogs.definitions import Question, Walkthrough, WalkthroughCatalog
from tests.dialogs.conftest import Chat, current_question

Option = tuple[str, str]  # (question id, choice id or "note" / "not_relevant" / "later")


def options(q: Question) -> list[str]:
    if q.kind != "note":
        return [c.id for c in q.choices]
    return ["note"] + (["not_relevant"] if q.not_relevant else []) + (["later"] if q.later else [])


def target(w: Walkthrough, q: Question, option: str) -> str | None:
    return w.next_of(q, next((c for c in q.choices if c.id == option), None))


def plan(w: Walkthrough) -> list[list[Option]]:
    """Few paths that together take every option: prefer an untaken one, else one that leads to one."""
    untaken = {(q.id, o) for q in w.questions for o in options(q)}
    paths: list[list[Option]] = []
    while untaken:

        @cache
        def leads_to_untaken(qid: str | None) -> bool:
            if qid is None:
                return False
            q = w.question(qid)
            return any((qid, o) in untaken or leads_to_untaken(target(w, q, o)) for o in options(q))

        path: list[Option] = []
        current: str | None = w.start
        while current is not None:
            q = w.question(current)
            choices = options(q)
            pick = next((o for o in choices if (current, o) in untaken), None)
            pick = pick or next((o for o in choices if leads_to_untaken(target(w, q, o))), choices[0])
            path.append((current, pick))
            untaken.discard((current, pick))
            current = target(w, q, pick)
        paths.append(path)
    return paths


def planned(catalog: WalkthroughCatalog) -> list[tuple[str, int, list[Option]]]:
    return [(w.id, i, p) for w in catalog for i, p in enumerate(plan(w))]


async def answer(chat: Chat, w: Walkthrough, qid: str, option: str, by_button: bool) -> str:
    """Answer as a manager would, alternating buttons and typing; returns what the result should show."""
    q = w.question(qid)
    if option == "note":
        note = f"Anteckning till {qid}"
        if by_button:
            await chat.click("Spara", note=note)
        else:
            await chat.say(note)
        return note
    if option in ("not_relevant", "later"):
        label = "Inte aktuellt" if option == "not_relevant" else "Bestäm senare"
        await (chat.click(label) if by_button else chat.say(label.lower()))
        return label
    index, choice = next((i, c) for i, c in enumerate(q.choices, 1) if c.id == option)
    if by_button:
        await chat.click(choice.text.sv)
    else:
        await chat.say(str(index) if index % 2 else choice.text.sv.upper())
    return choice.text.sv


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "walk" in metafunc.fixturenames:
        from bot.config import PROJECT_ROOT
        from dialogs.definitions import load_walkthroughs

        walks = planned(load_walkthroughs(PROJECT_ROOT / "content"))
        metafunc.parametrize("walk", walks, ids=[f"{wid}-{i}" for wid, i, _ in walks])


async def test_every_option_leads_to_a_result(chat: Chat, walk: tuple[str, int, list[Option]]) -> None:
    wid, _, path = walk
    w = chat.catalog.get(wid)
    assert w is not None
    await chat.say(w.start_phrases.sv[0])
    shown: list[tuple[str, str]] = []
    for step, (qid, option) in enumerate(path):
        assert current_question(chat.last) == qid, f"step {step}: expected {qid}"
        shown.append((w.question(qid).label("sv"), await answer(chat, w, qid, option, by_button=step % 2 == 0)))
    result = chat.text()
    assert "Resultatet är sparat" in result
    for label, text in shown:
        assert f"- **{label}:** {text}" in result
    assert current_question(chat.last) is None


def test_the_paths_take_every_option(catalog: WalkthroughCatalog) -> None:
    for w in catalog:
        taken = {option for path in plan(w) for option in path}
        assert taken == {(q.id, o) for q in w.questions for o in options(q)}
