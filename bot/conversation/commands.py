"""The bot's commands as data: one table drives routing, the help text and the Teams manifest."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

_PUNCT = re.compile(r"[^\w\s/-]+")
_SPACE = re.compile(r"\s+")


def normalize_command_text(text: str) -> str:
    """Lower case, no punctuation, single spaces: how people type commands in chat."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


Handler = Callable[[Any, "CommandCall"], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    """A command users type; `phrases` hold every accepted wording, Swedish and English."""

    key: str
    phrases: dict[str, tuple[str, ...]]  # lang -> accepted phrases; the first is shown in help
    description: dict[str, str]
    handler: Handler
    role: str | None = None  # a role from roles.yaml that the caller must have
    takes_args: bool = False
    show_in_help: bool = True
    # Roles whose holders see it in the help (the handler says no to others itself); None: everyone.
    audience: frozenset[str] | None = None


@dataclass(frozen=True)
class CommandCall:
    command: Command
    lang: str  # the language of the phrase the user typed
    args: str  # the rest of the message after the phrase (original casing)


@dataclass
class CommandTable:
    """Ordered commands; the longest matching phrase wins so "senaste lägesbild" beats "lägesbild"."""

    commands: list[Command] = field(default_factory=list)
    # phrase -> the first (command, lang) with it, in table order; and the same for commands that
    # take arguments. Built on first use after a change (every message is matched against the table).
    _exact: dict[str, tuple[Command, str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _with_args: dict[str, tuple[Command, str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: int = field(default=-1, init=False, repr=False, compare=False)

    def add(self, command: Command) -> None:
        if any(c.key == command.key for c in self.commands):
            raise ValueError(f"duplicate command {command.key}")
        self.commands.append(command)

    def match(self, text: str) -> CommandCall | None:
        """The command whose phrase is the whole message, or, for a command that takes arguments, its
        first words; the longest phrase wins, then the first in table order."""
        norm = normalize_command_text(text)
        if not norm:
            return None
        self._index()
        found = self._exact.get(norm)
        phrase = norm
        if found is None:
            cut = norm.rfind(" ")
            while cut > 0 and found is None:  # longest first: the phrase plus a space starts the message
                phrase = norm[:cut]
                found = self._with_args.get(phrase)
                cut = norm.rfind(" ", 0, cut)
        if found is None:
            return None
        command, lang = found
        return CommandCall(command=command, lang=lang, args=_args_after(text, phrase))

    def _index(self) -> None:
        if self._indexed == len(self.commands):
            return
        self._exact, self._with_args = {}, {}
        for command in self.commands:
            for lang, phrases in command.phrases.items():
                for phrase in phrases:
                    self._exact.setdefault(phrase, (command, lang))
                    if command.takes_args:
                        self._with_args.setdefault(phrase, (command, lang))
        self._indexed = len(self.commands)

    def help_lines(self, lang: str, roles: set[str] | None = None) -> list[str]:
        lines = []
        for c in self.commands:
            if not c.show_in_help or (c.role and (roles is None or c.role not in roles)):
                continue
            if c.audience is not None and not (roles or set()) & c.audience:
                continue
            phrase = (c.phrases.get(lang) or c.phrases["sv"])[0]
            lines.append(f"- **{phrase}** – {c.description.get(lang) or c.description['sv']}")
        return lines


def _args_after(text: str, phrase: str) -> str:
    """The user's own words after the command phrase, keeping case and punctuation."""
    words = len(phrase.split())
    parts = text.strip().split(None, words)
    return parts[words].strip() if len(parts) > words else ""
