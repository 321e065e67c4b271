"""Recognising plain JSON trees, so that the general serialisers (msrest, jsonpickle) can be skipped.

msrest and jsonpickle walk a value node by node to turn it into JSON, and for a tree that is already
plain JSON (dicts with str keys, lists, str, int, float, bool, None) they return an equal copy. The
hot paths (activities, card content, turn state) check for such a tree first and use it as it is.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from jsonpickle.tags import JSON_KEY

SCALARS = frozenset({str, int, float, bool, type(None)})
# Dict keys with which jsonpickle marks what it encoded (objects, references, escaped keys): a tree
# holding one is not plain to jsonpickle.
JSONPICKLE_MARKERS = ("py/", JSON_KEY)


def is_plain_json(value: Any, depth: int = 0, *, max_depth: int | None = None, reserved: tuple[str, ...] = ()) -> bool:
    """True for a tree of dicts (str keys), lists and JSON scalars, at most `max_depth` levels below
    `depth`, with no dict key that starts with one of `reserved` (another format's markers)."""
    level = [value]
    while level:
        if max_depth is not None and depth > max_depth:
            return False
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind in SCALARS:
                continue
            if kind is dict:
                for key, child in item.items():
                    if type(key) is not str or (reserved and key.startswith(reserved)):
                        return False
                    below.append(child)
            elif kind is list:
                below.extend(item)
            else:
                return False
        level = below
        depth += 1
    return True


def load_json(text: str | bytes) -> Any:
    """orjson for speed; the standard library for what orjson is stricter about (NaN, Infinity,
    integers beyond 64 bits, lone surrogates). Raises json.JSONDecodeError (or UnicodeDecodeError
    for bytes that are not UTF-8) when neither reads it."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dump_json(payload: Any, *, sort_keys: bool = False, default: Any = None) -> bytes:
    """orjson for speed; the standard library for anything orjson does not take (odd keys, integers
    beyond 64 bits)."""
    try:
        return orjson.dumps(payload, default=default, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        return json.dumps(payload, sort_keys=sort_keys, default=default).encode("utf-8")
