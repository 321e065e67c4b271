"""Alembic's environment, in the three ways it runs:

- online on a connection handed over by bot.storage.migrate (`config.attributes["connection"]`), which already
  holds the schema lock: at start-up and by `python -m bot migrate`;
- offline (`python -m bot migrate --sql`): the SQL for the database named by the URL, printed;
- from the `alembic` command line (`alembic revision --autogenerate -m ...`, see README): on the database that
  DATABASE_URL names (SQLite in ./data by default), under the same schema lock.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.migrate import context_options

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, **context_options())
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from bot.storage.database import Database

    db = Database(config.attributes["url"])
    context.configure(url=db.url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **context_options())
    with context.begin_transaction():
        if db.schema:
            context.execute(f'SET search_path TO "{db.schema}"')
        context.run_migrations()


async def run_from_command_line() -> None:
    from bot.config import Settings
    from bot.storage.database import Database

    db = Database(Settings.from_env().effective_database_url)  # DATABASE_URL, or SQLite in DATA_DIR
    engine = db.new_engine()
    try:
        async with engine.begin() as conn:
            await db.take_schema_lock(conn)
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
elif "connection" in config.attributes:
    run_on(config.attributes["connection"])
else:
    asyncio.run(run_from_command_line())
