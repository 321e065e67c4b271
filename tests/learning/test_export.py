"""export-learned edits the knowledge files as text: comments and layout stay, a missing language is added."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.learning.export import insert_phrasings
from bot.learning.store import LearnedPhrasing, LearningStore
from bot.storage import Database
from tests.broadcast.helpers import content_dir

TZ = ZoneInfo("Europe/Stockholm")
FILE = """entries:
  - id: one
    questions:
      sv:
        - "Får jag?"  # a comment that stays
    answer: {sv: Ja.}
  - id: two
    questions:
      sv:
        - "Och nu?"
"""


def learned(entry: str, question: str, lang: str) -> LearnedPhrasing:
    return LearnedPhrasing(1, entry, question, lang, "Eva Ägare", datetime(2026, 12, 3, 23, 30, tzinfo=UTC))


def test_a_phrasing_goes_under_its_entry_and_language_with_who_and_when() -> None:
    out = insert_phrasings(FILE, "one", [learned("one", "får jag nu", "sv"), learned("one", "may I", "en")], TZ, "f")
    assert out.split("\n")[4:8] == [
        '        - "Får jag?"  # a comment that stays',
        '        - "får jag nu"  # inlärd: Eva Ägare, 2026-12-04',
        "      en:",
        '        - "may I"  # inlärd: Eva Ägare, 2026-12-04',
    ]
    assert out.endswith('        - "Och nu?"\n')


async def test_the_command_exports_and_clears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    db = Database(url)
    await db.open()
    store = LearningStore(db)
    async with db.e.begin() as conn:
        await store.learn(conn, "utrustning-stol", [("sv", "får man ta hem stolen då")], None, "Eva", datetime.now(UTC))
    await db.close()
    content = content_dir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONTENT_DIR", str(content))
    assert await asyncio.to_thread(main, ["export-learned"]) == 0  # the command runs its own event loop
    assert "exported 1 learned phrasings" in capsys.readouterr().out
    assert '"får man ta hem stolen då"  # inlärd: Eva' in (content / "knowledge" / "equipment.yaml").read_text()
    db = Database(url)
    await db.open()
    assert await LearningStore(db).phrasings() == []
    await db.close()
