"""How typed answers are read: numbers, words with typos, control words, and questions versus notes."""

from __future__ import annotations

import pytest

from dialogs.definitions import WalkthroughCatalog
from dialogs.reading import control_word, forced_note, looks_like_question, match_choice, note_mark


@pytest.fixture
def tools(catalog: WalkthroughCatalog):
    w = catalog.get("remote-work-checklist")
    assert w is not None
    return w.question("tools").choices


@pytest.fixture
def confidential(catalog: WalkthroughCatalog):
    w = catalog.get("remote-work-checklist")
    assert w is not None
    return w.question("confidential").choices


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2", "no_vpn"),
        (" 4. ", "unsure"),
        ("Dator finns men inte VPN", "no_vpn"),
        ("dator finns men inte vpn!", "no_vpn"),
        ("datorn finns men inte vpn", "no_vpn"),  # a small typo
        ("ingen VPN", "no_vpn"),  # an alias
        ("Computer but no VPN", "no_vpn"),  # English words in a Swedish walkthrough
        ("saknar dator", "no_computer"),
        ("vet inte", "unsure"),
        ("ja", "all"),
    ],
)
def test_choice_is_found_from_number_or_words(tools, typed: str, expected: str) -> None:
    choice = match_choice(typed, tools)
    assert choice is not None
    assert choice.id == expected


@pytest.mark.parametrize("typed", ["5", "0", "kanske", "", "det beror på"])
def test_no_choice_for_text_that_fits_none(tools, typed: str) -> None:
    assert match_choice(typed, tools) is None


def test_ambiguous_yes_is_not_guessed(confidential) -> None:
    # "Ja, en del" and "Ja, det mesta" both start with yes: ask again rather than pick one.
    assert match_choice("ja", confidential) is None
    assert match_choice("ja en del", confidential).id == "some"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("avbryt", "cancel"), ("Avbryt!", "cancel"), ("cancel", "cancel"),
        ("tillbaka", "back"), ("back", "back"),
        ("hjälp", "help"), ("?", "help"), ("help", "help"),
        ("paus", "pause"), ("senare", "pause"),
        ("avbryt inte mötet", None), ("hjälp med vpn", None),
    ],
)  # fmt: skip
def test_control_words_are_whole_messages(typed: str, expected: str | None) -> None:
    assert control_word(typed) == expected


@pytest.mark.parametrize(
    ("typed", "is_question"),
    [
        ("Får jag jobba hemifrån på fredagar?", True),
        ("vad gäller för VPN", True),
        ("Hur ansöker man om distansavtal", True),
        ("can I work from home", True),
        ("Receptionen och registratorn först", False),
        ("Två personer per dag, alltid en i receptionen", False),
        ("Kan vänta till oktober", False),  # "kan" alone does not make a question
        ("Vi ses kl 8 eller kl 15.", False),
    ],
)
def test_question_or_note(typed: str, is_question: bool) -> None:
    assert looks_like_question(typed) is is_question


def test_note_prefix_and_marks() -> None:
    assert forced_note("Anteckning: Vem tar posten?") == "Vem tar posten?"
    assert forced_note("note: who takes the mail?") == "who takes the mail?"
    assert forced_note("Vem tar posten?") is None
    assert note_mark("Inte aktuellt.") == "not_relevant"
    assert note_mark("decide later") == "later"
    assert note_mark("Inte aktuellt för oss eftersom vi saknar reception") is None
