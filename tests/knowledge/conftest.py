"""Fixtures for the knowledge base: the real content, and editable copies of it for validation tests."""

from __future__ import annotations

import datetime
import pathlib
import shutil
from collections.abc import Callable

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
# A day after every period in the content has ended, so that answers are stable whatever the date.
LATER = datetime.date(2026, 11, 23)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(CONTENT)


@pytest.fixture
def content_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of content/ that a test may edit; pytest removes tmp_path afterwards."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture
def edit(content_copy: pathlib.Path) -> Callable[[str, str, str], None]:
    """Replace one exact piece of text in a file of the copy, failing loudly if it is not there."""

    def replace(relative: str, old: str, new: str) -> None:
        path = content_copy / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not found in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return replace
