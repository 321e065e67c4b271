"""The command table finds the command a message names, as its rule says, on the bot's real commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_services
from bot.conversation.commands import CommandCall, CommandTable, _args_after, normalize_command_text
from tests.harness import bot_settings


def by_the_rule(table: CommandTable, text: str) -> CommandCall | None:
    """The rule, spelled out: the whole message, or the first words of one for a command that takes
    arguments; the longest phrase wins, then the first in table order."""
    norm = normalize_command_text(text)
    best = None
    for command in table.commands:
        for lang, phrases in command.phrases.items():
            for phrase in phrases:
                hit = bool(norm) and (norm == phrase or (command.takes_args and norm.startswith(phrase + " ")))
                if hit and (best is None or len(phrase) > best[0]):
                    best = (len(phrase), command, lang, phrase)
    if best is None:
        return None
    _, command, lang, phrase = best
    return CommandCall(command, lang, _args_after(text, phrase))


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> CommandTable:
    tmp: Path = tmp_path_factory.mktemp("commands")
    return build_services(bot_settings(tmp)).bot.commands


def test_every_phrase_names_its_command(table: CommandTable) -> None:
    for command in table.commands:
        for phrases in command.phrases.values():
            for phrase in phrases:
                call = table.match(phrase.upper() + "!")
                assert call is not None
                assert call == by_the_rule(table, phrase)


def test_a_longer_phrase_wins_and_the_rest_are_arguments(table: CommandTable) -> None:
    cancel = table.match("Avbryt påminnelse 3")
    assert cancel is not None
    assert (cancel.command.key, cancel.args) == ("reminder_cancel", "3")
    remind = table.match("påminn Teamet imorgon kl 9: Fika!")
    assert remind is not None
    assert (remind.command.key, remind.args) == ("reminder", "Teamet imorgon kl 9: Fika!")
    assert table.match("hjälp mig") is None  # help takes no arguments: that is a question
    assert table.match("Får jag jobba hemma?") is None


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_matching_follows_the_rule(table: CommandTable, data: st.DataObject) -> None:
    phrases = sorted({p for c in table.commands for ps in c.phrases.values() for p in ps})
    words = st.sampled_from([*phrases, "imorgon", "kl 9", "Teamet!", "?", "", "  ", "jobba", "hemma", "2"])
    text = " ".join(data.draw(st.lists(words, min_size=1, max_size=4)))
    if data.draw(st.booleans()):
        text = text.upper()
    assert table.match(text) == by_the_rule(table, text)
