"""The knowledge base with the learned phrasings of the database: every replica sees a new one at its next turn.

A replica asks the database for the phrasings' version (how many, the newest id) at most once every
CHECK_SECONDS, on the first message after that (the query costs about 0.3 ms, a fifth of a turn, so not every
message pays it); only when the version changed is the knowledge base rebuilt (about a third of a second, in a
worker thread) from the content as loaded plus the phrasings. The replica where an owner links or removes a
phrasing checks at once (`invalidate`); the others within CHECK_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging

from bot.clock import Clock
from bot.knowledge import KnowledgeBase
from bot.learning.store import LearningStore

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


class LiveKnowledge:
    def __init__(
        self, base: KnowledgeBase, store: LearningStore, clock: Clock, check_seconds: float = CHECK_SECONDS
    ) -> None:
        self.base = base
        self.store = store
        self.clock = clock
        self.check_seconds = check_seconds
        self._current = base
        self._version: tuple[int, int] = (0, 0)
        self._checked = float("-inf")
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """The phrasings changed here: check the version at the next turn, not after CHECK_SECONDS."""
        self._checked = float("-inf")

    async def current(self) -> KnowledgeBase:
        """The knowledge base to answer this turn with."""
        now = self.clock.now().timestamp()
        if 0 <= now - self._checked < self.check_seconds:
            return self._current
        self._checked = now
        version = await self.store.version()
        if version == self._version:
            return self._current
        async with self._lock:
            version = await self.store.version()
            if version != self._version:
                learned = [(p.entry_id, p.lang, p.question) for p in await self.store.phrasings() if p.entry_id]
                self._current = await asyncio.to_thread(self.base.with_learned, learned)
                self._version = version
                log.info("learned phrasings loaded", extra={"phrasings": len(learned)})
        return self._current
