"""The knowledge base with the learned phrasings of the database: every replica sees a new one at its next turn.

Each turn costs one small query (how many phrasings, the newest id); only when that changed is the knowledge
base rebuilt (about a third of a second, in a worker thread) from the content as loaded plus the phrasings.
"""

from __future__ import annotations

import asyncio
import logging

from bot.knowledge import KnowledgeBase
from bot.learning.store import LearningStore

log = logging.getLogger(__name__)


class LiveKnowledge:
    def __init__(self, base: KnowledgeBase, store: LearningStore) -> None:
        self.base = base
        self.store = store
        self._current = base
        self._version: tuple[int, int] = (0, 0)
        self._lock = asyncio.Lock()

    async def current(self) -> KnowledgeBase:
        """The knowledge base to answer this turn with."""
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
