"""The project's one persistence layer: SQLite by default, PostgreSQL by URL."""

from bot.db.database import Database

__all__ = ["Database"]
