"""Turn state is written, read and compared for changes exactly as with jsonpickle alone, only faster.

Plain JSON state skips jsonpickle (bot/storage/kv_store.py, bot/storage/bot_states.py); anything else still takes it.
"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from hypothesis import given
from hypothesis import strategies as st
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler

from bot.storage import Database
from bot.storage.bot_states import GuidanceUserState, PlainAwareCachedState
from bot.storage.kv_store import SqlStorage, decode, encode

# Keys include jsonpickle's own markers, which plain state must not be mistaken for.
keys = st.one_of(st.text(max_size=8), st.sampled_from(["py/object", "py/id", "json://1", "e_tag", "py/tuple"]))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False), st.text(max_size=12)
)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


def jsonpickle_encode(item: Any) -> str:
    flat = Pickler(unpicklable=True, keys=True).flatten(item)
    if isinstance(flat, dict):
        flat.pop("e_tag", None)
    return json.dumps(flat, ensure_ascii=False, separators=(",", ":"))


def jsonpickle_decode(text: str) -> Any:
    return Unpickler(keys=True).restore(json.loads(text))


@given(st.dictionaries(keys, trees, max_size=5))
def test_state_is_stored_as_jsonpickle_stores_it(state: dict[str, Any]) -> None:
    text = encode(state)
    assert text == jsonpickle_encode(state)
    assert decode(text) == jsonpickle_decode(text)


@given(trees)
def test_a_plain_state_hashes_as_botbuilder_hashes_it(state: Any) -> None:
    assert PlainAwareCachedState().compute_hash(state) == CachedBotState().compute_hash(state)


def test_dialog_objects_still_round_trip_through_jsonpickle() -> None:
    state = {"walkthrough_dialog": DialogState([DialogInstance("walkthrough", {"step": 2})]), "e_tag": "x"}
    text = encode(state)
    assert "py/object" in text
    restored = decode(text)
    assert isinstance(restored["walkthrough_dialog"], DialogState)
    assert restored["walkthrough_dialog"].dialog_stack[0].state == {"step": 2}


async def test_a_turn_that_changes_nothing_writes_nothing_and_a_change_is_written(tmp_path: Any) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    await db.open()
    try:
        storage = SqlStorage(db)
        user_state = GuidanceUserState(storage)
        names = user_state.create_property("names")
        activity = Activity(
            type="message",
            channel_id="msteams",
            from_property=ChannelAccount(id="29:u1"),
            conversation=ConversationAccount(id="c1"),
            recipient=ChannelAccount(id="28:bot"),
        )

        async def turn(change: bool) -> str | None:
            context = TurnContext(TestAdapter(), activity)
            await user_state.load(context)
            if change:
                await names.set(context, ["Anna", {"nested": [1, 2.5, None]}])
            else:
                await names.get(context)
            await user_state.save_changes(context)
            stored = await storage.read([user_state.get_storage_key(context)])
            return next(iter(stored.values()), {}).get("e_tag")

        first = await turn(change=True)
        assert first is not None
        assert await turn(change=False) == first  # unchanged: no write, the e-tag stays
        assert await turn(change=True) == first  # the same value again is no change either
        stored = await storage.read(["msteams/users/29:u1"])
        assert stored["msteams/users/29:u1"]["names"] == ["Anna", {"nested": [1, 2.5, None]}]
    finally:
        await storage.close()
        await db.close()
