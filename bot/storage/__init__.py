"""The project's one persistence layer: SQLite by default, PostgreSQL by URL."""

from bot.storage.database import Database

__all__ = ["Database"]
