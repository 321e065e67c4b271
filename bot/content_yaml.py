"""Reading a content YAML file and naming its problems as the person who edits it sees them.

Every content file (knowledge, sources, synonyms, checklists, roles, units, schedules, templates) goes
through here, so an error reads the same everywhere: the file, the entry (a list item by its id), the
field (`choices[2].next`), what is wrong in plain words, and the line.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content_errors import ContentProblem

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Parsed:
    """A file's data and its YAML node tree (for line numbers)."""

    data: Any
    node: yaml.Node | None


def parse_yaml(
    path: pathlib.Path, name: str, problems: list[ContentProblem], *, required: bool = True
) -> Parsed | None:
    """The file's data, or None with a problem added (a missing optional file adds none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            problems.append(ContentProblem(name, "", "", "the file is missing"))
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(ContentProblem(name, "", "", f"cannot read the file: {error}"))
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(ContentProblem(name, "", "", f"YAML syntax error: {reason}{where}"))
        return None
    if data is None:
        if required:
            problems.append(ContentProblem(name, "", "", "the file is empty"))
        return None
    return Parsed(data, node)


def validate(model: type[M], parsed: Parsed, name: str, problems: list[ContentProblem], *, entry: str = "") -> M | None:
    """The validated document, or None with every problem added.

    `entry` names the document itself where an error is not inside a list item (a walkthrough's id).
    """
    if not isinstance(parsed.data, dict):
        problems.append(ContentProblem(name, "", "", "the file must be a YAML mapping (key: value lines)"))
        return None
    if duplicate_keys(parsed, name, problems, entry=entry):
        return None
    try:
        return model.model_validate(parsed.data)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail.get("loc", ()))
            item, field = locate(parsed.data, loc, entry=entry)
            text = message(detail)
            line = line_of(parsed.node, loc)
            if line:
                text += f" (line {line})"
            problems.append(ContentProblem(name, item, field, text))
        return None


def duplicate_keys(parsed: Parsed, name: str, problems: list[ContentProblem], *, entry: str = "") -> bool:
    """YAML silently keeps the last of two equal keys; an editor almost never means that."""
    found = False
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(parsed.node, ())] if parsed.node is not None else []
    while stack:
        current, where = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                key_name = str(key.value)
                if key_name in seen:
                    found = True
                    item, field = locate(parsed.data, (*where, key_name), entry=entry)
                    line = key.start_mark.line + 1
                    problems.append(
                        ContentProblem(name, item, field, f"the key {key_name!r} appears twice (line {line})")
                    )
                seen.add(key_name)
                stack.append((value, (*where, key_name)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*where, number)) for number, item in enumerate(current.value))
    return found


def locate(data: Any, loc: tuple[Any, ...], *, entry: str = "") -> tuple[str, str]:
    """(entry, field) for a location such as ("entries", 3, "answer", "sv"): a list item by its id.

    Outside a list, the document's own name (`entry`) or else the top-level key names the entry.
    """
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data, dict):
        items = data.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        item_id = item.get("id") if isinstance(item, dict) else None
        name = item_id.strip() if isinstance(item_id, str) and item_id.strip() else f"{loc[0]}[{loc[1]}]"
        return name, field_path(loc[2:])
    if entry or not loc:
        return entry, field_path(loc)
    return str(loc[0]), field_path(loc[1:])  # a top-level section names itself: entry 'lagesbild', field 'time'


def field_path(parts: tuple[Any, ...]) -> str:
    """("choices", 2, "next") -> "choices[2].next", as the field reads in the file."""
    where = ""
    for part in parts:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest YAML node the error's location reaches."""
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            match = next((v for k, v in current.value if str(k.value) == str(part)), None)
            if match is None:
                key = next((k for k, _ in current.value if str(k.value) == str(part)), None)
                current = key or current
                break
            current = match
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
        else:
            break
    return current.start_mark.line + 1 if current is not None else None


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (misspelt?)",
    "string_too_short": "must not be empty",
    "too_short": "must have at least one item",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
}


def message(detail: Any) -> str:
    """A pydantic error in the words of someone editing YAML."""
    kind = detail.get("type", "")
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_type":
        if isinstance(detail.get("input"), bool):
            return "must be text: put it in quotes (YAML reads yes/no/on/off as true/false)"
        return "must be text"
    if kind == "string_pattern_mismatch":
        pattern = str(detail.get("ctx", {}).get("pattern", ""))
        if pattern.startswith("^https?"):
            return "must be a web address starting with http:// or https://"
        return "must be lower-case letters a-z, digits and hyphens (like remote-work-2020)"
    if kind == "value_error":
        return str(detail.get("msg", "")).removeprefix("Value error, ")
    return str(detail.get("msg", "is invalid"))
