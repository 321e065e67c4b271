"""The guidance the bot answers from: validated YAML content, and a matcher that knows when not to guess."""

from bot.knowledge.analysis import SynonymGroup, SynonymSet
from bot.knowledge.base import ANSWER_THRESHOLD, KnowledgeBase
from bot.knowledge.loader import load_knowledge, load_synonyms
from bot.knowledge.models import Answer, Entry, Source, Topic, format_period
from bot.knowledge.texts import fallback_text, source_line

__all__ = [
    "ANSWER_THRESHOLD",
    "Answer",
    "Entry",
    "KnowledgeBase",
    "Source",
    "SynonymGroup",
    "SynonymSet",
    "Topic",
    "fallback_text",
    "format_period",
    "load_knowledge",
    "load_synonyms",
    "source_line",
]
